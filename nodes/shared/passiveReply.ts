/**
 * A passive reply (被动回复) decided by the workflow (docs/wechat-protocol.md §6 and §11). Message → Reply builds it as
 * the output field `passiveReply`; the trigger, with Reply set to From Workflow, takes that field from the last node
 * n8n ran (response mode "lastNode"), checks it again here, addresses it to the push's sender and encrypts it as the
 * push was. The node never sees the push's key or signature, and nothing but these four shapes reaches WeChat.
 */

/** The output field of Message → Reply that the trigger sends; the trigger's response property name. */
export const PASSIVE_REPLY_FIELD = 'passiveReply';

/**
 * WeChat documents no limit for a passive text reply; 2,048 bytes (UTF-8) is the limit reported for customer-service
 * text, and an answer WeChat cannot use shows the user "该公众号暂时无法提供服务". Longer text goes out as a
 * customer-service message (Message → Send).
 */
export const MAX_REPLY_TEXT_BYTES = 2048;

/** A media_id as WeChat issues them: letters, digits, `-` and `_`. */
const MEDIA_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Whether `value` has the shape of a media_id a reply may carry (Message → Reply checks typed ids with it). */
export function isMediaId(value: string): boolean {
	return MEDIA_ID.test(value);
}
/** A customer-service account, `prefix@公众号微信号`, as the node's validation accepts it. */
const KF_ACCOUNT = /^[A-Za-z0-9_]{1,10}@[A-Za-z0-9_-]{1,30}$/;

/** WeChat's element names, as in the reply XML; ToUserName, FromUserName and CreateTime are added by the trigger. */
export type PassiveReply =
	| { MsgType: 'text'; Content: string }
	| { MsgType: 'image'; Image: { MediaId: string } }
	| { MsgType: 'voice'; Voice: { MediaId: string } }
	| { MsgType: 'transfer_customer_service'; TransInfo?: { KfAccount: string } };

export type ReadReply = { ok: true; reply: PassiveReply } | { ok: false; reason: string };

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The one key of `holder` that is a media object with a valid MediaId, or why not. */
function readMediaId(holder: unknown, what: string): { ok: true; mediaId: string } | { ok: false; reason: string } {
	if (!isObject(holder) || typeof holder.MediaId !== 'string') return { ok: false, reason: `${what} has no MediaId` };
	if (!MEDIA_ID.test(holder.MediaId)) return { ok: false, reason: `${what}.MediaId is not a WeChat media_id` };
	return { ok: true, mediaId: holder.MediaId };
}

/**
 * Checks a reply as it came out of the workflow: exactly one of the four shapes, nothing else. Used by Message →
 * Reply on what it built and by the trigger on what n8n hands it, which may have passed through other hands.
 */
export function readPassiveReply(value: unknown): ReadReply {
	if (!isObject(value)) return { ok: false, reason: 'the reply is not an object' };
	switch (value.MsgType) {
		case 'text': {
			if (typeof value.Content !== 'string' || value.Content.trim() === '') {
				return { ok: false, reason: 'the text reply has no Content' };
			}
			if (Buffer.byteLength(value.Content, 'utf8') > MAX_REPLY_TEXT_BYTES) {
				return { ok: false, reason: `the text reply is longer than ${MAX_REPLY_TEXT_BYTES} bytes` };
			}
			return { ok: true, reply: { MsgType: 'text', Content: value.Content } };
		}
		case 'image': {
			const media = readMediaId(value.Image, 'Image');
			return media.ok ? { ok: true, reply: { MsgType: 'image', Image: { MediaId: media.mediaId } } } : media;
		}
		case 'voice': {
			const media = readMediaId(value.Voice, 'Voice');
			return media.ok ? { ok: true, reply: { MsgType: 'voice', Voice: { MediaId: media.mediaId } } } : media;
		}
		case 'transfer_customer_service': {
			if (value.TransInfo === undefined) return { ok: true, reply: { MsgType: 'transfer_customer_service' } };
			const account = isObject(value.TransInfo) ? value.TransInfo.KfAccount : undefined;
			if (typeof account !== 'string' || !KF_ACCOUNT.test(account)) {
				return { ok: false, reason: 'TransInfo.KfAccount is not a customer-service account' };
			}
			return { ok: true, reply: { MsgType: 'transfer_customer_service', TransInfo: { KfAccount: account } } };
		}
		default:
			return { ok: false, reason: 'MsgType is not text, image, voice or transfer_customer_service' };
	}
}
