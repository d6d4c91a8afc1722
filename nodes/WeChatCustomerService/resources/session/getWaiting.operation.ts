import { updateDisplayOptions, type INodePropertyOptions } from 'n8n-workflow';

import { getManyFields } from '../../descriptions/getManyFields';
import { listIn, weChatOperation } from '../../helpers/operation';

export const option: INodePropertyOptions = {
	name: 'Get Waiting',
	value: 'getWaiting',
	action: 'Get the users waiting for an agent',
	description:
		'The waiting queue (获取未接入会话列表), longest-waiting first; WeChat lists at most 100, every item carries the total in count',
	routing: weChatOperation({
		method: 'GET',
		url: '/customservice/kfsession/getwaitcase',
		read: () => undefined,
		run: async (_, send) => {
			const answer = await send();
			// WeChat lists at most the 100 longest-waiting users but reports the whole queue's length in `count`.
			// Every item carries that `count`, so an alert ("more than 20 waiting") reads it from any item, even with
			// a Limit of 1, and it stays right when the queue is longer than the list.
			const cases = listIn(answer, 'waitcaselist');
			const count = answer.count === undefined ? cases.length : Number(answer.count);
			return cases.map((waitCase) => ({ ...waitCase, count }));
		},
	}),
};

export const fields = updateDisplayOptions(
	{ show: { resource: ['session'], operation: ['getWaiting'] } },
	getManyFields,
);
