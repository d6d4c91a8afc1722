import { updateDisplayOptions, type INodeProperties, type INodePropertyOptions } from 'n8n-workflow';

import { weChatOperation } from '../../helpers/operation';
import { requireNickname, selectedKfAccount } from '../../helpers/validation';

export const option: INodePropertyOptions = {
	name: 'Update',
	value: 'update',
	action: 'Update a customer service account',
	description: 'Change an account\'s nickname (修改客服账号)',
	routing: weChatOperation({
		method: 'POST',
		url: '/customservice/kfaccount/update',
		read: (context) => ({
			kf_account: selectedKfAccount(context),
			nickname: requireNickname(context, context.getNodeParameter('nickname')),
		}),
		run: async (account, send) => {
			await send({ body: account });
			return { ...account, updated: true };
		},
	}),
};

const properties: INodeProperties[] = [
	{
		displayName: 'Nickname',
		name: 'nickname',
		type: 'string',
		default: '',
		required: true,
		description: 'The new nickname users see (客服昵称), at most 16 characters',
	},
];

export const fields = updateDisplayOptions(
	{ show: { resource: ['account'], operation: ['update'] } },
	properties,
);
