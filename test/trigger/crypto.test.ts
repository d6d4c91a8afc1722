import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

import {
	aesKeyFromEncodingAESKey,
	decryptPush,
	encryptMessage,
	isValidEncodingAESKey,
} from '../../nodes/WeChatCustomerServiceTrigger/helpers/pushCrypto';
import {
	isTimestampFresh,
	messageSignature,
	sha1OfSorted,
	signaturesEqual,
	verifyUrlSignature,
} from '../../nodes/WeChatCustomerServiceTrigger/helpers/verifySignature';
import * as wechat from '../emulator/pushCrypto';
import { AES_KEY, APP_ID, OLD_AES_KEY, OTHER_AES_KEY } from './webhookContext';

describe('signatures', () => {
	test('official vector: Token AAAAA, timestamp 1714036504, nonce 1514711492', () => {
		assert.equal(sha1OfSorted(['AAAAA', '1714036504', '1514711492']), 'f464b24fc39322e44b38aa78f5edd27bd1441696');
		assert.ok(verifyUrlSignature('AAAAA', '1714036504', '1514711492', 'f464b24fc39322e44b38aa78f5edd27bd1441696'));
		assert.ok(!verifyUrlSignature('AAAAA', '1714036504', '1514711493', 'f464b24fc39322e44b38aa78f5edd27bd1441696'));
	});

	test('msg_signature matches the WeChat side (sorted token, timestamp, nonce, Encrypt)', () => {
		assert.equal(messageSignature('t', '1', '2', 'ENC'), wechat.messageSignature('t', '1', '2', 'ENC'));
	});

	test('comparison refuses missing, shorter, longer and upper-case signatures', () => {
		const good = sha1OfSorted(['a', 'b', 'c']);
		assert.ok(signaturesEqual(good, good));
		assert.ok(!signaturesEqual(good, undefined));
		assert.ok(!signaturesEqual(good, good.slice(0, 39)));
		assert.ok(!signaturesEqual(good, `${good}0`));
		assert.ok(!signaturesEqual(good, good.toUpperCase()));
		assert.ok(!signaturesEqual(good, ''));
		// Same length, one character off: the first, the last, and a non-ASCII one of the same UTF-16 length.
		const flip = (text: string, at: number, to: string) => `${text.slice(0, at)}${to}${text.slice(at + 1)}`;
		assert.ok(!signaturesEqual(good, flip(good, 0, good[0] === '0' ? '1' : '0')));
		assert.ok(!signaturesEqual(good, flip(good, 39, good[39] === '0' ? '1' : '0')));
		assert.ok(!signaturesEqual(good, flip(good, 20, 'é')));
	});

	test('the parts are sorted as Array#sort sorts them (UTF-16 code units): prefixes, case, digits, non-ASCII', () => {
		const cases = [
			['ab', 'a', 'abc', ''],
			['Token', 'token', '1714036504', '1514711492'],
			['10', '9', '100', '09'],
			['é', 'e', 'z', '\u{1F600}'],
			['b', 'b', 'a', 'b'],
		];
		for (const parts of cases) {
			const expected = createHash('sha1').update([...parts].sort().join('')).digest('hex');
			assert.equal(sha1OfSorted(parts), expected, parts.join(' | '));
		}
		const parts = ['x', 'a'];
		sha1OfSorted(parts);
		assert.deepEqual(parts, ['x', 'a'], 'the caller\'s list is left as it was');
	});

	test('timestamp window is symmetric; 0 switches it off; non-digits never pass', () => {
		const now = 1_714_036_504_000;
		assert.ok(isTimestampFresh('1714036504', 300, now));
		assert.ok(isTimestampFresh('1714036204', 300, now));
		assert.ok(!isTimestampFresh('1714036203', 300, now));
		assert.ok(isTimestampFresh('1714036804', 300, now));
		assert.ok(!isTimestampFresh('1714036805', 300, now));
		assert.ok(isTimestampFresh('1', 0, now));
		assert.ok(!isTimestampFresh('1714036504.5', 0, now));
		assert.ok(!isTimestampFresh('', 300, now));
		assert.ok(!isTimestampFresh('-1', 0, now));
	});
});

describe('push crypto', () => {
	test('EncodingAESKey: 43 characters of [A-Za-z0-9] only, decoding to 32 bytes', () => {
		assert.ok(isValidEncodingAESKey(AES_KEY));
		assert.equal(aesKeyFromEncodingAESKey(AES_KEY)?.length, 32);
		assert.ok(!isValidEncodingAESKey(AES_KEY.slice(1)));
		assert.ok(!isValidEncodingAESKey(`${AES_KEY.slice(1)}+`));
		assert.equal(aesKeyFromEncodingAESKey('short'), undefined);
	});

	test('decrypts what the WeChat side encrypts, and the WeChat side decrypts what the trigger encrypts', () => {
		const message = '<xml><Content><![CDATA[你好 🙂]]></Content></xml>';
		const fromWeChat = wechat.encryptMessage(message, AES_KEY, APP_ID);
		assert.deepEqual(decryptPush(fromWeChat, [AES_KEY], APP_ID), { ok: true, message, encodingAESKey: AES_KEY });
		const fromTrigger = encryptMessage(message, AES_KEY, APP_ID);
		assert.deepEqual(wechat.decryptMessage(fromTrigger, AES_KEY), { message, appId: APP_ID });
	});

	test('every message length pads correctly (PKCS#7 with block size 32)', () => {
		for (let length = 0; length <= 70; length++) {
			const message = 'x'.repeat(length);
			const encrypted = encryptMessage(message, AES_KEY, APP_ID);
			assert.equal(Buffer.from(encrypted, 'base64').length % 32, 0);
			assert.deepEqual(wechat.decryptMessage(encrypted, AES_KEY), { message, appId: APP_ID });
			const result = decryptPush(wechat.encryptMessage(message, AES_KEY, APP_ID), [AES_KEY], APP_ID);
			assert.ok(result.ok && result.message === message);
		}
	});

	test('falls back to the previous key and reports which key worked', () => {
		const encrypted = wechat.encryptMessage('<xml/>', OLD_AES_KEY, APP_ID);
		assert.deepEqual(decryptPush(encrypted, [AES_KEY, OLD_AES_KEY], APP_ID), {
			ok: true,
			message: '<xml/>',
			encodingAESKey: OLD_AES_KEY,
		});
	});

	test('the reused decipher: every push decrypts the same whatever was decrypted before it', () => {
		const pushes = ['<xml><A>1</A></xml>', 'y'.repeat(100), '', '好'.repeat(40)].map((message) => ({
			message,
			current: wechat.encryptMessage(message, AES_KEY, APP_ID),
			previous: wechat.encryptMessage(message, OLD_AES_KEY, APP_ID),
		}));
		const garbage = randomBytes(96).toString('base64');
		for (let round = 0; round < 3; round++) {
			for (const push of pushes) {
				// Before each genuine push: a failed one (random ciphertext), and one that only the other key opens.
				assert.equal(decryptPush(garbage, [AES_KEY, OLD_AES_KEY], APP_ID).ok, false);
				assert.deepEqual(decryptPush(push.previous, [AES_KEY, OLD_AES_KEY], APP_ID), {
					ok: true,
					message: push.message,
					encodingAESKey: OLD_AES_KEY,
				});
				assert.deepEqual(decryptPush(push.current, [AES_KEY, OLD_AES_KEY], APP_ID), {
					ok: true,
					message: push.message,
					encodingAESKey: AES_KEY,
				});
			}
		}
	});

	test('wrong key, wrong AppID, tampering, bad padding, bad length, bad base64, invalid UTF-8', () => {
		const encrypted = wechat.encryptMessage('<xml><A>1</A></xml>', AES_KEY, APP_ID);
		const code = (value: string, keys = [AES_KEY]) => {
			const result = decryptPush(value, keys, APP_ID);
			return result.ok ? 0 : result.code;
		};
		assert.equal(code(encrypted, [OTHER_AES_KEY, OLD_AES_KEY]), -40007);
		assert.equal(code(wechat.encryptMessage('<xml/>', AES_KEY, 'wxOTHERAPPID00000')), -40005);
		assert.equal(code(wechat.encryptMessage('<xml/>', AES_KEY, APP_ID.slice(0, -1))), -40005);

		const bytes = Buffer.from(encrypted, 'base64');
		bytes[bytes.length - 20] ^= 0x01;
		assert.equal(code(bytes.toString('base64')), -40007);

		assert.equal(code(encrypted.slice(0, -4)), -41003);
		assert.equal(code(encrypted.slice(0, -1)), -40010);
		assert.equal(code(`${encrypted.slice(0, 10)}*${encrypted.slice(11)}`), -40010);
		assert.equal(code(''), -40010);
		// Node's decoder would take the URL-safe alphabet and skip blanks; neither is WeChat's base64.
		assert.equal(code(`${encrypted.slice(0, 10)}-${encrypted.slice(11)}`), -40010);
		assert.equal(code(`${encrypted.slice(0, 8)}    ${encrypted.slice(12)}`), -40010);

		const key = aesKeyFromEncodingAESKey(AES_KEY) as Buffer;
		const rawEncrypt = (plaintext: Buffer) => {
			const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
			cipher.setAutoPadding(false);
			return Buffer.concat([cipher.update(plaintext), cipher.final()]).toString('base64');
		};
		const framed = (message: Buffer, declaredLength = message.length) => {
			const length = Buffer.alloc(4);
			length.writeUInt32BE(declaredLength);
			return Buffer.concat([randomBytes(16), length, message, Buffer.from(APP_ID)]);
		};
		const validlyPadded = (data: Buffer) => {
			const count = 32 - (data.length % 32);
			return Buffer.concat([data, Buffer.alloc(count, count)]);
		};
		// A message length that leaves several padding bytes, so that each corruption below is a real one.
		let message = '<xml/>';
		while (32 - (framed(Buffer.from(message)).length % 32) < 4) message += ' ';
		const padded = validlyPadded(framed(Buffer.from(message)));
		assert.equal(code(rawEncrypt(padded)), 0, 'the hand-built frame itself is valid');
		const corrupt = (change: (data: Buffer) => void) => {
			const copy = Buffer.from(padded);
			change(copy);
			return code(rawEncrypt(copy));
		};
		assert.equal(corrupt((d) => (d[d.length - 1] = 0)), -40007, 'pad byte 0');
		assert.equal(corrupt((d) => (d[d.length - 1] = 33)), -40007, 'pad byte beyond the 32-byte block');
		assert.equal(corrupt((d) => (d[d.length - 2] ^= 0xff)), -40007, 'inconsistent pad bytes');
		// A length field pointing past the end.
		assert.equal(code(rawEncrypt(validlyPadded(framed(Buffer.from('<xml/>'), 5000)))), -40007);
		// Invalid UTF-8 inside a correctly framed message.
		assert.equal(code(rawEncrypt(validlyPadded(framed(Buffer.from([0x3c, 0xff, 0xfe, 0x3e]))))), -40008);
	});
});
