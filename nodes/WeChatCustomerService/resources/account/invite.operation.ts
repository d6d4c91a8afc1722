import {
	updateDisplayOptions,
	type IExecuteSingleFunctions,
	type IHttpRequestOptions,
	type INodeExecutionData,
	type INodeProperties,
	type INodePropertyOptions,
} from 'n8n-workflow';

import { weChatRouting } from '../../helpers/routing';
import { requireText, selectedKfAccount } from '../../helpers/validation';

const INVITE_HINT =
	'Enter the personal WeChat ID (微信号) of the person who will answer as this agent; they confirm the invitation in WeChat within 7 days.';

function requestFields(context: IExecuteSingleFunctions) {
	return {
		kf_account: selectedKfAccount(context),
		invite_wx: requireText(context, context.getNodeParameter('inviteWx'), 'WeChat ID to invite', INVITE_HINT),
	};
}

async function buildBody(
	this: IExecuteSingleFunctions,
	requestOptions: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	requestOptions.body = requestFields(this);
	return requestOptions;
}

async function reportInvited(this: IExecuteSingleFunctions): Promise<INodeExecutionData[]> {
	return [{ json: { ...requestFields(this), invited: true } }];
}

export const option: INodePropertyOptions = {
	name: 'Invite Worker',
	value: 'invite',
	action: 'Invite a worker to a customer service account',
	description: 'Bind a person\'s WeChat ID to an account (邀请绑定客服帐号)',
	routing: weChatRouting(
		{ method: 'POST', url: '/customservice/kfaccount/inviteworker' },
		{ preSend: [buildBody], postReceive: [reportInvited] },
	),
};

const properties: INodeProperties[] = [
	{
		displayName: 'WeChat ID to Invite',
		name: 'inviteWx',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'zhang_san_88',
		description: INVITE_HINT,
	},
];

export const fields = updateDisplayOptions(
	{ show: { resource: ['account'], operation: ['invite'] } },
	properties,
);
