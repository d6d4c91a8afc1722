import {
	type IDataObject,
	type IExecuteSingleFunctions,
	type IHttpRequestOptions,
	type IN8nHttpFullResponse,
	type INodeExecutionData,
	type INodeProperties,
	type INodePropertyOptions,
} from 'n8n-workflow';

import { weChatRouting } from '../../helpers/routing';
import { requireOpenId } from '../../helpers/validation';

async function buildQuery(
	this: IExecuteSingleFunctions,
	requestOptions: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	requestOptions.qs = { ...(requestOptions.qs ?? {}), openid: requireOpenId(this, this.getNodeParameter('openId')) };
	return requestOptions;
}

/** WeChat answers a user nobody serves with an empty kf_account; `inSession` says so without string checks. */
async function reportSession(
	this: IExecuteSingleFunctions,
	_items: INodeExecutionData[],
	response: IN8nHttpFullResponse,
): Promise<INodeExecutionData[]> {
	const session: IDataObject = { ...((response.body ?? {}) as IDataObject) };
	delete session.errcode;
	delete session.errmsg;
	const kfAccount = String(session.kf_account ?? '');
	return [
		{
			json: {
				openid: requireOpenId(this, this.getNodeParameter('openId')),
				...session,
				kf_account: kfAccount,
				inSession: kfAccount !== '',
			},
		},
	];
}

export const option: INodePropertyOptions = {
	name: 'Get',
	value: 'get',
	action: 'Get the session of a user',
	description: 'Which agent is serving a user, if any (获取客户会话状态)',
	routing: weChatRouting(
		{ method: 'GET', url: '/customservice/kfsession/getsession' },
		{ preSend: [buildQuery], postReceive: [reportSession] },
	),
};

// Its only parameter, the OpenID, is shared with other operations: see descriptions/openIdField.ts.
export const fields: INodeProperties[] = [];
