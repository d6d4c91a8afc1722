/**
 * WeChat's own errmsg texts, so that an answer from the emulator reads like one from api.weixin.qq.com.
 *
 * WeChat appends " rid: <request id>" to most errmsg values; the emulator does too (see EmulatorOptions.errmsgRid)
 * because a client that compares errmsg strings instead of errcode is a bug worth catching. Tests that need an
 * exact body compare `errcode` and `errmsgWithoutRid(body.errmsg)`.
 */
import { randomBytes } from 'node:crypto';

export interface WeChatErrorBody {
	errcode: number;
	errmsg: string;
}

export const ERRMSG: Readonly<Record<number, string>> = {
	[-1]: 'system error',
	0: 'ok',
	40001:
		'invalid credential, access_token is invalid or not latest, could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r',
	40002: 'invalid grant_type',
	40003: 'invalid openid',
	40004: 'invalid media type',
	40005: 'invalid file type',
	40006: 'invalid media size',
	40007: 'invalid media_id',
	40008: 'invalid message type',
	40013: 'invalid appid',
	40014: 'invalid access_token',
	40125: 'invalid appsecret',
	40200: 'invalid account type',
	41001: 'access_token missing',
	41002: 'appid missing',
	41004: 'appsecret missing',
	41005: 'media data missing',
	42001: 'access_token expired',
	44001: 'empty media data',
	44002: 'empty post data',
	44003: 'empty news data',
	44004: 'empty content',
	45002: 'content size out of limit',
	45008: 'article size out of limit',
	45009: 'reach max api daily quota limit',
	45011: 'api minute-quota reach limit  mustslower  retry next minute',
	45015: 'response out of time limit or subscription is canceled',
	45047: 'out of response count limit',
	45072: 'command field error',
	45080: 'typing is not allowed: no message exchanged with the user in the last 30 seconds',
	45081: 'you are already typing',
	47001: 'data format error',
	48001: 'api unauthorized',
	65400: 'please enable new custom service, or wait for a while if you have enabled',
	65401: 'invalid custom service account',
	65402: 'the custom service account need to bind a wechat user',
	65403: 'illegal nickname',
	65404: 'illegal custom service account',
	65405: 'custom service account number reach limit',
	65406: 'custom service account exists',
	65407: 'the wechat user have been one of your workers',
	65408: 'the wechat user have been invited',
	65409: 'wechat account invalid',
	65410: 'too many custom service account bound by a worker',
	65411: 'a effective invitation to bind the custom service account exists',
	65412: 'the custom service account has been bound by a wechat user',
	65413: 'no effective session for the customer',
	65414: 'another worker is serving the customer',
	65415: 'the worker is not online',
	65416: 'invalid parameters, please check your parameters',
	65417: 'time range is too long, please check your parameters',
	89503: 'this call needs the admin to confirm, please wait for the confirmation',
};

/** The 40164 text names the IP WeChat saw, in both notations, exactly like the live API does. */
export function ipNotWhitelistedErrmsg(ip: string): string {
	return `invalid ip ${ip} ipv6 ::ffff:${ip}, not in whitelist`;
}

function requestId(): string {
	const hex = randomBytes(12).toString('hex');
	return `${hex.slice(0, 8)}-${hex.slice(8, 16)}-${hex.slice(16, 24)}`;
}

export function withRid(errmsg: string, addRid: boolean): string {
	return addRid ? `${errmsg} rid: ${requestId()}` : errmsg;
}

/** Strips the trailing " rid: …" WeChat adds, for exact comparisons in tests. */
export function errmsgWithoutRid(errmsg: string): string {
	return errmsg.replace(/ rid: [0-9a-f-]+$/, '');
}

/**
 * An error body as WeChat sends it. The rid is added later (by the server) so handlers stay pure;
 * `errmsg` overrides the table, e.g. for 40164.
 */
export function wechatError(errcode: number, errmsg?: string): WeChatErrorBody {
	return { errcode, errmsg: errmsg ?? ERRMSG[errcode] ?? `emulated error ${errcode}` };
}

export const OK: WeChatErrorBody = Object.freeze({ errcode: 0, errmsg: 'ok' }) as WeChatErrorBody;

export function isWeChatError(value: unknown): value is WeChatErrorBody {
	return (
		typeof value === 'object' &&
		value !== null &&
		typeof (value as WeChatErrorBody).errcode === 'number' &&
		(value as WeChatErrorBody).errcode !== 0
	);
}
