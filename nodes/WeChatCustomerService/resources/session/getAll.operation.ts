import {
	updateDisplayOptions,
	type IDataObject,
	type IExecuteSingleFunctions,
	type IHttpRequestOptions,
	type IN8nHttpFullResponse,
	type INodeExecutionData,
	type INodeProperties,
	type INodePropertyOptions,
} from 'n8n-workflow';

import { getManyFields } from '../../descriptions/getManyFields';
import { weChatRouting } from '../../helpers/routing';
import { selectedKfAccount } from '../../helpers/validation';

async function buildQuery(
	this: IExecuteSingleFunctions,
	requestOptions: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	requestOptions.qs = { ...(requestOptions.qs ?? {}), kf_account: selectedKfAccount(this) };
	return requestOptions;
}

/** Each session carries its agent, so a following Close node needs nothing but this item. */
async function splitSessions(
	this: IExecuteSingleFunctions,
	_items: INodeExecutionData[],
	response: IN8nHttpFullResponse,
): Promise<INodeExecutionData[]> {
	const kfAccount = selectedKfAccount(this);
	const sessions = ((response.body as IDataObject | undefined)?.sessionlist ?? []) as IDataObject[];
	return sessions.map((session) => ({ json: { kf_account: kfAccount, ...session } }));
}

export const option: INodePropertyOptions = {
	name: 'Get Many',
	value: 'getAll',
	action: 'Get many sessions of an agent',
	description: 'The users an agent is serving now (获取客服会话列表)',
	routing: weChatRouting(
		{ method: 'GET', url: '/customservice/kfsession/getsessionlist' },
		{ preSend: [buildQuery], postReceive: [splitSessions] },
	),
};

const properties: INodeProperties[] = [
	...getManyFields,
];

export const fields = updateDisplayOptions(
	{ show: { resource: ['session'], operation: ['getAll'] } },
	properties,
);
