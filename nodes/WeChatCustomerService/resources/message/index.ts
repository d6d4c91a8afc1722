import type { INodeProperties } from 'n8n-workflow';

import * as getMedia from './getMedia.operation';
import * as reply from './reply.operation';
import * as send from './send.operation';
import { mediaIdField, textField } from './textAndMediaFields';
import * as typing from './typing.operation';

const operations = [send, reply, typing, getMedia];

export const messageOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['message'] } },
	options: operations.map((operation) => operation.option),
	default: 'send',
};

/**
 * Send and Reply share Text and Media ID (textAndMediaFields.ts). The editor shows fields in this order: each
 * operation's type selector, the text, each one's media source and binary field, the media_id, then the rest.
 */
export const messageFields: INodeProperties[] = [
	...send.typeFields,
	...reply.typeFields,
	textField,
	...send.mediaFields,
	...reply.mediaFields,
	mediaIdField,
	...operations.flatMap((operation) => operation.fields),
];
