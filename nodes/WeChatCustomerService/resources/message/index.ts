import type { INodeProperties } from 'n8n-workflow';

import * as getMedia from './getMedia.operation';
import * as send from './send.operation';
import * as typing from './typing.operation';

const operations = [send, typing, getMedia];

export const messageOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['message'] } },
	options: operations.map((operation) => operation.option),
	default: 'send',
};

export const messageFields: INodeProperties[] = operations.flatMap((operation) => operation.fields);
