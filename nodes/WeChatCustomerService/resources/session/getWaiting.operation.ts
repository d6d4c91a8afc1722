import {
	updateDisplayOptions,
	type IDataObject,
	type IExecuteSingleFunctions,
	type IN8nHttpFullResponse,
	type INodeExecutionData,
	type INodePropertyOptions,
} from 'n8n-workflow';

import { getManyFields } from '../../descriptions/getManyFields';
import { weChatRouting } from '../../helpers/routing';

/**
 * WeChat lists at most the 100 longest-waiting users but reports the whole queue's length in `count`. Every item
 * carries that `count`, so an alert ("more than 20 waiting") reads it from any item, even with a Limit of 1, and it
 * stays right when the queue is longer than the list.
 */
async function splitWaitingCases(
	this: IExecuteSingleFunctions,
	_items: INodeExecutionData[],
	response: IN8nHttpFullResponse,
): Promise<INodeExecutionData[]> {
	const body = (response.body ?? {}) as IDataObject;
	const cases = (Array.isArray(body.waitcaselist) ? body.waitcaselist : []) as IDataObject[];
	const count = body.count === undefined ? cases.length : Number(body.count);
	return cases.map((waitCase) => ({ json: { ...waitCase, count } }));
}

export const option: INodePropertyOptions = {
	name: 'Get Waiting',
	value: 'getWaiting',
	action: 'Get the users waiting for an agent',
	description:
		'The waiting queue (获取未接入会话列表), longest-waiting first; WeChat lists at most 100, every item carries the total in count',
	routing: weChatRouting(
		{ method: 'GET', url: '/customservice/kfsession/getwaitcase' },
		{ postReceive: [splitWaitingCases] },
	),
};

export const fields = updateDisplayOptions(
	{ show: { resource: ['session'], operation: ['getWaiting'] } },
	getManyFields,
);
