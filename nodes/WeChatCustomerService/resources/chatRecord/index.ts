import type { INodeProperties } from 'n8n-workflow';

import * as getAll from './getAll.operation';

const operations = [getAll];

export const chatRecordOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['chatRecord'] } },
	options: operations.map((operation) => operation.option),
	default: 'getAll',
};

export const chatRecordFields: INodeProperties[] = operations.flatMap((operation) => operation.fields);
