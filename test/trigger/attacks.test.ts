import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { beforeEach, describe, test } from 'node:test';

import type { IDataObject } from 'n8n-workflow';

import {
	clearDeduplicationStore,
	deduplicationStoreBytes,
	deduplicationStoreSize,
} from '../../nodes/WeChatCustomerServiceTrigger/helpers/deduplicate';
import { readPushSettings, type PushSettings } from '../../nodes/WeChatCustomerServiceTrigger/helpers/pushSettings';
import { receivePush, UNIFORM_FAILURE, type PushOutcome } from '../../nodes/WeChatCustomerServiceTrigger/helpers/receivePush';
import * as wechat from '../emulator/pushCrypto';
import { buildHandshake, toXml } from '../emulator/pushSender';
import { message, OA, OPENID, pushCall } from './fixtures';
import {
	AES_KEY,
	APP_ID,
	APP_SECRET,
	callWebhook,
	createWebhookContext,
	credentials,
	OLD_AES_KEY,
	TOKEN,
	trigger,
	type WebhookCall,
	type WebhookResult,
} from './webhookContext';

/**
 * The trigger attacked as the attacks were found: by someone who saw one real push URL (a proxy's access log, a
 * screenshot), by someone who knows only the Token (3–32 characters, guessable offline from one captured
 * `signature`), and by a flood. Each test asserts what the attacker gets — no execution, the one uniform answer where
 * it matters — and what the operator gets: one secret-free line in the log. Then the next genuine push still works.
 */

beforeEach(() => clearDeduplicationStore());

const SECRETS = [TOKEN, AES_KEY, OLD_AES_KEY, APP_SECRET];
const nowSeconds = () => Math.floor(Date.now() / 1000);

function assertRefused(result: WebhookResult, status: number, body?: string): void {
	assert.equal(result.response.status, status, String(result.response.body));
	if (body !== undefined) assert.equal(result.response.body, body);
	assert.equal(result.result.workflowData, undefined, 'no execution');
	assert.equal(result.response.logs.length, 1, 'one log line');
	const [line] = result.response.logs;
	assert.match(line.message, /^WeChat (push|handshake) refused: /);
	for (const secret of SECRETS) {
		assert.ok(!String(result.response.body).includes(secret), 'no secret in the answer');
		assert.ok(!line.message.includes(secret), 'no secret in the log');
	}
}

async function assertGenuinePushStillWorks(call: Partial<WebhookCall> = {}): Promise<void> {
	const genuine = await callWebhook(pushCall(message('text'), { mode: 'safe' }, call));
	assert.equal(genuine.response.status, 200);
	assert.ok(genuine.item, 'the genuine push started an execution');
	assert.equal(genuine.response.logs.length, 0);
}

/** What the attacker captured: the query and body of one genuine safe-mode push. */
function capturedSafePush(fields = message('text')) {
	return pushCall(fields, { mode: 'safe' });
}

/** A query signed with the Token, as an attacker who knows it builds one; `msg_signature` over `encrypt` if given. */
function signWithToken(encrypt?: string, timestamp = String(nowSeconds())): Record<string, string> {
	const nonce = String(100000 + Math.floor(Math.random() * 1e6));
	const query: Record<string, string> = { signature: wechat.plainSignature(TOKEN, timestamp, nonce), timestamp, nonce };
	if (encrypt !== undefined) {
		query.encrypt_type = 'aes';
		query.msg_signature = wechat.messageSignature(TOKEN, timestamp, nonce, encrypt);
	}
	return query;
}

const forgedBody = (fields: Record<string, string> = {}) =>
	toXml({
		ToUserName: OA,
		FromUserName: 'oVictimOpenId000000000000001',
		CreateTime: String(nowSeconds()),
		MsgType: 'text',
		Content: 'forged: please call 400-000-0000',
		MsgId: '24000000000000099',
		...fields,
	});

describe('attack: downgrade a captured safe-mode URL to plaintext', () => {
	const variants: Array<[string, (query: Record<string, unknown>) => Record<string, unknown>]> = [
		['encrypt_type and msg_signature removed', ({ encrypt_type: _e, msg_signature: _m, ...rest }) => rest],
		['encrypt_type=raw', (query) => ({ ...query, encrypt_type: 'raw' })],
		['encrypt_type missing, msg_signature kept', ({ encrypt_type: _e, ...rest }) => rest],
		['encrypt_type repeated (a list)', (query) => ({ ...query, encrypt_type: ['aes', 'aes'] })],
		['Encrypt_Type in other letter case', ({ encrypt_type: _e, ...rest }) => ({ ...rest, Encrypt_Type: 'aes' })],
		['encrypt_type as an object (a[b]=c)', (query) => ({ ...query, encrypt_type: { aes: 'raw' } })],
	];
	for (const encryption of ['auto', 'safe', 'compatible'] as const) {
		for (const [name, rewrite] of variants) {
			test(`${encryption}: ${name} → refused, nothing runs`, async () => {
				const captured = capturedSafePush();
				const result = await callWebhook({
					query: rewrite(captured.query),
					rawBody: forgedBody(),
					parameters: { encryption },
				});
				assert.ok([400, 401].includes(result.response.status ?? 0), String(result.response.body));
				assertRefused(result, result.response.status ?? 0);
				await assertGenuinePushStillWorks({ parameters: { encryption } });
			});
		}
	}

	test('12,000 forged plaintext bodies under one captured URL start nothing', async () => {
		const captured = capturedSafePush();
		const { encrypt_type: _e, msg_signature: _m, ...plainQuery } = captured.query;
		let executions = 0;
		for (let i = 0; i < 12_000; i++) {
			const result = await callWebhook({ query: plainQuery, rawBody: forgedBody({ MsgId: String(24e15 + i) }) });
			if (result.result.workflowData) executions++;
		}
		assert.equal(executions, 0);
		assert.equal(deduplicationStoreSize(), 0, 'refusals are not remembered');
	});

	test('only an explicit choice of plaintext mode accepts plaintext while a key is configured', async () => {
		const chosen = await callWebhook(pushCall(message('text'), { mode: 'plaintext' }, { credentials: credentials(), parameters: { encryption: 'plaintext' } }));
		assert.ok(chosen.item);
		const safeOnly = await callWebhook(
			pushCall(message('text'), { mode: 'plaintext' }, { credentials: credentials({ encodingAESKey: '' }), parameters: { encryption: 'safe' } }),
		);
		assertRefused(safeOnly, 401);
	});

	test('compatible mode: a rewritten plaintext copy changes nothing — the output is the authenticated one', async () => {
		const fields = message('text');
		const call = pushCall(fields, { mode: 'compatible' }, { parameters: { encryption: 'compatible' } });
		call.rawBody = String(call.rawBody).replace(OPENID, 'oVictimOpenId000000000000001');
		const result = await callWebhook(call);
		assert.equal(result.item?.FromUserName, OPENID);
	});
});

describe('attack: padding oracle by someone who knows only the Token', () => {
	const key = Buffer.from(`${AES_KEY}=`, 'base64');
	const encryptRaw = (plaintext: Buffer) => {
		const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
		cipher.setAutoPadding(false);
		return Buffer.concat([cipher.update(plaintext), cipher.final()]).toString('base64');
	};
	const frame = (body: Buffer, appId = APP_ID) => {
		const length = Buffer.alloc(4);
		length.writeUInt32BE(body.length);
		return Buffer.concat([randomBytes(16), length, body, Buffer.from(appId)]);
	};
	const pad = (data: Buffer, fillWith?: number) => {
		const fill = 32 - (data.length % 32);
		return Buffer.concat([data, Buffer.alloc(fill, fillWith ?? fill)]);
	};
	const sendEncrypt = (encrypt: string) =>
		callWebhook({ query: signWithToken(encrypt), rawBody: toXml({ ToUserName: OA, Encrypt: encrypt }) });

	test('bad padding, wrong AppID, invalid UTF-8, bad length, bad base64, no push inside: one identical answer', async () => {
		const textPush = Buffer.from(toXml(message('text')));
		const failures: Record<string, string> = {
			'bad padding': encryptRaw(pad(frame(textPush), 0)),
			'wrong AppID': wechat.encryptMessage(toXml(message('text')), AES_KEY, 'wxAnotherAccount0'),
			'AppID prefix': wechat.encryptMessage(toXml(message('text')), AES_KEY, APP_ID.slice(0, -2)),
			'AppID with a suffix': wechat.encryptMessage(toXml(message('text')), AES_KEY, `${APP_ID}XYZ`),
			'invalid UTF-8': encryptRaw(pad(frame(Buffer.from([0x3c, 0xff, 0xfe, 0x3e])))),
			'length beyond the message': encryptRaw(pad(Buffer.concat([randomBytes(16), Buffer.from([0, 0, 0x13, 0x88]), textPush, Buffer.from(APP_ID)]))),
			'not base64': 'not*base64*at*all=',
			'not a whole block': wechat.encryptMessage('<xml/>', AES_KEY, APP_ID).slice(0, -8),
			'not a push inside': wechat.encryptMessage('hello', AES_KEY, APP_ID),
			'a push without MsgType inside': wechat.encryptMessage(`<xml><ToUserName>${OA}</ToUserName><FromUserName>${OPENID}</FromUserName><CreateTime>${nowSeconds()}</CreateTime></xml>`, AES_KEY, APP_ID),
			'an OpenID of 400 KB inside': wechat.encryptMessage(toXml({ ...message('text'), FromUserName: 'o'.repeat(40_000) }), AES_KEY, APP_ID),
			'a 2017 CreateTime inside': wechat.encryptMessage(toXml({ ...message('text'), CreateTime: '1500000000' }), AES_KEY, APP_ID),
			'wrong key': wechat.encryptMessage(toXml(message('text')), OLD_AES_KEY, APP_ID),
		};
		const answers = new Set<string>();
		const logReasons = new Set<string>();
		for (const [name, encrypt] of Object.entries(failures)) {
			const result = await sendEncrypt(encrypt);
			assertRefused(result, 400, UNIFORM_FAILURE);
			answers.add(`${result.response.status} ${result.response.contentType} ${result.response.body}`);
			logReasons.add(result.response.logs[0].message);
			assert.ok(!result.response.logs[0].message.includes('o'.repeat(100)), `${name}: no decrypted field in the log`);
		}
		assert.equal(answers.size, 1, 'the attacker sees one answer');
		assert.ok(logReasons.size >= 4, 'the operator sees which check failed');
		await assertGenuinePushStillWorks();
	});

	test('flipping every value of the last padding byte of a captured push: 256 identical answers, nothing runs', async () => {
		const captured = capturedSafePush();
		const encrypt = /<Encrypt><!\[CDATA\[(.*?)\]\]>/.exec(String(captured.rawBody))?.[1] ?? '';
		const bytes = Buffer.from(encrypt, 'base64');
		const answers = new Set<string>();
		for (let guess = 0; guess < 256; guess++) {
			const probe = Buffer.from(bytes);
			probe[probe.length - 33] ^= guess; // the previous block's byte flips the last plaintext (padding) byte
			if (guess === 0) continue; // the untouched push itself is genuine
			const result = await sendEncrypt(probe.toString('base64'));
			assert.equal(result.result.workflowData, undefined);
			answers.add(`${result.response.status} ${result.response.body}`);
		}
		assert.deepEqual([...answers], [`400 ${UNIFORM_FAILURE}`]);
	});
});

describe('attack: a captured plaintext-mode URL', () => {
	const plaintextSetUp = { credentials: credentials({ encodingAESKey: '' }) };

	test('its timestamp and nonce carry only the body they came with', async () => {
		const captured = pushCall(message('text'), { mode: 'plaintext' });
		assert.ok((await callWebhook(captured)).item, 'the genuine delivery');
		const forged = await callWebhook({ ...captured, rawBody: forgedBody() });
		assertRefused(forged, 401);
		assert.match(String(forged.response.body), /already used with another body/);
		// WeChat delivering the same request again gets the same answer and starts nothing.
		const again = await callWebhook(captured);
		assert.equal(again.response.status, 200);
		assert.equal(again.item, undefined);
	});

	test('a forged body sent before the genuine one binds the URL to nothing WeChat will send: the attacker must race WeChat', async () => {
		// The attacker who learns a URL from a log learns it after WeChat delivered it; this is the rest of the story:
		// whichever body comes first owns (timestamp, nonce), and the other is refused.
		const genuine = pushCall(message('text'), { mode: 'plaintext' });
		const first = await callWebhook({ ...genuine, rawBody: forgedBody() });
		assert.ok(first.item, 'plaintext mode cannot tell: nothing signs the body (use safe mode)');
		const second = await callWebhook(genuine);
		assertRefused(second, 401);
	});

	test('the Token alone forges plaintext pushes: the reason safe mode is the advice', async () => {
		const result = await callWebhook({ query: signWithToken(), rawBody: forgedBody(), ...plaintextSetUp });
		assert.ok(result.item);
	});
});

describe('attack: abuse of the push memory', () => {
	test('a 400 KB FromUserName or MsgId is refused and stores nothing', async () => {
		for (const fields of [
			{ ...message('text'), FromUserName: 'o'.repeat(40_000) },
			{ ...message('text'), MsgId: '9'.repeat(40_000) },
		]) {
			const call = pushCall(fields, { mode: 'safe' });
			call.query.openid = OPENID; // the query's copy is not what the memory would key on
			const result = await callWebhook(call);
			assertRefused(result, 400, UNIFORM_FAILURE);
		}
		assert.equal(deduplicationStoreBytes(), 0);
	});

	test('forged events for a predictable key cannot pre-empt a genuine encrypted push', async () => {
		const genuine = message('CLICK');
		// The attacker knows the Token, the follower, the second and the menu key, but not the EncodingAESKey.
		for (let i = 0; i < 5; i++) {
			const forged = await callWebhook({ query: signWithToken(), rawBody: toXml(genuine) });
			assertRefused(forged, 401);
		}
		const real = await callWebhook(pushCall(genuine, { mode: 'safe' }));
		assert.ok(real.item, 'the genuine push runs');
	});

	test('a flood by a Token holder in plaintext mode: memory stays within its bound, live entries stay, the operator is told', () => {
		const settings: PushSettings = {
			...readPushSettings(credentials({ encodingAESKey: '' }), { events: ['*'], reply: 'success', kfAccount: '', options: {} }, 'flood'),
			memoryBytes: 256 * 1024,
		};
		const now = Date.now();
		const deliver = (fields: Record<string, string>, timestamp = String(nowSeconds())): PushOutcome => {
			const query = signWithToken(undefined, timestamp);
			return receivePush({ query, rawBody: toXml(fields) }, settings, now);
		};
		const retried = message('text');
		assert.ok(deliver(retried).item);
		let unremembered = 0;
		for (let i = 0; i < 5_000; i++) {
			const outcome = deliver(message('text'));
			if (outcome.logLine?.startsWith('accepted without replay protection')) unremembered++;
		}
		assert.ok(deduplicationStoreBytes() <= settings.memoryBytes, `${deduplicationStoreBytes()} bytes`);
		assert.ok(unremembered > 0, 'the flood filled the memory and each unremembered push was logged');
		const retry = deliver(retried);
		assert.equal(retry.item, undefined, 'the genuine push from before the flood is still remembered: its retry does not run again');
		assert.equal(retry.note, 'duplicate');
	});
});

describe('attack: replay of a captured encrypted push later', () => {
	const settingsWith = (maxTimestampAge: number): PushSettings =>
		readPushSettings(credentials(), { events: ['*'], reply: 'success', kfAccount: '', options: { maxTimestampAge } }, 'replay');
	const deliver = (call: WebhookCall, settings: PushSettings, at: number) =>
		receivePush({ query: call.query as IDataObject, rawBody: call.rawBody }, settings, at);

	test('as captured, 301 s later: the timestamp is outside the window', () => {
		const settings = settingsWith(300);
		const captured = capturedSafePush();
		const t0 = Date.now();
		assert.ok(deliver(captured, settings, t0).item);
		const replay = deliver(captured, settings, t0 + 301_000);
		assert.equal(replay.item, undefined);
		assert.equal(replay.status, 401);
	});

	test('with a 10-minute window, replayed 301 s and 590 s later: still remembered, nothing runs', () => {
		const settings = settingsWith(600);
		const captured = capturedSafePush();
		const t0 = Date.now();
		assert.ok(deliver(captured, settings, t0).item);
		for (const later of [301_000, 590_000]) {
			const replay = deliver(captured, settings, t0 + later);
			assert.equal(replay.item, undefined, `${later / 1000} s later`);
			assert.equal(replay.note, 'duplicate');
		}
	});

	test('a timestamp ahead of the clock is remembered until it has left the window', () => {
		const settings = settingsWith(300);
		const ahead = String(nowSeconds() + 250);
		const captured = pushCall(message('text'), { mode: 'safe', timestamp: ahead });
		const t0 = Date.now();
		assert.ok(deliver(captured, settings, t0).item);
		// 450 s later the timestamp is 200 s old: inside the window, so the entry must still be there.
		const replay = deliver(captured, settings, t0 + 450_000);
		assert.equal(replay.item, undefined);
		assert.equal(replay.note, 'duplicate');
	});

	test('re-signed with a fresh timestamp by a Token holder: the push’s own CreateTime gives it away', () => {
		const settings = settingsWith(300);
		const captured = capturedSafePush();
		const t0 = Date.now();
		assert.ok(deliver(captured, settings, t0).item);
		const encrypt = /<Encrypt><!\[CDATA\[(.*?)\]\]>/.exec(String(captured.rawBody))?.[1] ?? '';
		const later = t0 + 400_000;
		const query = signWithToken(encrypt, String(Math.floor(later / 1000)));
		const replay = receivePush({ query, rawBody: captured.rawBody }, settings, later);
		assert.equal(replay.item, undefined);
		assert.equal(replay.body, UNIFORM_FAILURE);
		assert.match(replay.logLine ?? '', /CreateTime outside the accepted window/);
	});
});

describe('attack: the GET handshake', () => {
	test('a validly signed triple from 2017 is refused', async () => {
		const old = buildHandshake({ token: TOKEN, timestamp: '1500000000', echostr: '1234567890' });
		const result = await callWebhook({ webhookName: 'setup', query: old.query });
		assertRefused(result, 401);
		assert.ok(!String(result.response.body).includes('1234567890'));
	});

	test('markup in echostr is never reflected, even validly signed and fresh', async () => {
		for (const echostr of ['<script>alert(1)</script>', '1234"><img src=x>', 'a'.repeat(129), '']) {
			const { query } = buildHandshake({ token: TOKEN, echostr });
			const result = await callWebhook({ webhookName: 'setup', query });
			assertRefused(result, 400);
			assert.ok(!String(result.response.body).includes('<'));
		}
		const genuine = buildHandshake({ token: TOKEN, echostr: '5837397520665436492' });
		assert.equal((await callWebhook({ webhookName: 'setup', query: genuine.query })).response.body, '5837397520665436492');
	});
});

describe('the operator’s view', () => {
	test('an exception inside webhook() answers 500, starts nothing and leaves one line naming it', async () => {
		const { context, response } = createWebhookContext(pushCall(message('text')));
		(context as unknown as { getCredentials: () => Promise<never> }).getCredentials = async () => {
			throw new Error('Node does not have any credentials set');
		};
		const result = await trigger.webhook.call(context);
		assert.deepEqual(result, { noWebhookResponse: true });
		assert.equal(response.status, 500);
		assert.deepEqual(
			response.logs.map((line) => [line.level, line.message]),
			[['warn', 'WeChat push failed: Error: Node does not have any credentials set']],
		);
	});

	test('once the credential is read, its secrets are blanked out of an exception’s log line', async () => {
		const { context, response } = createWebhookContext(pushCall(message('text')));
		(context as unknown as { getNodeParameter: () => never }).getNodeParameter = () => {
			throw new Error(`parameter broke near ${TOKEN}, ${AES_KEY} and ${APP_SECRET}`);
		};
		await trigger.webhook.call(context);
		assert.deepEqual(
			response.logs.map((line) => line.message),
			['WeChat push failed: Error: parameter broke near ***, *** and ***'],
		);
	});
});
