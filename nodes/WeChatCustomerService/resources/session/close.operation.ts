import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import { weChatOperation } from '../../helpers/operation';
import { requireOpenId, selectedKfAccount } from '../../helpers/validation';

export const option: INodePropertyOptions = {
	name: 'Close',
	value: 'close',
	action: 'Close a session',
	description: 'End the session between an agent and a user (关闭会话)',
	routing: weChatOperation({
		method: 'POST',
		url: '/customservice/kfsession/close',
		read: (context) => ({
			kf_account: selectedKfAccount(context),
			openid: requireOpenId(context, context.getNodeParameter('openId')),
		}),
		run: async (session, send) => {
			await send({ body: session });
			return { ...session, closed: true };
		},
	}),
};

// Its parameters, the agent and the OpenID, are shared with other operations: see index.ts and descriptions/openIdField.ts.
export const fields: INodeProperties[] = [];
