import { updateDisplayOptions, type INodeProperties, type INodePropertyOptions } from 'n8n-workflow';

import { getManyFields } from '../../descriptions/getManyFields';
import { listIn, weChatOperation } from '../../helpers/operation';
import { selectedKfAccount } from '../../helpers/validation';

export const option: INodePropertyOptions = {
	name: 'Get Many',
	value: 'getAll',
	action: 'Get many sessions of an agent',
	description: 'The users an agent is serving now (获取客服会话列表)',
	routing: weChatOperation({
		method: 'GET',
		url: '/customservice/kfsession/getsessionlist',
		read: (context) => selectedKfAccount(context),
		run: async (kfAccount, send) => {
			const answer = await send({ qs: { kf_account: kfAccount } });
			// Each session carries its agent, so a following Close node needs nothing but this item.
			return listIn(answer, 'sessionlist').map((session) => ({ kf_account: kfAccount, ...session }));
		},
	}),
};

const properties: INodeProperties[] = [
	...getManyFields,
];

export const fields = updateDisplayOptions(
	{ show: { resource: ['session'], operation: ['getAll'] } },
	properties,
);
