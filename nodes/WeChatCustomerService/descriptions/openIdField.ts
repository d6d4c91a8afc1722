import type { INodeProperties } from 'n8n-workflow';

/**
 * The follower an operation is about, defined once for every operation that takes one. n8n's declarative engine
 * evaluates a parameter's expression once per property of that name, for every item, whether or not the property is
 * shown; one definition instead of five makes large runs (thousands of items with `{{ $json.FromUserName }}`)
 * markedly faster.
 */
export const openIdField: INodeProperties = {
	displayName: 'User OpenID',
	name: 'openId',
	type: 'string',
	default: '',
	required: true,
	placeholder: 'e.g. oAbCd1234efGHijkLMnoPQrstUV',
	description:
		'The follower\'s OpenID within this Official Account: map FromUserName from the WeChat Customer Service Trigger',
	displayOptions: {
		show: {
			resource: ['message', 'session'],
			operation: ['send', 'typing', 'create', 'close', 'get'],
		},
		hide: { openIdSource: ['inputField'] },
	},
};

/**
 * For messages to many users: the OpenID read straight from a field of each input item. n8n's declarative engine
 * evaluates an expression like `{{ $json.openid }}` twice per item before the node runs (the node then reads a plain
 * `{{ $json.name }}` from the item itself, helpers/validation.ts; any other expression is evaluated a third time); a
 * field name is no expression, so nothing is evaluated, which is what a 10,000-item send spends most of its time on.
 */
export const openIdSourceFields: INodeProperties[] = [
	{
		displayName: 'Recipient',
		name: 'openIdSource',
		type: 'options',
		noDataExpression: true,
		default: 'parameter',
		options: [
			{ name: 'User OpenID', value: 'parameter', description: 'Type or map the OpenID below' },
			{
				name: 'Input Item Field',
				value: 'inputField',
				description:
					'Read the OpenID from a field of each input item: fastest for sending to thousands of users',
			},
		],
		displayOptions: { show: { resource: ['message'], operation: ['send', 'typing'] } },
	},
	{
		displayName: 'OpenID Field Name',
		name: 'openIdInputField',
		type: 'string',
		noDataExpression: true,
		default: 'openid',
		placeholder: 'e.g. openid or FromUserName',
		description:
			'The input item field that holds the follower\'s OpenID, e.g. FromUserName from the WeChat Customer Service Trigger, or openid from a list of followers',
		displayOptions: {
			show: { resource: ['message'], operation: ['send', 'typing'], openIdSource: ['inputField'] },
		},
	},
];
