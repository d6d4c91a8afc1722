/**
 * The WeChat side of the push encryption (docs/wechat-protocol.md §3), written from that description alone so that it checks the
 * trigger's implementation instead of sharing its mistakes.
 *
 * AESKey = base64(EncodingAESKey + '=') (32 bytes); AES-256-CBC with IV = the key's first 16 bytes, no automatic
 * padding but PKCS#7 to a 32-byte block; plaintext = 16 random bytes ‖ 4-byte big-endian length ‖ message ‖ appId;
 * the ciphertext travels base64-encoded.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const BLOCK = 32;

export function aesKeyFromEncodingAESKey(encodingAESKey: string): Buffer {
	if (!/^[A-Za-z0-9]{43}$/.test(encodingAESKey)) throw new Error('EncodingAESKey must be 43 characters [A-Za-z0-9]');
	const key = Buffer.from(`${encodingAESKey}=`, 'base64');
	if (key.length !== 32) throw new Error('EncodingAESKey does not decode to 32 bytes');
	return key;
}

/** sha1 over the lexicographically sorted parts joined without separator, lowercase hex. */
export function sha1Sorted(parts: string[]): string {
	return createHash('sha1').update([...parts].sort().join('')).digest('hex');
}

/** `signature` query parameter: covers token, timestamp and nonce only. */
export function plainSignature(token: string, timestamp: string, nonce: string): string {
	return sha1Sorted([token, timestamp, nonce]);
}

/** `msg_signature`: also covers the Encrypt string. */
export function messageSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
	return sha1Sorted([token, timestamp, nonce, encrypt]);
}

function pkcs7Pad(data: Buffer): Buffer {
	const pad = BLOCK - (data.length % BLOCK);
	return Buffer.concat([data, Buffer.alloc(pad, pad)]);
}

function pkcs7Unpad(data: Buffer): Buffer {
	const pad = data[data.length - 1];
	if (pad < 1 || pad > BLOCK || pad > data.length) throw new Error('bad PKCS#7 padding');
	for (let i = data.length - pad; i < data.length; i++) {
		if (data[i] !== pad) throw new Error('bad PKCS#7 padding');
	}
	return data.subarray(0, data.length - pad);
}

/** Encrypts a message as WeChat does; `random16` is fixed in tests that need a reproducible ciphertext. */
export function encryptMessage(message: string, encodingAESKey: string, appId: string, random16?: Buffer): string {
	const key = aesKeyFromEncodingAESKey(encodingAESKey);
	const body = Buffer.from(message, 'utf8');
	const length = Buffer.alloc(4);
	length.writeUInt32BE(body.length, 0);
	const plaintext = Buffer.concat([random16 ?? randomBytes(16), length, body, Buffer.from(appId, 'utf8')]);
	const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
	cipher.setAutoPadding(false);
	return Buffer.concat([cipher.update(pkcs7Pad(plaintext)), cipher.final()]).toString('base64');
}

/** Decrypts an Encrypt value; returns the message and the appId found after it (the caller compares it). */
export function decryptMessage(encrypt: string, encodingAESKey: string): { message: string; appId: string } {
	const key = aesKeyFromEncodingAESKey(encodingAESKey);
	const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
	decipher.setAutoPadding(false);
	const padded = Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()]);
	const plaintext = pkcs7Unpad(padded);
	if (plaintext.length < 20) throw new Error('decrypted buffer too short');
	const length = plaintext.readUInt32BE(16);
	if (20 + length > plaintext.length) throw new Error('message length exceeds the decrypted buffer');
	return {
		message: plaintext.subarray(20, 20 + length).toString('utf8'),
		appId: plaintext.subarray(20 + length).toString('utf8'),
	};
}
