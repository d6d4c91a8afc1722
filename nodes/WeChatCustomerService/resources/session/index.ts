import type { INodeProperties } from 'n8n-workflow';

import { kfAccountLocator } from '../../descriptions/kfAccountLocator';
import * as close from './close.operation';
import * as create from './create.operation';
import * as get from './get.operation';
import * as getAll from './getAll.operation';
import * as getWaiting from './getWaiting.operation';

const operations = [close, create, get, getAll, getWaiting];

export const sessionOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['session'] } },
	options: operations.map((operation) => operation.option),
	default: 'get',
};

/**
 * The agent of create (unless the least-loaded agent is picked), close and getAll, defined once: n8n evaluates a
 * parameter's expression for every property of that name and every item (see descriptions/openIdField.ts).
 */
const agent = kfAccountLocator({
	description: 'The agent (客服账号), prefix@WeChatID; to create a session the agent must be online',
	displayOptions: {
		show: { resource: ['session'], operation: ['create', 'close', 'getAll'] },
		hide: { agentSelection: ['leastLoaded'] },
	},
});

export const sessionFields: INodeProperties[] = [agent, ...operations.flatMap((operation) => operation.fields)];
