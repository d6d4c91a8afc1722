import type { INodeProperties } from 'n8n-workflow';

import { kfAccountLocator } from '../../descriptions/kfAccountLocator';
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

/**
 * The existing account that update, delete, invite and setAvatar act on, defined once: n8n evaluates a parameter's
 * expression for every property of that name and every item (see descriptions/openIdField.ts).
 */
const existingAccount = kfAccountLocator({
	displayOptions: {
		show: { resource: ['account'], operation: ['update', 'delete', 'invite', 'setAvatar'] },
	},
});

export const accountFields: INodeProperties[] = [
	existingAccount,
	...operations.flatMap((operation) => operation.fields),
];
