import type { INodeProperties } from 'n8n-workflow';

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

export const sessionFields: INodeProperties[] = operations.flatMap((operation) => operation.fields);
