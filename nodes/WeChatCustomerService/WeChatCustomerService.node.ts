import { NodeConnectionTypes, type INodeType, type INodeTypeDescription } from 'n8n-workflow';

import { openIdField } from './descriptions/openIdField';
import { searchKfAccounts } from './methods/listSearch';
import { accountFields, accountOperations } from './resources/account';
import { chatRecordFields, chatRecordOperations } from './resources/chatRecord';
import { messageFields, messageOperations } from './resources/message';
import { sessionFields, sessionOperations } from './resources/session';

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
			openIdField,
			...accountFields,
			...messageFields,
			...sessionFields,
			...chatRecordFields,
		],
	};

	methods = {
		listSearch: { searchKfAccounts },
	};
}
