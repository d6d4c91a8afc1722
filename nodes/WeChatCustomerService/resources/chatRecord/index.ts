import type { INodeProperties } from 'n8n-workflow';

// Placeholder until the chatRecord operations land.
export const chatRecordOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['chatRecord'] } },
	options: [],
	default: '',
};

export const chatRecordFields: INodeProperties[] = [];
