/**
 * WeChat's push signatures (docs/wechat-protocol.md §1): sha1 over the lexicographically sorted parts joined without a
 * separator, lowercase hex. `signature` covers the Token, timestamp and nonce only; `msg_signature` also covers the
 * exact `Encrypt` string of an encrypted push, so it is the one that authenticates the body.
 */
import { hash, timingSafeEqual } from 'crypto';

export function sha1OfSorted(parts: string[]): string {
	// crypto.hash (Node ≥ 20.12, so every Node that n8n runs on) is the one-shot form: about twice as fast as
	// createHash for inputs this small, and every push is hashed twice.
	return hash('sha1', [...parts].sort().join(''), 'hex');
}

/**
 * Constant-time comparison of a computed signature with the one received. The length of a sha1 hex digest is public,
 * so an answer of a different length is rejected before comparing; `timingSafeEqual` needs equal lengths anyway.
 */
export function signaturesEqual(expected: string, received: string | undefined): boolean {
	if (typeof received !== 'string') return false;
	const a = Buffer.from(expected, 'utf8');
	const b = Buffer.from(received, 'utf8');
	if (a.length !== b.length) return false;
	return timingSafeEqual(a, b);
}

/** The `signature` query parameter of the GET handshake and of every POST. */
export function verifyUrlSignature(
	token: string,
	timestamp: string,
	nonce: string,
	signature: string | undefined,
): boolean {
	return signaturesEqual(sha1OfSorted([token, timestamp, nonce]), signature);
}

export function messageSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
	return sha1OfSorted([token, timestamp, nonce, encrypt]);
}

/** The `msg_signature` query parameter of compatible and safe mode, over the `Encrypt` string exactly as received. */
export function verifyMessageSignature(
	token: string,
	timestamp: string,
	nonce: string,
	encrypt: string,
	msgSignature: string | undefined,
): boolean {
	return signaturesEqual(messageSignature(token, timestamp, nonce, encrypt), msgSignature);
}

/** Unix seconds, as WeChat sends them. */
const TIMESTAMP = /^[0-9]{1,12}$/;

/**
 * Whether the push's `timestamp` is within `maxAgeSeconds` of the server clock. The window is symmetric: a timestamp
 * far in the future is as suspicious as an old one (a replay prepared in advance), and WeChat's clock and ours may
 * differ by a few seconds either way. `maxAgeSeconds` 0 switches the check off.
 */
export function isTimestampFresh(timestamp: string, maxAgeSeconds: number, nowMs: number): boolean {
	if (!TIMESTAMP.test(timestamp)) return false;
	if (maxAgeSeconds === 0) return true;
	return Math.abs(Math.floor(nowMs / 1000) - Number(timestamp)) <= maxAgeSeconds;
}
