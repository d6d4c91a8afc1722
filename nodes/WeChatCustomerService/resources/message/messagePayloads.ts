import { NodeOperationError, type IDataObject, type IExecuteSingleFunctions } from 'n8n-workflow';

import { redactUrlUserInfo } from '../../../shared/redact';
import { groupDigits, MAX_URL_LENGTH, tooLongUrlText, webUrlProblem } from '../../../shared/webUrl';
import { requireText } from '../../helpers/validation';
import { MAIN_MEDIA, mediaIdOf, prepareMedia, THUMB_MEDIA, typedMediaId } from './uploadMedia';

/** WeChat's `msgtype` values for customer-service messages (the node's `msgType` option values are the same). */
export const MESSAGE_TYPES = [
	'text',
	'image',
	'voice',
	'video',
	'music',
	'news',
	'mpnews',
	'mpnewsarticle',
	'msgmenu',
	'wxcard',
	'miniprogrampage',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Message types whose main media can be uploaded from binary data; the upload type equals the msgtype. */
export const MEDIA_MESSAGE_TYPES: readonly MessageType[] = ['image', 'voice', 'video'];
/** Message types whose thumbnail can be uploaded from binary data. */
export const THUMB_MESSAGE_TYPES: readonly MessageType[] = ['video', 'music'];

function fail(context: IExecuteSingleFunctions, message: string, description: string): never {
	throw new NodeOperationError(context.getNode(), message, { description, itemIndex: context.getItemIndex() });
}

function text(context: IExecuteSingleFunctions, parameterName: string): string {
	return String(context.getNodeParameter(parameterName, '') ?? '').trim();
}

/** An optional field: WeChat gets it only when it has a value. */
function optional(key: string, value: string): IDataObject {
	return value ? { [key]: value } : {};
}

/** Links open on the user's phone, so only absolute web addresses work. */
function requireUrl(context: IExecuteSingleFunctions, parameterName: string, label: string, hint: string): string {
	const url = requireText(context, context.getNodeParameter(parameterName, ''), label, hint);
	checkUrl(context, url, label);
	return url;
}

function checkUrl(context: IExecuteSingleFunctions, url: string, label: string): void {
	const problem = webUrlProblem(url);
	if (problem === 'tooLong') {
		// The address itself is left out: at this length it would bury the message.
		fail(
			context,
			`${label} ${tooLongUrlText(url.length)}`,
			`Use a web address of at most ${groupDigits(MAX_URL_LENGTH)} characters, e.g. a shorter link to the same page. Check that the expression maps a URL and not a whole text.`,
		);
	}
	if (problem === 'notWebAddress') {
		fail(
			context,
			// A password in the address (https://user:password@…) is not repeated in an error.
			`${label} "${redactUrlUserInfo(url)}" is not a web address`,
			'Use a full address starting with https:// (or http://), reachable from the user\'s phone.',
		);
	}
}

function optionalUrl(context: IExecuteSingleFunctions, parameterName: string, label: string): string {
	const url = text(context, parameterName);
	if (url) checkUrl(context, url, label);
	return url;
}

function textPayload(context: IExecuteSingleFunctions): IDataObject {
	const content = String(context.getNodeParameter('content', '') ?? '');
	requireText(
		context,
		content,
		'Text',
		'Enter the message text (文本消息内容). It may contain links, including <a href="…" data-miniprogram-appid="…" data-miniprogram-path="…">…</a> for a mini program bound to this Official Account.',
	);
	// Sent as typed: line breaks and spacing around the text are part of the message.
	return { content };
}

async function mediaPayload(context: IExecuteSingleFunctions, type: 'image' | 'voice'): Promise<IDataObject> {
	const media = await prepareMedia(context, MAIN_MEDIA, type);
	return { media_id: await mediaIdOf(context, media) };
}

async function videoPayload(context: IExecuteSingleFunctions): Promise<IDataObject> {
	const title = text(context, 'title');
	const description = text(context, 'description');
	const video = await prepareMedia(context, MAIN_MEDIA, 'video');
	const thumb = await prepareMedia(context, THUMB_MEDIA, 'thumb');
	// Uploads start only once both files passed their checks.
	return {
		media_id: await mediaIdOf(context, video),
		thumb_media_id: await mediaIdOf(context, thumb),
		...optional('title', title),
		...optional('description', description),
	};
}

async function musicPayload(context: IExecuteSingleFunctions): Promise<IDataObject> {
	const musicurl = requireUrl(
		context,
		'musicUrl',
		'Music URL',
		'Enter the address of the audio file (音乐链接), e.g. an MP3 on your own server.',
	);
	// WeChat plays hqmusicurl on Wi-Fi and requires the field, so the normal file stands in when there is no better one.
	const hqmusicurl = optionalUrl(context, 'hqMusicUrl', 'High-Quality Music URL') || musicurl;
	const title = text(context, 'title');
	const description = text(context, 'description');
	const thumb = await prepareMedia(context, THUMB_MEDIA, 'thumb');
	return {
		...optional('title', title),
		...optional('description', description),
		musicurl,
		hqmusicurl,
		thumb_media_id: await mediaIdOf(context, thumb),
	};
}

function newsPayload(context: IExecuteSingleFunctions): IDataObject {
	const hint =
		'A news message (图文消息) is one article card: it needs a title and the URL the card opens; description and picture are optional.';
	const title = requireText(context, context.getNodeParameter('title', ''), 'Title', hint);
	const description = text(context, 'description');
	const url = requireUrl(context, 'url', 'URL', hint);
	const picurl = optionalUrl(context, 'picUrl', 'Picture URL');
	// WeChat accepts exactly one article per customer-service news message since 2018 (more → 45008).
	return {
		articles: [{ title, ...optional('description', description), url, ...optional('picurl', picurl) }],
	};
}

function menuPayload(context: IExecuteSingleFunctions): IDataObject {
	const collection = (context.getNodeParameter('menuItems', {}) ?? {}) as IDataObject;
	const items = (Array.isArray(collection.item) ? collection.item : []) as IDataObject[];
	if (items.length === 0) {
		fail(
			context,
			'The menu has no items',
			'Add at least one choice under Menu Items. Each choice has an ID (returned as bizmsgmenuid when the user taps it) and the text the user sees.',
		);
	}
	const list = items.map((item, index) => {
		const id = String(item.id ?? '').trim();
		const content = String(item.content ?? '').trim();
		if (!id) {
			fail(
				context,
				`Menu item ${index + 1} has no ID`,
				'Give every menu choice an ID: WeChat sends it back as bizmsgmenuid in the text push when the user taps the choice.',
			);
		}
		if (!content) {
			fail(context, `Menu item ${index + 1} has no text`, 'Enter the text the user sees and taps for every menu choice.');
		}
		return { id, content };
	});
	// WeChat's own samples always carry both texts; an empty one simply shows nothing.
	return { head_content: text(context, 'headContent'), list, tail_content: text(context, 'tailContent') };
}

function miniProgramPayload(context: IExecuteSingleFunctions): IDataObject {
	const hint =
		'A mini program card (小程序卡片) needs a title, the mini program\'s AppID, the page path and a thumbnail media_id; the mini program must be linked to this Official Account.';
	return {
		title: requireText(context, context.getNodeParameter('title', ''), 'Title', hint),
		appid: requireText(context, context.getNodeParameter('appId', ''), 'Mini Program AppID', hint),
		pagepath: requireText(context, context.getNodeParameter('pagePath', ''), 'Page Path', hint),
		thumb_media_id: typedMediaId(context, 'thumbMediaId', 'Thumbnail Media ID', 'thumb'),
	};
}

/**
 * The `<msgtype>` object of a customer-service message, with WeChat's field names. Every local check of a type runs
 * before its first upload, so an invalid item never costs an API call.
 */
export async function buildMessagePayload(
	context: IExecuteSingleFunctions,
	msgType: MessageType,
): Promise<IDataObject> {
	switch (msgType) {
		case 'text':
			return textPayload(context);
		case 'image':
		case 'voice':
			return await mediaPayload(context, msgType);
		case 'video':
			return await videoPayload(context);
		case 'music':
			return await musicPayload(context);
		case 'news':
			return newsPayload(context);
		case 'mpnews':
			return {
				media_id: requireText(
					context,
					context.getNodeParameter('mediaId', ''),
					'Media ID',
					'Enter the media_id of a permanent news material (永久图文素材). WeChat no longer accepts these for many accounts: prefer "Published Article" with an article_id.',
				),
			};
		case 'mpnewsarticle':
			return {
				article_id: requireText(
					context,
					context.getNodeParameter('articleId', ''),
					'Article ID',
					'Enter the article_id of a published article (已发布的图文), as returned by freepublish or the PUBLISHJOBFINISH event.',
				),
			};
		case 'msgmenu':
			return menuPayload(context);
		case 'wxcard':
			return {
				card_id: requireText(
					context,
					context.getNodeParameter('cardId', ''),
					'Card ID',
					'Enter the card_id of a card or coupon (卡券) created in the WeChat admin console; only cards without custom codes (or with imported codes) can be sent.',
				),
			};
		case 'miniprogrampage':
			return miniProgramPayload(context);
	}
}

export function requireMessageType(context: IExecuteSingleFunctions, value: unknown): MessageType {
	const msgType = String(value ?? '').trim();
	if (!(MESSAGE_TYPES as readonly string[]).includes(msgType)) {
		fail(context, `"${msgType}" is not a message type WeChat knows`, `Use one of: ${MESSAGE_TYPES.join(', ')}.`);
	}
	return msgType as MessageType;
}
