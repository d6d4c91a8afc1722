/**
 * WeChat's push signatures (docs/wechat-protocol.md §1): sha1 over the lexicographically sorted parts joined without a
 * separator, lowercase hex. `signature` covers the Token, timestamp and nonce only; `msg_signature` also covers the
 * exact `Encrypt` string of an encrypted push, so it is the one that authenticates the body.
 */
import { hash } from 'crypto';

export function sha1OfSorted(parts: string[]): string {
	// An insertion sort of a copy, then one concatenation: `<` on strings compares UTF-16 code units, exactly as
	// Array#sort without a comparator does, so the order (and the digest) is the same; for three or four short parts
	// it costs a fraction of the generic sort and join, and every push is hashed twice. crypto.hash (Node ≥ 20.12, so
	// every Node that n8n runs on) is the one-shot form: about twice as fast as createHash for inputs this small.
	const sorted = parts.slice();
	for (let i = 1; i < sorted.length; i++) {
		const part = sorted[i];
		let j = i - 1;
		while (j >= 0 && sorted[j] > part) {
			sorted[j + 1] = sorted[j];
			j--;
		}
		sorted[j + 1] = part;
	}
	let joined = '';
	for (const part of sorted) joined += part;
	return hash('sha1', joined, 'hex');
}

/**
 * Constant-time comparison of a computed signature with the one received. The length of a sha1 hex digest is public,
 * so an answer of a different length is rejected before comparing. Then every character is compared, the differences
 * OR-ed together with no early exit, so the time does not depend on where the first difference is. (The same as
 * `timingSafeEqual` over the two strings' bytes, without copying both into Buffers first, which cost more than the
 * comparison: every push compares two signatures.)
 */
export function signaturesEqual(expected: string, received: string | undefined): boolean {
	if (typeof received !== 'string' || received.length !== expected.length) return false;
	let difference = 0;
	for (let i = 0; i < expected.length; i++) difference |= expected.charCodeAt(i) ^ received.charCodeAt(i);
	return difference === 0;
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
