/** Pushes as WeChat sends them to the trigger: the messages and events, signed and (safe mode) encrypted. */
import { createCipheriv, randomBytes } from 'node:crypto';

import { messageSignature, plainSignature } from '../../../test/emulator/pushCrypto';
import { type BuiltPush, deliverPush, type Delivery, type PushOptions, toXml } from '../../../test/emulator/pushSender';
import { ENCODING_AES_KEY, PUSH_TOKEN } from './fixtures';

/** The Official Account's own id, the ToUserName of every push. */
export const OFFICIAL_ACCOUNT = 'gh_emulator_oa';

let msgIdCounter = 0n;
/** 64-bit MsgIds as WeChat sends them (beyond 2^53, so they must travel as strings). */
function nextMsgId(): string {
	msgIdCounter += 1n;
	return (24967187623118848n + BigInt(Date.now()) * 1000n + msgIdCounter).toString();
}

export function textMessage(openid: string, content: string): Record<string, string | number> {
	return {
		ToUserName: OFFICIAL_ACCOUNT,
		FromUserName: openid,
		CreateTime: Math.floor(Date.now() / 1000),
		MsgType: 'text',
		Content: content,
		MsgId: nextMsgId(),
	};
}

export function subscribeEvent(openid: string): Record<string, string | number> {
	return {
		ToUserName: OFFICIAL_ACCOUNT,
		FromUserName: openid,
		CreateTime: Math.floor(Date.now() / 1000),
		MsgType: 'event',
		Event: 'subscribe',
		EventKey: '',
	};
}

/** Delivers a push the way WeChat does (signed; encrypted in safe mode), with the credential's token and key. */
export async function push(
	url: string,
	appId: string,
	message: Record<string, string | number>,
	options: Partial<Omit<PushOptions, 'message'>> & { forceDeliveries?: number } = {},
): Promise<{ built: BuiltPush; deliveries: Delivery[] }> {
	return await deliverPush(url, {
		mode: 'safe',
		format: 'xml',
		token: PUSH_TOKEN,
		encodingAESKey: ENCODING_AES_KEY,
		appId,
		timeoutMs: 10_000,
		...options,
		message,
	});
}

/**
 * Padding-oracle probes, as someone who knows only the Token would send them: ciphertexts of their own under the
 * account's key layout (bad padding, another account's AppID, invalid UTF-8), each correctly signed. The trigger must
 * answer every one identically (docs/wechat-protocol.md §3). `inner` is the push each probe wraps.
 */
export function paddingOracleProbes(
	appId: string,
	inner: Record<string, string | number>,
): Array<{ name: string; query: Record<string, string>; body: string }> {
	const aesKey = Buffer.from(`${ENCODING_AES_KEY}=`, 'base64');
	const encryptRaw = (plaintext: Buffer) => {
		const cipher = createCipheriv('aes-256-cbc', aesKey, aesKey.subarray(0, 16));
		cipher.setAutoPadding(false);
		return Buffer.concat([cipher.update(plaintext), cipher.final()]).toString('base64');
	};
	const framed = (body: Buffer, frameAppId: string, padWith?: number) => {
		const length = Buffer.alloc(4);
		length.writeUInt32BE(body.length);
		const frame = Buffer.concat([randomBytes(16), length, body, Buffer.from(frameAppId)]);
		const fill = 32 - (frame.length % 32);
		return Buffer.concat([frame, Buffer.alloc(fill, padWith ?? fill)]);
	};
	const message = Buffer.from(toXml(inner));
	const probes = {
		'bad padding': encryptRaw(framed(message, appId, 0)),
		'wrong AppID': encryptRaw(framed(message, 'wxAnotherAccount0')),
		'invalid UTF-8': encryptRaw(framed(Buffer.from([0x3c, 0xff, 0xfe, 0x3e]), appId)),
	};
	return Object.entries(probes).map(([name, encrypt]) => {
		const timestamp = String(Math.floor(Date.now() / 1000));
		const nonce = String(100000 + Math.floor(Math.random() * 1e6));
		return {
			name,
			query: {
				signature: plainSignature(PUSH_TOKEN, timestamp, nonce),
				timestamp,
				nonce,
				encrypt_type: 'aes',
				msg_signature: messageSignature(PUSH_TOKEN, timestamp, nonce, encrypt),
			},
			body: `<xml><ToUserName><![CDATA[${OFFICIAL_ACCOUNT}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
		};
	});
}
