import { updateDisplayOptions, type INodeProperties, type INodePropertyOptions } from 'n8n-workflow';

import { weChatOperation } from '../../helpers/operation';
import { requireText, selectedKfAccount } from '../../helpers/validation';

const INVITE_HINT =
	'Enter the personal WeChat ID (微信号) of the person who will answer as this agent; they confirm the invitation in WeChat within 7 days.';

export const option: INodePropertyOptions = {
	name: 'Invite Worker',
	value: 'invite',
	action: 'Invite a worker to a customer service account',
	description: 'Bind a person\'s WeChat ID to an account (邀请绑定客服帐号)',
	routing: weChatOperation({
		method: 'POST',
		url: '/customservice/kfaccount/inviteworker',
		read: (context) => ({
			kf_account: selectedKfAccount(context),
			invite_wx: requireText(context, context.getNodeParameter('inviteWx'), 'WeChat ID to invite', INVITE_HINT),
		}),
		run: async (invitation, send) => {
			await send({ body: invitation });
			return { ...invitation, invited: true };
		},
	}),
};

const properties: INodeProperties[] = [
	{
		displayName: 'WeChat ID to Invite',
		name: 'inviteWx',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'zhang_san_88',
		description: INVITE_HINT,
	},
];

export const fields = updateDisplayOptions(
	{ show: { resource: ['account'], operation: ['invite'] } },
	properties,
);
