import {
	NodeConnectionTypes,
	type INodeProperties,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { openIdField, openIdSourceFields } from './descriptions/openIdField';
import { searchKfAccounts } from './methods/listSearch';
import { DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_RETRIES } from './transport/requestPolicy';
import { accountFields, accountOperations } from './resources/account';
import { chatRecordFields, chatRecordOperations } from './resources/chatRecord';
import { messageFields, messageOperations } from './resources/message';
import { sessionFields, sessionOperations } from './resources/session';

/**
 * The node's Options. n8n adds its own request options (Batching, Proxy, Timeout, Ignore SSL Issues) to every
 * declarative node's collection of this name when it loads the node; these are the WeChat-specific ones
 * (transport/requestPolicy.ts).
 */
const requestOptions: INodeProperties = {
	displayName: 'Options',
	name: 'requestOptions',
	type: 'collection',
	placeholder: 'Add option',
	default: {},
	options: [
		{
			displayName: 'Max Requests in Flight',
			name: 'maxInFlight',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: DEFAULT_MAX_IN_FLIGHT,
			description:
				'How many requests of this credential this n8n process sends to WeChat at once; the other items wait their turn. Use Batching to space requests out in time as well.',
		},
		{
			displayName: 'Retries',
			name: 'maxRetries',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 10 },
			default: DEFAULT_MAX_RETRIES,
			description:
				'How often a request is tried again, after about 1, 2, 4 … seconds, when WeChat answers 45011 (API 调用太频繁), when the connection could not be opened, or (for reads) when WeChat answers -1 (系统繁忙). Each retry is logged.',
		},
		{
			displayName: 'Same Credential for Every Item',
			name: 'sameCredentialForEveryItem',
			type: 'boolean',
			default: false,
			description:
				"Whether to read the credential once for all items of this run instead of once per item, which makes large sends faster. Leave it off if a field of the credential is an expression that depends on the item (e.g. an AppID mapped from the input): every item would then use the first item's values.",
		},
		{
			displayName: 'Retry Sends When WeChat Is Busy',
			name: 'retryBusySends',
			type: 'boolean',
			default: false,
			description:
				'Whether a send, create, update or delete is tried again after -1 (系统繁忙). WeChat may have carried it out before answering -1, so a message can arrive twice.',
		},
	],
};

export class WeChatCustomerService implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'WeChat Customer Service',
		name: 'weChatCustomerService',
		icon: { light: 'file:wechat.svg', dark: 'file:wechat.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description:
			'Customer service (客服) for a WeChat Official Account: agents, messages, sessions and chat records',
		defaults: { name: 'WeChat Customer Service' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'weChatOfficialAccountApi', required: true }],
		// No baseURL here: the credential's authenticate sets the API host (nodes/shared/accessToken/use.ts).
		requestDefaults: {
			headers: { Accept: 'application/json' },
			json: true,
		},
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Account', value: 'account', description: 'Customer-service accounts (客服账号)' },
					{ name: 'Chat Record', value: 'chatRecord', description: 'Chat records (聊天记录)' },
					{ name: 'Message', value: 'message', description: 'Customer-service messages (客服消息)' },
					{ name: 'Session', value: 'session', description: 'Session control (会话控制)' },
				],
				default: 'message',
			},
			accountOperations,
			messageOperations,
			sessionOperations,
			chatRecordOperations,
			...openIdSourceFields,
			openIdField,
			...accountFields,
			...messageFields,
			...sessionFields,
			...chatRecordFields,
			requestOptions,
		],
	};

	methods = {
		listSearch: { searchKfAccounts },
	};
}
