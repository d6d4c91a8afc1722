/**
 * The push encryption of compatible and safe mode (docs/wechat-protocol.md §3), as WeChat's WXBizMsgCrypt defines it:
 * AESKey = base64(EncodingAESKey + "=") (32 bytes); AES-256-CBC with IV = the key's first 16 bytes; PKCS#7 padding
 * to a 32-byte block (not AES's 16, so Node's automatic padding is off); plaintext =
 * 16 random bytes ‖ 4-byte big-endian message length ‖ message ‖ AppID; transported as base64.
 */
import { createCipheriv, createDecipheriv, randomBytes, type Decipher } from 'crypto';

export const ENCODING_AES_KEY_PATTERN = /^[A-Za-z0-9]{43}$/;

const PAD_BLOCK = 32;
const RANDOM_PREFIX = 16;
const LENGTH_FIELD = 4;

/** WeChat's server-side crypto codes (docs/wechat-protocol.md §3), used as the short reason of a rejected push. */
export const CRYPTO_ERROR = {
	signature: -40001,
	parse: -40002,
	aesKey: -40004,
	appId: -40005,
	decrypt: -40007,
	invalidMessage: -40008,
	base64: -40010,
	buffer: -41003,
} as const;

export function isValidEncodingAESKey(value: string): boolean {
	return ENCODING_AES_KEY_PATTERN.test(value);
}

/** 43 characters of [A-Za-z0-9] always decode to exactly 32 bytes; anything else is refused before use. */
export function aesKeyFromEncodingAESKey(encodingAESKey: string): Buffer | undefined {
	if (!isValidEncodingAESKey(encodingAESKey)) return undefined;
	const key = Buffer.from(`${encodingAESKey}=`, 'base64');
	return key.length === 32 ? key : undefined;
}

/** AES's block: the decipher's input starts with one block of the IV (see decryptCbc). */
const AES_BLOCK = 16;

/**
 * `Encrypt` decoded, after one free AES block that decryptCbc fills: the decipher's whole input, with no copy.
 * Node's base64 decoder skips characters it does not know and accepts the URL-safe alphabet; only a value that
 * encodes back to exactly itself is taken, so a truncated or altered `Encrypt` is never decoded into something else.
 * The round trip costs less than a regular expression over the same characters, and the decoding is needed anyway.
 */
function decodeStrictBase64(value: string): Buffer | undefined {
	if (value.length === 0 || value.length % 4 !== 0) return undefined;
	// Unsafe (not zero-filled) is fine: the decoding writes every byte after the first block, decryptCbc the first
	// block, and the bytes beyond what was decoded are cut off.
	const input = Buffer.allocUnsafe(AES_BLOCK + (value.length / 4) * 3);
	const decodedBytes = input.write(value, AES_BLOCK, 'base64');
	if (input.toString('base64', AES_BLOCK, AES_BLOCK + decodedBytes) !== value) return undefined;
	return input.subarray(0, AES_BLOCK + decodedBytes);
}

interface KeyMaterial {
	iv: Buffer;
	/** AES-256-CBC without padding, reused for every push (see decryptCbc). */
	decipher: Decipher;
}

const keyMaterials = new Map<string, KeyMaterial | undefined>();
const MAX_CACHED_KEYS = 16;

/** The key material of an EncodingAESKey, derived once; undefined for a malformed key. */
function keyMaterialOf(encodingAESKey: string): KeyMaterial | undefined {
	if (keyMaterials.has(encodingAESKey)) return keyMaterials.get(encodingAESKey);
	const key = aesKeyFromEncodingAESKey(encodingAESKey);
	let material: KeyMaterial | undefined;
	if (key) {
		const iv = key.subarray(0, AES_BLOCK);
		const decipher = createDecipheriv('aes-256-cbc', key, iv);
		decipher.setAutoPadding(false);
		material = { iv, decipher };
	}
	if (keyMaterials.size >= MAX_CACHED_KEYS) keyMaterials.clear();
	keyMaterials.set(encodingAESKey, material);
	return material;
}

/**
 * AES-256-CBC decryption of `input` after its first block, on one decipher for every push: setting up a decipher for
 * each push cost more than the decryption itself. CBC's plaintext block i is D(Cᵢ) XOR Cᵢ₋₁, and a decipher carries
 * the last ciphertext block it saw over to its next input. So the input starts with one block of the IV: whatever
 * came before, that block's own output is thrown away, and the push's first block is then decrypted against the IV,
 * as if the decipher were new. Without padding, and with every input a whole number of blocks (decryptPush checks
 * the length first), the decipher returns all of its input and holds nothing back for the next push.
 */
function decryptCbc(input: Buffer, material: KeyMaterial): Buffer {
	material.iv.copy(input, 0);
	const output = material.decipher.update(input);
	if (output.length !== input.length) throw new RangeError('the block cipher held data back');
	return output.subarray(AES_BLOCK);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The credential's AppID as bytes, kept for the next push (a process serves one or a few accounts). */
let lastAppId: { text: string; bytes: Buffer } | undefined;
function appIdBytes(appId: string): Buffer {
	if (lastAppId?.text !== appId) lastAppId = { text: appId, bytes: Buffer.from(appId, 'utf8') };
	return lastAppId.bytes;
}

type KeyAttempt =
	| { ok: true; message: string }
	| { ok: false; failure: 'decrypt' | 'appId' | 'utf8' };

/**
 * One key's attempt. Padding, length and AppID are all checked before any verdict, with no early exit between them:
 * after `msg_signature` passes, every failure must look and take the same (docs/wechat-protocol.md §3), or the answer
 * becomes a padding oracle for anyone who knows the Token. Only a message that passed all three — one produced with
 * the key — goes on to the UTF-8 check.
 */
function decryptWithKey(input: Buffer, material: KeyMaterial, appId: string): KeyAttempt {
	const padded = decryptCbc(input, material);
	const pad = padded[padded.length - 1];
	// The ciphertext is a non-empty multiple of 32 bytes, so the last 32 bytes always exist.
	let padMismatch = pad < 1 || pad > PAD_BLOCK ? 1 : 0;
	for (let i = 1; i <= PAD_BLOCK; i++) {
		padMismatch |= (i <= pad ? 1 : 0) & (padded[padded.length - i] !== pad ? 1 : 0);
	}
	const plaintextLength = padded.length - (padMismatch ? 0 : pad);
	const length = plaintextLength >= RANDOM_PREFIX + LENGTH_FIELD ? padded.readUInt32BE(RANDOM_PREFIX) : 0;
	const messageEnd = RANDOM_PREFIX + LENGTH_FIELD + length;
	const lengthMismatch = plaintextLength < RANDOM_PREFIX + LENGTH_FIELD || messageEnd > plaintextLength ? 1 : 0;
	// The AppID after the message proves the push was encrypted for this account, not replayed from another one
	// that shares the key (several SDKs skip this check). Compared in full, with its length, so a prefix never
	// matches.
	const expectedAppId = appIdBytes(appId);
	const appIdStart = Math.min(messageEnd, plaintextLength);
	const trailingAppId = padded.subarray(appIdStart, plaintextLength);
	const appIdMismatch =
		trailingAppId.length !== expectedAppId.length || !trailingAppId.equals(expectedAppId) ? 1 : 0;
	if (padMismatch | lengthMismatch) return { ok: false, failure: 'decrypt' };
	if (appIdMismatch) return { ok: false, failure: 'appId' };
	try {
		return { ok: true, message: utf8.decode(padded.subarray(RANDOM_PREFIX + LENGTH_FIELD, messageEnd)) };
	} catch {
		return { ok: false, failure: 'utf8' };
	}
}

export type DecryptResult =
	| { ok: true; message: string; encodingAESKey: string }
	| { ok: false; code: number; reason: string };

/**
 * Decrypts an `Encrypt` value with the first key that works. WeChat's FAQ on key rotation: try the current
 * EncodingAESKey, then the previous one, and reply with whichever worked (returned as `encodingAESKey`).
 * The code and reason of a failure are for the operator's log only: the sender always gets the same answer
 * (receivePush.ts), whichever step failed.
 */
export function decryptPush(encrypt: string, encodingAESKeys: string[], appId: string): DecryptResult {
	const input = decodeStrictBase64(encrypt);
	if (input === undefined) {
		return { ok: false, code: CRYPTO_ERROR.base64, reason: 'Encrypt is not valid base64' };
	}
	const ciphertextLength = input.length - AES_BLOCK;
	if (ciphertextLength === 0 || ciphertextLength % PAD_BLOCK !== 0) {
		return { ok: false, code: CRYPTO_ERROR.buffer, reason: 'ciphertext has an invalid length' };
	}
	let sawAppIdMismatch = false;
	let sawInvalidText = false;
	for (const encodingAESKey of encodingAESKeys) {
		const material = keyMaterialOf(encodingAESKey);
		if (!material) continue;
		const attempt = decryptWithKey(input, material, appId);
		if (attempt.ok) return { ok: true, message: attempt.message, encodingAESKey };
		if (attempt.failure === 'appId') sawAppIdMismatch = true;
		if (attempt.failure === 'utf8') sawInvalidText = true;
	}
	if (sawAppIdMismatch) {
		return { ok: false, code: CRYPTO_ERROR.appId, reason: 'AppID in the message does not match the credential' };
	}
	if (sawInvalidText) {
		return { ok: false, code: CRYPTO_ERROR.invalidMessage, reason: 'decrypted message is not valid UTF-8' };
	}
	return { ok: false, code: CRYPTO_ERROR.decrypt, reason: 'decryption failed' };
}

/** Encrypts a reply the way WeChat expects it (same layout as a push); `random16` only for reproducible tests. */
export function encryptMessage(message: string, encodingAESKey: string, appId: string, random16?: Buffer): string {
	const key = aesKeyFromEncodingAESKey(encodingAESKey);
	if (!key) throw new RangeError('EncodingAESKey must be 43 characters of [A-Za-z0-9]');
	const body = Buffer.from(message, 'utf8');
	const length = Buffer.alloc(LENGTH_FIELD);
	length.writeUInt32BE(body.length, 0);
	const plaintext = Buffer.concat([random16 ?? randomBytes(RANDOM_PREFIX), length, body, Buffer.from(appId, 'utf8')]);
	const pad = PAD_BLOCK - (plaintext.length % PAD_BLOCK);
	const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
	cipher.setAutoPadding(false);
	return Buffer.concat([cipher.update(Buffer.concat([plaintext, Buffer.alloc(pad, pad)])), cipher.final()]).toString(
		'base64',
	);
}
