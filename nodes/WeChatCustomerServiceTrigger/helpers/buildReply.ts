/**
 * Passive replies (被动回复, docs/wechat-protocol.md §6): the body of the HTTP answer to a push.
 */
import { randomInt } from 'crypto';

import type { PassiveReply } from '../../shared/passiveReply';
import { buildXml } from '../../shared/xml';
import { encryptMessage } from './pushCrypto';
import { messageSignature } from './verifySignature';

/** WeChat's "nothing to reply" answer: acknowledged, no retry, nothing shown to the user. */
export const SUCCESS_REPLY = 'success';

/** Who a reply goes to and from: the push's sender and recipient, swapped. */
export interface ReplyAddress {
	ToUserName: string;
	FromUserName: string;
}

/**
 * The XML of a passive reply to `push` (docs/wechat-protocol.md §6): sender and recipient swap, the reply goes from
 * the account to the user. For transfer_customer_service, `TransInfo/KfAccount` only when an agent is named; without
 * it WeChat picks an agent.
 */
export function passiveReplyXml(push: ReplyAddress, reply: PassiveReply, nowSeconds: number): string {
	return buildXml({
		ToUserName: push.FromUserName,
		FromUserName: push.ToUserName,
		CreateTime: nowSeconds,
		...reply,
	});
}

/** The reply that hands the user over to the customer-service system: to `kfAccount`, or to whom WeChat picks. */
export function transferReply(kfAccount: string): PassiveReply {
	return kfAccount
		? { MsgType: 'transfer_customer_service', TransInfo: { KfAccount: kfAccount } }
		: { MsgType: 'transfer_customer_service' };
}

/**
 * Wraps a reply for an encrypted push: Encrypt, MsgSignature, TimeStamp, Nonce, with a fresh timestamp (seconds, as
 * WeChat expects — never milliseconds) and nonce. Encrypted with the key the push was decrypted with, as WeChat's FAQ
 * on key rotation asks.
 */
export function encryptedReplyXml(
	replyXml: string,
	options: { token: string; encodingAESKey: string; appId: string; nowSeconds: number; nonce?: string },
): string {
	const encrypt = encryptMessage(replyXml, options.encodingAESKey, options.appId);
	const timestamp = String(options.nowSeconds);
	const nonce = options.nonce ?? String(randomInt(100_000_000, 2_147_483_647));
	return buildXml({
		Encrypt: encrypt,
		MsgSignature: messageSignature(options.token, timestamp, nonce, encrypt),
		TimeStamp: options.nowSeconds,
		Nonce: nonce,
	});
}
