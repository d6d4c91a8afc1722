import {
	updateDisplayOptions,
	type IDataObject,
	type IExecuteSingleFunctions,
	type INodeProperties,
	type INodePropertyOptions,
} from 'n8n-workflow';

import { kfAccountLocator } from '../../descriptions/kfAccountLocator';
import { weChatOperation } from '../../helpers/operation';
import { requireKfAccount, requireRecipient } from '../../helpers/validation';
import {
	buildMessagePayload,
	MEDIA_MESSAGE_TYPES,
	requireMessageType,
	THUMB_MESSAGE_TYPES,
	type MessageType,
} from './messagePayloads';
import { mediaSourceOptions } from './textAndMediaFields';
import { isFromBinary, MAIN_MEDIA, THUMB_MEDIA } from './uploadMedia';

/** The send-as account, validated; empty when the message goes out under the Official Account's own name. */
function sendAsAccount(context: IExecuteSingleFunctions): string {
	const raw = context.getNodeParameter('additionalFields.kfAccount', '') as unknown;
	// A resource locator's value, whichever mode it was picked in.
	const value = typeof raw === 'object' && raw !== null ? (raw as IDataObject).value : raw;
	if (String(value ?? '').trim() === '') return '';
	return requireKfAccount(context, value, 'Send As');
}

/** The message WeChat gets, validated; media from binary data is uploaded here, once, before the send. */
async function messageOf(context: IExecuteSingleFunctions): Promise<IDataObject> {
	const touser = requireRecipient(context);
	const msgtype = requireMessageType(context, context.getNodeParameter('msgType', ''));
	const kfAccount = sendAsAccount(context);
	// Last, because it may upload media: everything above must be valid first.
	const payload = await buildMessagePayload(context, msgtype);
	return {
		touser,
		msgtype,
		[msgtype]: payload,
		...(kfAccount ? { customservice: { kf_account: kfAccount } } : {}),
	};
}

export const option: INodePropertyOptions = {
	name: 'Send',
	value: 'send',
	action: 'Send a message',
	description: 'Send a customer-service message (客服消息) to a user who interacted within the last 48 hours',
	routing: weChatOperation({
		method: 'POST',
		url: '/cgi-bin/message/custom/send',
		read: messageOf,
		run: async (message, send, context) => {
			await send({ body: message });
			const msgtype = message.msgtype as MessageType;
			const payload = message[msgtype] as IDataObject;
			const output: IDataObject = { touser: message.touser, msgtype, sent: true };
			// The media_id of a file uploaded from binary data, so later nodes can send it again without uploading.
			if (MEDIA_MESSAGE_TYPES.includes(msgtype) && isFromBinary(context, MAIN_MEDIA)) {
				output.media_id = payload.media_id;
				output.media_type = msgtype;
			}
			if (THUMB_MESSAGE_TYPES.includes(msgtype) && isFromBinary(context, THUMB_MEDIA)) {
				output.thumb_media_id = payload.thumb_media_id;
			}
			return output;
		},
	}),
};

const showFor = (...msgType: MessageType[]) => ({ show: { msgType } });

const typeProperty: INodeProperties = {
	displayName: 'Message Type',
	name: 'msgType',
	type: 'options',
	noDataExpression: true,
	default: 'text',
	hint: 'WeChat delivers customer-service messages only within 48 hours of the user\'s last message, menu click, follow or scan (otherwise error 45015), and only a few per interaction (45047)',
	options: [
		{ name: 'Card Coupon', value: 'wxcard', description: 'A card or coupon (卡券)' },
		{ name: 'Image', value: 'image', description: 'A JPG, PNG or GIF image of at most 10 MB' },
		{
			name: 'Menu',
			value: 'msgmenu',
			description: 'A text with tappable choices (菜单消息); verified accounts only',
		},
		{
			name: 'Mini Program Page',
			value: 'miniprogrampage',
			description: 'A mini program card (小程序卡片) of a mini program linked to this account',
		},
		{ name: 'Music', value: 'music', description: 'A playable music link (音乐消息)' },
		{
			name: 'News',
			value: 'news',
			description: 'One article card (图文消息) that opens a URL',
		},
		{
			name: 'News Material (Legacy)',
			value: 'mpnews',
			description: 'A permanent news material by media_id; WeChat has retired this for many accounts',
		},
		{
			name: 'Published Article',
			value: 'mpnewsarticle',
			description: 'An article published by this account (已发布的图文), by article_id',
		},
		{ name: 'Text', value: 'text', description: 'A text message (文本消息)' },
		{ name: 'Video', value: 'video', description: 'An MP4 video of at most 10 MB with a thumbnail' },
		{ name: 'Voice', value: 'voice', description: 'An AMR or MP3 voice clip of at most 2 MB and 60 seconds' },
	],
};

/** Between the shared Text and the shared Media ID (textAndMediaFields.ts). */
const mediaProperties: INodeProperties[] = [
	{
		displayName: 'Media Source',
		name: 'mediaSource',
		type: 'options',
		noDataExpression: true,
		default: 'binary',
		displayOptions: showFor('image', 'voice', 'video'),
		options: mediaSourceOptions,
	},
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		displayOptions: { show: { msgType: ['image', 'voice', 'video'], mediaSource: ['binary'] } },
		hint: 'The input binary field holding the file. Limits: image JPG/PNG/GIF 10 MB, voice AMR/MP3 2 MB, video MP4 10 MB.',
	},
];

const properties: INodeProperties[] = [
	// video, music: thumbnail
	{
		displayName: 'Thumbnail Source',
		name: 'thumbSource',
		type: 'options',
		noDataExpression: true,
		default: 'binary',
		displayOptions: showFor('video', 'music'),
		options: mediaSourceOptions,
	},
	{
		displayName: 'Thumbnail Binary Field',
		name: 'thumbBinaryPropertyName',
		type: 'string',
		default: 'thumbnail',
		required: true,
		displayOptions: { show: { msgType: ['video', 'music'], thumbSource: ['binary'] } },
		hint: 'The input binary field holding the thumbnail (缩略图): a JPG of at most 64 KB',
	},
	{
		displayName: 'Thumbnail Media ID',
		name: 'thumbMediaId',
		type: 'string',
		default: '',
		required: true,
		displayOptions: { show: { msgType: ['video', 'music'], thumbSource: ['mediaId'] } },
		description: 'The media_id of an uploaded thumbnail (thumb_media_id)',
	},

	// music
	{
		displayName: 'Music URL',
		name: 'musicUrl',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'https://example.com/song.mp3',
		displayOptions: showFor('music'),
		description: 'Address of the audio file (musicurl)',
	},
	{
		displayName: 'High-Quality Music URL',
		name: 'hqMusicUrl',
		type: 'string',
		default: '',
		placeholder: 'https://example.com/song-hq.mp3',
		displayOptions: showFor('music'),
		description:
			'Address of a better-quality file that WeChat plays on Wi-Fi (hqmusicurl). Empty uses the Music URL.',
	},

	// titles and descriptions
	{
		displayName: 'Title',
		name: 'title',
		type: 'string',
		default: '',
		displayOptions: showFor('video', 'music'),
	},
	{
		displayName: 'Title',
		name: 'title',
		type: 'string',
		default: '',
		required: true,
		displayOptions: showFor('news', 'miniprogrampage'),
	},
	{
		displayName: 'Description',
		name: 'description',
		type: 'string',
		default: '',
		displayOptions: showFor('video', 'music', 'news'),
	},

	// news
	{
		displayName: 'URL',
		name: 'url',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'https://example.com/article',
		displayOptions: showFor('news'),
		description: 'The page the article card opens',
	},
	{
		displayName: 'Picture URL',
		name: 'picUrl',
		type: 'string',
		default: '',
		placeholder: 'https://example.com/cover.jpg',
		displayOptions: showFor('news'),
		description: 'The card\'s picture (picurl): JPG or PNG, 360×200 recommended',
	},

	// mpnews, mpnewsarticle
	{
		displayName: 'Media ID',
		name: 'mediaId',
		type: 'string',
		default: '',
		required: true,
		displayOptions: showFor('mpnews'),
		description: 'The media_id of a permanent news material (永久图文素材)',
	},
	{
		displayName: 'Article ID',
		name: 'articleId',
		type: 'string',
		default: '',
		required: true,
		displayOptions: showFor('mpnewsarticle'),
		description:
			'The article_id of a published article, from freepublish or the PUBLISHJOBFINISH event (article_id)',
	},

	// msgmenu
	{
		displayName: 'Menu Header',
		name: 'headContent',
		type: 'string',
		default: '',
		placeholder: 'How satisfied are you with our service?',
		displayOptions: showFor('msgmenu'),
		description: 'Text above the choices (head_content)',
	},
	{
		displayName: 'Menu Items',
		name: 'menuItems',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		default: {},
		placeholder: 'Add Menu Item',
		displayOptions: showFor('msgmenu'),
		description: 'The choices. A tap comes back as a text push whose bizmsgmenuid is the choice\'s ID.',
		options: [
			{
				displayName: 'Item',
				name: 'item',
				values: [
					{
						displayName: 'ID',
						name: 'id',
						type: 'string',
						default: '',
						placeholder: '101',
						description: 'Returned as bizmsgmenuid when the user taps this choice',
					},
					{
						displayName: 'Text',
						name: 'content',
						type: 'string',
						default: '',
						placeholder: 'Satisfied',
						description: 'What the user sees and taps',
					},
				],
			},
		],
	},
	{
		displayName: 'Menu Footer',
		name: 'tailContent',
		type: 'string',
		default: '',
		placeholder: 'Thank you!',
		displayOptions: showFor('msgmenu'),
		description: 'Text below the choices (tail_content)',
	},

	// wxcard
	{
		displayName: 'Card ID',
		name: 'cardId',
		type: 'string',
		default: '',
		required: true,
		displayOptions: showFor('wxcard'),
		description: 'The card_id of the card or coupon (卡券)',
	},

	// miniprogrampage
	{
		displayName: 'Mini Program AppID',
		name: 'appId',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'wx1234567890abcdef',
		displayOptions: showFor('miniprogrampage'),
		description: 'The AppID of a mini program linked to this Official Account (appid)',
	},
	{
		displayName: 'Page Path',
		name: 'pagePath',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'pages/product/detail?sku=42',
		displayOptions: showFor('miniprogrampage'),
		description: 'The mini program page the card opens (pagepath)',
	},
	{
		displayName: 'Thumbnail Media ID',
		name: 'thumbMediaId',
		type: 'string',
		default: '',
		required: true,
		displayOptions: showFor('miniprogrampage'),
		description: 'The media_id of the card image (thumb_media_id); 520×416 recommended',
	},

	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options: [
			kfAccountLocator({
				displayName: 'Send As',
				required: false,
				description:
					'Send as this customer-service account (客服账号): the user sees its nickname and avatar. Empty sends as the Official Account.',
			}),
		],
	},
];

const sendOnly = { show: { resource: ['message'], operation: ['send'] } };

/** Message Type, which comes before the text and media fields shared with Message → Reply. */
export const typeFields = updateDisplayOptions(sendOnly, [typeProperty]);

export const mediaFields = updateDisplayOptions(sendOnly, mediaProperties);

export const fields = updateDisplayOptions(sendOnly, properties);
