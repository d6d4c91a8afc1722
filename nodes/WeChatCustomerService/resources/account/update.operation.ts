import {
	updateDisplayOptions,
	type IExecuteSingleFunctions,
	type IHttpRequestOptions,
	type INodeExecutionData,
	type INodeProperties,
	type INodePropertyOptions,
} from 'n8n-workflow';

import { weChatRouting } from '../../helpers/routing';
import { requireNickname, selectedKfAccount } from '../../helpers/validation';

async function buildBody(
	this: IExecuteSingleFunctions,
	requestOptions: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	requestOptions.body = {
		kf_account: selectedKfAccount(this),
		nickname: requireNickname(this, this.getNodeParameter('nickname')),
	};
	return requestOptions;
}

async function reportUpdated(this: IExecuteSingleFunctions): Promise<INodeExecutionData[]> {
	return [
		{
			json: {
				kf_account: selectedKfAccount(this),
				nickname: String(this.getNodeParameter('nickname')).trim(),
				updated: true,
			},
		},
	];
}

export const option: INodePropertyOptions = {
	name: 'Update',
	value: 'update',
	action: 'Update a customer service account',
	description: 'Change an account\'s nickname (修改客服账号)',
	routing: weChatRouting(
		{ method: 'POST', url: '/customservice/kfaccount/update' },
		{ preSend: [buildBody], postReceive: [reportUpdated] },
	),
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
