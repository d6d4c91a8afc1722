import { updateDisplayOptions, type INodeProperties, type INodePropertyOptions } from 'n8n-workflow';

import { weChatOperation } from '../../helpers/operation';
import { requireKfAccount, requireNickname } from '../../helpers/validation';

export const option: INodePropertyOptions = {
	name: 'Create',
	value: 'create',
	action: 'Create a customer service account',
	description: 'Add a customer-service account (添加客服账号)',
	routing: weChatOperation({
		method: 'POST',
		url: '/customservice/kfaccount/add',
		read: (context) => ({
			kf_account: requireKfAccount(context, context.getNodeParameter('kfAccount')),
			nickname: requireNickname(context, context.getNodeParameter('nickname')),
		}),
		run: async (account, send) => {
			await send({ body: account });
			return { ...account, created: true };
		},
	}),
};

const properties: INodeProperties[] = [
	{
		displayName: 'Customer Service Account',
		name: 'kfAccount',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'kf2001@gh_service',
		description:
			'The new account (客服账号): a prefix of 1–10 letters, digits or underscores, @, and the Official Account\'s WeChat ID',
	},
	{
		displayName: 'Nickname',
		name: 'nickname',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'Customer Service',
		description: 'The nickname users see (客服昵称), at most 16 characters',
	},
];

export const fields = updateDisplayOptions(
	{ show: { resource: ['account'], operation: ['create'] } },
	properties,
);
