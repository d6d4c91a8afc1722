import { updateDisplayOptions, type INodePropertyOptions } from 'n8n-workflow';

import { getManyFields } from '../../descriptions/getManyFields';
import { listIn, weChatOperation } from '../../helpers/operation';

export const option: INodePropertyOptions = {
	name: 'Get Many',
	value: 'getAll',
	action: 'Get many customer service accounts',
	description: 'List all customer-service accounts with their binding status (获取客服基本信息)',
	routing: weChatOperation({
		method: 'GET',
		url: '/cgi-bin/customservice/getkflist',
		read: () => undefined,
		run: async (_, send) => listIn(await send(), 'kf_list'),
	}),
};

export const fields = updateDisplayOptions(
	{ show: { resource: ['account'], operation: ['getAll'] } },
	getManyFields,
);
