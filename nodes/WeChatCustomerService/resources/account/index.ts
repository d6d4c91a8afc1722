import type { INodeProperties } from 'n8n-workflow';

import * as create from './create.operation';
import * as deleteAccount from './delete.operation';
import * as getAll from './getAll.operation';
import * as getOnline from './getOnline.operation';
import * as invite from './invite.operation';
import * as setAvatar from './setAvatar.operation';
import * as update from './update.operation';

const operations = [create, deleteAccount, getAll, getOnline, invite, setAvatar, update];

export const accountOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['account'] } },
	options: operations.map((operation) => operation.option),
	default: 'getAll',
};

export const accountFields: INodeProperties[] = operations.flatMap((operation) => operation.fields);
