import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import { weChatOperation } from '../../helpers/operation';
import { requireOpenId } from '../../helpers/validation';

export const option: INodePropertyOptions = {
	name: 'Get',
	value: 'get',
	action: 'Get the session of a user',
	description: 'Which agent is serving a user, if any (获取客户会话状态)',
	routing: weChatOperation({
		method: 'GET',
		url: '/customservice/kfsession/getsession',
		read: (context) => requireOpenId(context, context.getNodeParameter('openId')),
		run: async (openid, send) => {
			const session = { ...(await send({ qs: { openid } })) };
			delete session.errcode;
			delete session.errmsg;
			// WeChat answers a user nobody serves with an empty kf_account; `inSession` says so without string checks.
			const kfAccount = String(session.kf_account ?? '');
			return { openid, ...session, kf_account: kfAccount, inSession: kfAccount !== '' };
		},
	}),
};

// Its only parameter, the OpenID, is shared with other operations: see descriptions/openIdField.ts.
export const fields: INodeProperties[] = [];
