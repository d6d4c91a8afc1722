import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { beforeEach, describe, test } from 'node:test';

import {
	clearDeduplicationStore,
	deduplicationStoreSize,
} from '../../nodes/WeChatCustomerServiceTrigger/helpers/deduplicate';
import { MAX_PUSH_BYTES } from '../../nodes/WeChatCustomerServiceTrigger/helpers/parsePush';
import { UNIFORM_FAILURE } from '../../nodes/WeChatCustomerServiceTrigger/helpers/receivePush';
import * as wechat from '../emulator/pushCrypto';
import { toJson, toXml } from '../emulator/pushSender';
import { message, OA, pushCall } from './fixtures';
import {
	AES_KEY,
	APP_ID,
	APP_SECRET,
	callWebhook,
	credentials,
	OLD_AES_KEY,
	OTHER_AES_KEY,
	TOKEN,
	type WebhookCall,
} from './webhookContext';

/**
 * Every hostile request gets a 4xx with a short reason, `{ noWebhookResponse: true }`, no execution, no exception, no
 * secret in the answer — and the next valid push still works.
 */

beforeEach(() => clearDeduplicationStore());

const nowSeconds = () => String(Math.floor(Date.now() / 1000));

/** Signed query for a hand-made body: `signature` always, `msg_signature` over `encrypt` when given. */
function signedQuery(encrypt?: string, token = TOKEN): Record<string, string> {
	const timestamp = nowSeconds();
	const nonce = String(100000 + Math.floor(Math.random() * 1e6));
	const query: Record<string, string> = {
		signature: wechat.plainSignature(token, timestamp, nonce),
		timestamp,
		nonce,
		openid: 'o_attacker',
	};
	if (encrypt !== undefined) {
		query.encrypt_type = 'aes';
		query.msg_signature = wechat.messageSignature(token, timestamp, nonce, encrypt);
	}
	return query;
}

/** A hand-made body for a plaintext set-up (a credential without an EncodingAESKey). */
function plainCall(rawBody: string | Buffer | undefined): WebhookCall {
	return { query: signedQuery(), rawBody, credentials: credentials({ encodingAESKey: '' }) };
}

/** A safe-mode envelope around an arbitrary Encrypt value, correctly signed (an attacker who knows the token). */
function safeEnvelope(encrypt: string, format: 'xml' | 'json' = 'xml'): WebhookCall {
	const envelope = { ToUserName: OA, Encrypt: encrypt };
	return {
		query: signedQuery(encrypt),
		rawBody: format === 'xml' ? toXml(envelope) : toJson(envelope),
	};
}

/** Encrypts a plaintext message correctly (valid key, AppID) — for hostile content inside the ciphertext. */
function encryptedCall(plaintext: string, format: 'xml' | 'json' = 'xml'): WebhookCall {
	return safeEnvelope(wechat.encryptMessage(plaintext, AES_KEY, APP_ID), format);
}

const key = Buffer.from(`${AES_KEY}=`, 'base64');
function rawEncrypt(plaintext: Buffer): string {
	const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
	cipher.setAutoPadding(false);
	return Buffer.concat([cipher.update(plaintext), cipher.final()]).toString('base64');
}

const bomb =
	'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
	'<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
	'<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">' +
	'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>' +
	`<xml><ToUserName>${OA}</ToUserName><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>&lol3;</Content></xml>`;
const xxe =
	'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
	`<xml><ToUserName>${OA}</ToUserName><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>&xxe;</Content></xml>`;
const protoXml = `<xml><ToUserName>${OA}</ToUserName><FromUserName>o</FromUserName><MsgType>text</MsgType><__proto__><polluted>yes</polluted></__proto__></xml>`;
const constructorXml = `<xml><ToUserName>${OA}</ToUserName><FromUserName>o</FromUserName><MsgType>text</MsgType><constructor><prototype><polluted>yes</polluted></prototype></constructor></xml>`;
const protoJson = `{"ToUserName":"${OA}","FromUserName":"o","MsgType":"text","__proto__":{"polluted":"yes"}}`;

interface HostileCase {
	name: string;
	status: number;
	/** Part of the short reason in the answer; UNIFORM_FAILURE for every failure after msg_signature passed. */
	reason?: RegExp | typeof UNIFORM_FAILURE;
	call: () => WebhookCall;
}

const cases: HostileCase[] = [
	{
		name: 'wrong signature',
		status: 401,
		reason: /-40001/,
		call: () => {
			const call = pushCall(message('text'), { mode: 'plaintext' });
			call.query.signature = 'f464b24fc39322e44b38aa78f5edd27bd1441696';
			return call;
		},
	},
	{
		name: 'signature made with another token',
		status: 401,
		call: () => pushCall(message('text'), { mode: 'plaintext', token: 'someOtherToken' }),
	},
	{
		name: 'missing signature',
		status: 401,
		call: () => {
			const call = pushCall(message('text'), { mode: 'plaintext' });
			delete call.query.signature;
			return call;
		},
	},
	{
		name: 'signature given twice (array in the query)',
		status: 400,
		reason: /repeated/,
		call: () => {
			const call = pushCall(message('text'), { mode: 'plaintext' });
			call.query.signature = [call.query.signature, call.query.signature];
			return call;
		},
	},
	{
		name: 'missing timestamp',
		status: 401,
		call: () => {
			const call = pushCall(message('text'), { mode: 'plaintext' });
			delete call.query.timestamp;
			return call;
		},
	},
	{
		name: 'stale timestamp (validly signed)',
		status: 401,
		reason: /timestamp/,
		call: () => pushCall(message('text'), { mode: 'safe', timestamp: String(Math.floor(Date.now() / 1000) - 301) }),
	},
	{
		name: 'missing msg_signature in safe mode',
		status: 401,
		reason: /encrypted push expected/,
		call: () => {
			const call = pushCall(message('text'), { mode: 'safe' });
			delete call.query.msg_signature;
			return call;
		},
	},
	{
		name: 'wrong msg_signature (signature alone is not enough)',
		status: 401,
		reason: /msg_signature/,
		call: () => {
			const call = pushCall(message('text'), { mode: 'compatible' });
			call.query.msg_signature = call.query.signature;
			return call;
		},
	},
	{
		name: 'tampered ciphertext, msg_signature not updated',
		status: 401,
		call: () => {
			const call = pushCall(message('text'), { mode: 'safe' });
			const encrypt = /<Encrypt><!\[CDATA\[(.*?)\]\]>/.exec(String(call.rawBody))?.[1] ?? '';
			const bytes = Buffer.from(encrypt, 'base64');
			bytes[40] ^= 0x80;
			call.rawBody = String(call.rawBody).replace(encrypt, bytes.toString('base64'));
			return call;
		},
	},
	{
		name: 'tampered ciphertext, re-signed',
		status: 400,
		reason: UNIFORM_FAILURE,
		call: () => {
			const encrypt = wechat.encryptMessage(toXml(message('text')), AES_KEY, APP_ID);
			const bytes = Buffer.from(encrypt, 'base64');
			bytes[bytes.length - 17] ^= 0x01;
			return safeEnvelope(bytes.toString('base64'));
		},
	},
	{
		name: 'bad padding',
		status: 400,
		reason: UNIFORM_FAILURE,
		call: () => {
			const body = Buffer.from(toXml(message('text')));
			const length = Buffer.alloc(4);
			length.writeUInt32BE(body.length);
			const frame = Buffer.concat([randomBytes(16), length, body, Buffer.from(APP_ID)]);
			const fill = 32 - (frame.length % 32);
			return safeEnvelope(rawEncrypt(Buffer.concat([frame, Buffer.alloc(fill, 0)])));
		},
	},
	{
		name: 'wrong AppID inside the ciphertext',
		status: 400,
		reason: UNIFORM_FAILURE,
		call: () => pushCall(message('text'), { mode: 'safe', appId: 'wxAnotherAccount0' }),
	},
	{
		name: 'wrong key',
		status: 400,
		reason: UNIFORM_FAILURE,
		call: () => pushCall(message('text'), { mode: 'safe', encodingAESKey: OTHER_AES_KEY }),
	},
	{
		name: 'truncated base64',
		status: 400,
		reason: UNIFORM_FAILURE,
		call: () => {
			const encrypt = wechat.encryptMessage(toXml(message('text')), AES_KEY, APP_ID);
			return safeEnvelope(encrypt.slice(0, -7));
		},
	},
	{
		name: 'Encrypt missing in an encrypted push',
		status: 400,
		reason: /-40002/,
		call: () => ({ query: signedQuery(''), rawBody: toXml({ ToUserName: OA }) }),
	},
	{
		name: 'body over the size limit',
		status: 413,
		call: () => {
			const fields = { ...message('text'), Content: 'x'.repeat(MAX_PUSH_BYTES) };
			return pushCall(fields, { mode: 'plaintext' });
		},
	},
	{
		name: 'entity-expansion bomb (plaintext)',
		status: 400,
		reason: /-40002/,
		call: () => plainCall(bomb),
	},
	{
		name: 'entity-expansion bomb (inside the ciphertext)',
		status: 400,
		reason: UNIFORM_FAILURE,
		call: () => encryptedCall(bomb),
	},
	{
		name: 'external-entity DOCTYPE',
		status: 400,
		call: () => plainCall(xxe),
	},
	{
		name: '__proto__ element',
		status: 400,
		call: () => plainCall(protoXml),
	},
	{
		name: '__proto__ element inside the ciphertext',
		status: 400,
		reason: UNIFORM_FAILURE,
		call: () => encryptedCall(protoXml),
	},
	{
		name: 'constructor/prototype elements',
		status: 400,
		call: () => plainCall(constructorXml),
	},
	{
		name: '__proto__ JSON key',
		status: 400,
		call: () => plainCall(protoJson),
	},
	{
		name: 'duplicate JSON keys',
		status: 400,
		call: () => plainCall(`{"ToUserName":"${OA}","ToUserName":"x","FromUserName":"o","MsgType":"text"}`),
	},
	{
		name: 'invalid UTF-8 body',
		status: 400,
		reason: /UTF-8/,
		call: () =>
			plainCall(
				Buffer.concat([Buffer.from('<xml><ToUserName>'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('</ToUserName></xml>')]),
			),
	},
	{
		name: 'invalid UTF-8 inside the ciphertext',
		status: 400,
		reason: UNIFORM_FAILURE,
		call: () => {
			const body = Buffer.concat([Buffer.from('<xml><A>'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('</A></xml>')]);
			const length = Buffer.alloc(4);
			length.writeUInt32BE(body.length);
			const frame = Buffer.concat([randomBytes(16), length, body, Buffer.from(APP_ID)]);
			const fill = 32 - (frame.length % 32);
			return safeEnvelope(rawEncrypt(Buffer.concat([frame, Buffer.alloc(fill, fill)])));
		},
	},
	{ name: 'empty body', status: 400, reason: /empty/, call: () => plainCall('') },
	{ name: 'no body at all', status: 400, call: () => plainCall(undefined) },
	{ name: 'whitespace body', status: 400, call: () => plainCall(' \n ') },
	{ name: 'neither XML nor JSON', status: 400, call: () => plainCall('signature=abc') },
	{
		name: 'JSON where XML is configured',
		status: 400,
		reason: /expected an XML push/,
		call: () => ({ ...pushCall(message('text'), { mode: 'safe', format: 'json' }), parameters: { options: { format: 'xml' } } }),
	},
	{
		name: 'XML where JSON is configured',
		status: 400,
		reason: /expected a JSON push/,
		call: () => ({ ...pushCall(message('text'), { mode: 'plaintext', format: 'xml' }), parameters: { options: { format: 'json' } } }),
	},
	{
		name: 'JSON envelope carrying XML inside the ciphertext',
		status: 400,
		reason: UNIFORM_FAILURE,
		call: () => encryptedCall(toXml(message('text')), 'json'),
	},
	{
		name: 'malformed XML',
		status: 400,
		call: () => plainCall('<xml><ToUserName>gh</ToUserName>'),
	},
	{
		name: 'root element other than <xml>',
		status: 400,
		call: () => plainCall('<root><ToUserName>a</ToUserName></root>'),
	},
	{
		name: 'push without MsgType',
		status: 400,
		reason: /-40008/,
		call: () => plainCall(`<xml><ToUserName>${OA}</ToUserName><FromUserName>o</FromUserName></xml>`),
	},
	{
		name: 'MsgType given twice',
		status: 400,
		call: () =>
			plainCall(
				`<xml><ToUserName>${OA}</ToUserName><FromUserName>o</FromUserName><MsgType>text</MsgType><MsgType>event</MsgType></xml>`,
			),
	},
	{
		name: 'unknown encrypt_type',
		status: 400,
		call: () => {
			const call = pushCall(message('text'), { mode: 'plaintext' });
			call.query.encrypt_type = 'rsa';
			return call;
		},
	},
	{
		name: 'deeply nested XML',
		status: 400,
		call: () => plainCall(`<xml><ToUserName>a</ToUserName>${'<a>'.repeat(40)}x${'</a>'.repeat(40)}</xml>`),
	},
];

describe('hostile input', () => {
	for (const hostile of cases) {
		test(`${hostile.name} → ${hostile.status}, no execution, next valid push works`, async () => {
			const call = hostile.call();
			const result = await callWebhook(call);
			assert.equal(result.response.status, hostile.status, String(result.response.body));
			assert.deepEqual(result.result, { noWebhookResponse: true }, 'no workflowData');
			assert.equal(result.item, undefined);
			assert.equal(result.response.sends, 1);
			assert.equal(result.response.contentType, 'text/plain');
			const body = String(result.response.body);
			assert.ok(body.length > 0 && body.length < 120, `short reason: ${body}`);
			if (hostile.reason === UNIFORM_FAILURE) assert.equal(body, UNIFORM_FAILURE);
			else if (hostile.reason instanceof RegExp) assert.match(body, hostile.reason);
			for (const secret of [TOKEN, AES_KEY, OLD_AES_KEY, APP_SECRET, APP_ID]) assert.ok(!body.includes(secret));
			// One secret-free line in n8n's log says what was refused and where.
			assert.equal(result.response.logs.length, 1);
			const [line] = result.response.logs;
			assert.equal(line.level, 'warn');
			assert.match(line.message, /^WeChat push refused: /);
			assert.deepEqual(line.metadata, { workflowId: 'workflow-1', node: 'WeChat Customer Service Trigger' });
			for (const secret of [TOKEN, AES_KEY, OLD_AES_KEY, APP_SECRET]) assert.ok(!line.message.includes(secret));
			assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');

			const configured = (call.parameters?.options as { format?: 'xml' | 'json' } | undefined)?.format;
			const valid = await callWebhook(
				pushCall(message('text'), { mode: 'safe', format: configured ?? 'xml' }, { parameters: call.parameters }),
			);
			assert.equal(valid.response.status, 200);
			assert.equal(valid.result.workflowData?.length, 1);
		});
	}

	test('a validly signed push cannot be replayed within the window (same MsgId): answered, not executed', async () => {
		const call = pushCall(message('text'), { mode: 'safe' });
		assert.ok((await callWebhook(call)).item);
		const replay = await callWebhook(call);
		assert.equal(replay.response.status, 200);
		assert.equal(replay.item, undefined);
	});

	test('rejected requests leave nothing in memory', async () => {
		for (let i = 0; i < 300; i++) {
			const call = pushCall(message('text'), { mode: 'plaintext' });
			call.query.signature = '0'.repeat(40);
			assert.equal((await callWebhook(call)).response.status, 401);
		}
		assert.equal(deduplicationStoreSize(), 0);
	});
});
