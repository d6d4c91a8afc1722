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
	},
};
