import {
	type IExecuteSingleFunctions,
	type IHttpRequestOptions,
	type INodeExecutionData,
	type INodeProperties,
	type INodePropertyOptions,
} from 'n8n-workflow';

import { weChatRouting } from '../../helpers/routing';
import { selectedKfAccount } from '../../helpers/validation';

// WeChat's documents disagree on this call (POST with a JSON body, GET or POST with a query parameter); sending the
// account in both the query and the body is accepted by every documented variant.
async function buildRequest(
	this: IExecuteSingleFunctions,
	requestOptions: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	const kfAccount = selectedKfAccount(this);
	requestOptions.qs = { ...(requestOptions.qs ?? {}), kf_account: kfAccount };
	requestOptions.body = { kf_account: kfAccount };
	return requestOptions;
}

async function reportDeleted(this: IExecuteSingleFunctions): Promise<INodeExecutionData[]> {
	return [{ json: { kf_account: selectedKfAccount(this), deleted: true } }];
}

export const option: INodePropertyOptions = {
	name: 'Delete',
	value: 'delete',
	action: 'Delete a customer service account',
	description: 'Remove a customer-service account (删除客服账号)',
	routing: weChatRouting(
		{ method: 'POST', url: '/customservice/kfaccount/del' },
		{ preSend: [buildRequest], postReceive: [reportDeleted] },
	),
};

// Its only parameter, the account, is shared with other operations: see index.ts.
export const fields: INodeProperties[] = [];
