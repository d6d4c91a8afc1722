/** Pushes as WeChat sends them to the trigger: the messages and events, signed and (safe mode) encrypted. */
import { type BuiltPush, deliverPush, type Delivery, type PushOptions } from '../../../test/emulator/pushSender';
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
