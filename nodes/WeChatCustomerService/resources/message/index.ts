import type { INodeProperties } from 'n8n-workflow';

// Placeholder until the message operations land.
export const messageOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['message'] } },
	options: [],
	default: '',
};

export const messageFields: INodeProperties[] = [];
