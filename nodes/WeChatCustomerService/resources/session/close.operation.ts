import {
	updateDisplayOptions,
	type IExecuteSingleFunctions,
	type IHttpRequestOptions,
	type INodeExecutionData,
	type INodeProperties,
	type INodePropertyOptions,
} from 'n8n-workflow';

import { weChatRouting } from '../../helpers/routing';
import { requireOpenId, selectedKfAccount } from '../../helpers/validation';

function sessionOf(context: IExecuteSingleFunctions) {
	return {
		kf_account: selectedKfAccount(context),
		openid: requireOpenId(context, context.getNodeParameter('openId')),
	};
}

async function buildBody(
	this: IExecuteSingleFunctions,
	requestOptions: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	requestOptions.body = sessionOf(this);
	return requestOptions;
}

async function reportClosed(this: IExecuteSingleFunctions): Promise<INodeExecutionData[]> {
	return [{ json: { ...sessionOf(this), closed: true } }];
}

export const option: INodePropertyOptions = {
	name: 'Close',
	value: 'close',
	action: 'Close a session',
	description: 'End the session between an agent and a user (关闭会话)',
	routing: weChatRouting(
		{ method: 'POST', url: '/customservice/kfsession/close' },
		{ preSend: [buildBody], postReceive: [reportClosed] },
	),
};

const properties: INodeProperties[] = [
];

export const fields = updateDisplayOptions(
	{ show: { resource: ['session'], operation: ['close'] } },
	properties,
);
