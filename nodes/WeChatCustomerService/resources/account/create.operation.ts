import {
	updateDisplayOptions,
	type IExecuteSingleFunctions,
	type IHttpRequestOptions,
	type INodeExecutionData,
	type INodeProperties,
	type INodePropertyOptions,
} from 'n8n-workflow';

import { weChatRouting } from '../../helpers/routing';
import { requireKfAccount, requireNickname } from '../../helpers/validation';

async function buildBody(
	this: IExecuteSingleFunctions,
	requestOptions: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	requestOptions.body = {
		kf_account: requireKfAccount(this, this.getNodeParameter('kfAccount')),
		nickname: requireNickname(this, this.getNodeParameter('nickname')),
	};
	return requestOptions;
}

async function reportCreated(this: IExecuteSingleFunctions): Promise<INodeExecutionData[]> {
	return [
		{
			json: {
				kf_account: String(this.getNodeParameter('kfAccount')).trim(),
				nickname: String(this.getNodeParameter('nickname')).trim(),
				created: true,
			},
		},
	];
}

export const option: INodePropertyOptions = {
	name: 'Create',
	value: 'create',
	action: 'Create a customer service account',
	description: 'Add a customer-service account (添加客服账号)',
	routing: weChatRouting(
		{ method: 'POST', url: '/customservice/kfaccount/add' },
		{ preSend: [buildBody], postReceive: [reportCreated] },
	),
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
