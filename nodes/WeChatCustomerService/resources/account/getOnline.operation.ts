import { updateDisplayOptions, type INodePropertyOptions } from 'n8n-workflow';

import { getManyFields } from '../../descriptions/getManyFields';
import { listIn, weChatOperation } from '../../helpers/operation';

export const option: INodePropertyOptions = {
	name: 'Get Online',
	value: 'getOnline',
	action: 'Get online customer service accounts',
	description: 'List the agents online now, with how many sessions each is serving (获取在线客服)',
	routing: weChatOperation({
		method: 'GET',
		url: '/cgi-bin/customservice/getonlinekflist',
		read: () => undefined,
		run: async (_, send) => listIn(await send(), 'kf_online_list'),
	}),
};

export const fields = updateDisplayOptions(
	{ show: { resource: ['account'], operation: ['getOnline'] } },
	getManyFields,
);
