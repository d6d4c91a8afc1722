import { updateDisplayOptions, type INodeProperties, type INodePropertyOptions } from 'n8n-workflow';

import { mediaFormData, readMediaFile } from '../../helpers/binaryMedia';
import { weChatOperation } from '../../helpers/operation';
import { selectedKfAccount } from '../../helpers/validation';

export const option: INodePropertyOptions = {
	name: 'Set Avatar',
	value: 'setAvatar',
	action: 'Set the avatar of a customer service account',
	description: 'Upload a JPG avatar from binary data (上传客服头像)',
	routing: weChatOperation({
		method: 'POST',
		url: '/customservice/kfaccount/uploadheadimg',
		read: async (context) => ({
			kfAccount: selectedKfAccount(context),
			file: await readMediaFile(context, String(context.getNodeParameter('binaryPropertyName')), 'avatar'),
		}),
		run: async ({ kfAccount, file }, send) => {
			await send({ qs: { kf_account: kfAccount }, body: mediaFormData(file) });
			return { kf_account: kfAccount, avatarUpdated: true };
		},
	}),
};

const properties: INodeProperties[] = [
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		hint: 'The name of the input binary field containing the JPG image (at most 5 MB; 640×640 recommended)',
	},
];

export const fields = updateDisplayOptions(
	{ show: { resource: ['account'], operation: ['setAvatar'] } },
	properties,
);
