import {
	updateDisplayOptions,
	type IExecuteSingleFunctions,
	type IHttpRequestOptions,
	type INodeExecutionData,
	type INodeProperties,
	type INodePropertyOptions,
} from 'n8n-workflow';

import { mediaFormData, readMediaFile } from '../../helpers/binaryMedia';
import { weChatRouting } from '../../helpers/routing';
import { selectedKfAccount } from '../../helpers/validation';

async function attachAvatar(
	this: IExecuteSingleFunctions,
	requestOptions: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	const kfAccount = selectedKfAccount(this);
	const file = await readMediaFile(this, String(this.getNodeParameter('binaryPropertyName')), 'avatar');
	requestOptions.qs = { ...(requestOptions.qs ?? {}), kf_account: kfAccount };
	requestOptions.body = mediaFormData(file);
	return requestOptions;
}

async function reportAvatarSet(this: IExecuteSingleFunctions): Promise<INodeExecutionData[]> {
	return [{ json: { kf_account: selectedKfAccount(this), avatarUpdated: true } }];
}

export const option: INodePropertyOptions = {
	name: 'Set Avatar',
	value: 'setAvatar',
	action: 'Set the avatar of a customer service account',
	description: 'Upload a JPG avatar from binary data (上传客服头像)',
	routing: weChatRouting(
		{ method: 'POST', url: '/customservice/kfaccount/uploadheadimg' },
		{ preSend: [attachAvatar], postReceive: [reportAvatarSet] },
	),
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
