import {
	type IExecuteSingleFunctions,
	type INodeProperties,
	type INodePropertyOptions,
} from 'n8n-workflow';

import { echoingJsonRouting } from '../../helpers/routing';
import { requireOpenId, selectedKfAccount } from '../../helpers/validation';

function sessionOf(context: IExecuteSingleFunctions) {
	return {
		kf_account: selectedKfAccount(context),
		openid: requireOpenId(context, context.getNodeParameter('openId')),
	};
}

export const option: INodePropertyOptions = {
	name: 'Close',
	value: 'close',
	action: 'Close a session',
	description: 'End the session between an agent and a user (关闭会话)',
	routing: echoingJsonRouting({ method: 'POST', url: '/customservice/kfsession/close' }, sessionOf, {
		closed: true,
	}),
};

// Its parameters, the agent and the OpenID, are shared with other operations: see index.ts and descriptions/openIdField.ts.
export const fields: INodeProperties[] = [];
