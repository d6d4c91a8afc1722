import { updateDisplayOptions, type INodePropertyOptions } from 'n8n-workflow';

import { getManyFields } from '../../descriptions/getManyFields';
import { weChatRouting } from '../../helpers/routing';

export const option: INodePropertyOptions = {
	name: 'Get Many',
	value: 'getAll',
	action: 'Get many customer service accounts',
	description: 'List all customer-service accounts with their binding status (获取客服基本信息)',
	routing: weChatRouting(
		{ method: 'GET', url: '/cgi-bin/customservice/getkflist' },
		{ postReceive: [{ type: 'rootProperty', properties: { property: 'kf_list' } }] },
	),
};

export const fields = updateDisplayOptions(
	{ show: { resource: ['account'], operation: ['getAll'] } },
	getManyFields,
);
