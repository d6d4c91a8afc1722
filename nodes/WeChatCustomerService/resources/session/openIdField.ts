import type { INodeProperties } from 'n8n-workflow';

/** The user a session operation is about; the trigger's FromUserName is the usual source. */
export function openIdField(description: string): INodeProperties {
	return {
		displayName: 'OpenID',
		name: 'openId',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'oABCD1234abcd5678EFGH',
		description: `${description}. Usually the FromUserName of the WeChat Customer Service Trigger's output.`,
	};
}
