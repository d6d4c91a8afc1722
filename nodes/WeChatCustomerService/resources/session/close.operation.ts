import {
	updateDisplayOptions,
	type IExecuteSingleFunctions,
	type IHttpRequestOptions,
	type INodeExecutionData,
	type INodeProperties,
	type INodePropertyOptions,
} from 'n8n-workflow';

import { kfAccountLocator } from '../../descriptions/kfAccountLocator';
import { weChatRouting } from '../../helpers/routing';
import { requireOpenId, selectedKfAccount } from '../../helpers/validation';
import { openIdField } from './openIdField';

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
	kfAccountLocator({ description: 'The agent (客服账号) serving the user, prefix@WeChatID' }),
	openIdField('The user whose session ends'),
];

export const fields = updateDisplayOptions(
	{ show: { resource: ['session'], operation: ['close'] } },
	properties,
);
