/**
 * One push of every kind the `events` filter knows, with the fields WeChat sends (docs/wechat-protocol.md §4), plus helpers to build
 * them with the emulator's push sender.
 */
import { buildPush, type PushFormat, type PushMode } from '../emulator/pushSender';
import { AES_KEY, APP_ID, credentials, TOKEN, type WebhookCall } from './webhookContext';

export const OA = 'gh_0123456789ab';
export const OPENID = 'oUser_abcdefghijklmnopqrstuvw';
/** Beyond 2^53: survives only when kept as a string. */
export const BIG_MSG_ID = '24601234567890123456';

let sequence = 0;
const startSeconds = Math.floor(Date.now() / 1000);
/**
 * A fresh CreateTime and MsgId per push so that de-duplication never merges pushes of different tests. CreateTime
 * cycles through the two minutes around the start: the trigger refuses one outside its 5-minute window.
 */
function next(): { createTime: string; msgId: string } {
	sequence++;
	return {
		createTime: String(startSeconds - 60 + (sequence % 120)),
		msgId: `2460123456789${String(100000 + sequence)}`,
	};
}

const common = (msgType: string, createTime: string) => ({
	ToUserName: OA,
	FromUserName: OPENID,
	CreateTime: createTime,
	MsgType: msgType,
});

export type Kind =
	| 'text'
	| 'image'
	| 'voice'
	| 'video'
	| 'shortvideo'
	| 'location'
	| 'link'
	| 'subscribe'
	| 'unsubscribe'
	| 'SCAN'
	| 'LOCATION'
	| 'CLICK'
	| 'VIEW'
	| 'kf_create_session'
	| 'kf_close_session'
	| 'kf_switch_session';

export const KINDS: Kind[] = [
	'text',
	'image',
	'voice',
	'video',
	'shortvideo',
	'location',
	'link',
	'subscribe',
	'unsubscribe',
	'SCAN',
	'LOCATION',
	'CLICK',
	'VIEW',
	'kf_create_session',
	'kf_close_session',
	'kf_switch_session',
];

/** Each call gives a new push (new MsgId or CreateTime+EventKey), so nothing is taken for a retry by accident. */
export function message(kind: Kind): Record<string, string> {
	const { createTime, msgId } = next();
	const event = (name: string, extra: Record<string, string> = {}) => ({
		...common('event', createTime),
		Event: name,
		...extra,
	});
	switch (kind) {
		case 'text':
			return { ...common('text', createTime), Content: '你好 <hello> & "world"', MsgId: msgId };
		case 'image':
			return { ...common('image', createTime), PicUrl: 'http://mmbiz.qpic.cn/x.jpg', MediaId: 'media_1', MsgId: msgId };
		case 'voice':
			return { ...common('voice', createTime), MediaId: 'media_v', Format: 'amr', Recognition: '', MsgId: msgId };
		case 'video':
			return { ...common('video', createTime), MediaId: 'media_video', ThumbMediaId: 'thumb_1', MsgId: msgId };
		case 'shortvideo':
			return { ...common('shortvideo', createTime), MediaId: 'media_sv', ThumbMediaId: 'thumb_2', MsgId: msgId };
		case 'location':
			return {
				...common('location', createTime),
				Location_X: '23.134521',
				Location_Y: '113.358803',
				Scale: '20',
				Label: '广州市',
				MsgId: msgId,
			};
		case 'link':
			return {
				...common('link', createTime),
				Title: 'A title',
				Description: 'A description',
				Url: 'https://example.com/a?b=c&d=e',
				MsgId: msgId,
			};
		case 'subscribe':
			return event('subscribe', { EventKey: `qrscene_${sequence}` });
		case 'unsubscribe':
			return event('unsubscribe', { EventKey: `k${sequence}` });
		case 'SCAN':
			return event('SCAN', { EventKey: `${sequence}`, Ticket: 'TICKET' });
		case 'LOCATION':
			return event('LOCATION', { Latitude: '23.137466', Longitude: '113.352425', Precision: `${sequence}.000000` });
		case 'CLICK':
			return event('CLICK', { EventKey: `MENU_KEY_${sequence}` });
		case 'VIEW':
			return event('VIEW', { EventKey: `https://example.com/${sequence}`, MenuId: '1' });
		case 'kf_create_session':
			return event('kf_create_session', { KfAccount: `test1@test`, EventKey: `${sequence}` });
		case 'kf_close_session':
			return event('kf_close_session', { KfAccount: `test1@test`, EventKey: `${sequence}` });
		case 'kf_switch_session':
			return event('kf_switch_session', {
				FromKfAccount: 'test1@test',
				ToKfAccount: 'test2@test',
				EventKey: `${sequence}`,
			});
	}
}

export interface PushCallOptions {
	mode?: PushMode;
	format?: PushFormat;
	encodingAESKey?: string;
	appId?: string;
	token?: string;
	timestamp?: string;
	nonce?: string;
}

/** A webhook call carrying a push built by the emulator's sender. */
export function pushCall(
	fields: Record<string, unknown>,
	options: PushCallOptions = {},
	call: Partial<WebhookCall> = {},
): WebhookCall & { built: ReturnType<typeof buildPush> } {
	const built = buildPush({
		mode: options.mode ?? 'safe',
		format: options.format ?? 'xml',
		message: fields as Record<string, string>,
		token: options.token ?? TOKEN,
		appId: options.appId ?? APP_ID,
		encodingAESKey: options.encodingAESKey ?? AES_KEY,
		timestamp: options.timestamp,
		nonce: options.nonce,
	});
	// A plaintext push goes to what a plaintext set-up has: a credential without an EncodingAESKey (with one, the
	// trigger accepts only encrypted pushes unless Encryption is set to plaintext).
	const plaintextSetUp = options.mode === 'plaintext' ? { credentials: credentials({ encodingAESKey: '' }) } : {};
	return { webhookName: 'default', query: { ...built.query }, rawBody: built.body, ...plaintextSetUp, ...call, built };
}
