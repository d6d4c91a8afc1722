import type { INodeProperties } from 'n8n-workflow';

// Placeholder until the session operations land.
export const sessionOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['session'] } },
	options: [],
	default: '',
};

export const sessionFields: INodeProperties[] = [];
