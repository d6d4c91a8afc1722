/**
 * Tests of the WeChat emulator itself: if the emulator is wrong, every test built on it proves nothing.
 * Each test starts its own emulator on an ephemeral loopback port and closes it in `finally`.
 */
import { spawn } from 'node:child_process';
import { createDecipheriv, createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decryptMessage, encryptMessage, messageSignature, plainSignature, sha1Sorted } from './pushCrypto';
import { buildHandshake, buildPush, decryptReply, deliverPush, toXml, xmlField } from './pushSender';
import { DEFAULT_DAILY_QUOTAS } from './quotas';
import { type Emulator, type EmulatorOptions, startEmulator } from './server';
import { DAY, HOUR, MINUTE, SECOND } from './state';
import { ERRMSG, errmsgWithoutRid } from './wechatErrors';

// ── helpers ──────────────────────────────────────────────────────────────────────────────────────────

async function withEmulator(fn: (emulator: Emulator) => Promise<void>, options?: EmulatorOptions): Promise<void> {
	const emulator = await startEmulator(options);
	try {
		await fn(emulator);
	} finally {
		await emulator.close();
	}
}

// Response bodies are whatever JSON the emulator sent; tests read fields directly.
type Json = any;

interface CallOptions {
	query?: Record<string, string>;
	json?: unknown;
	form?: FormData;
	/** undefined: fetch a classic token first; null: send no access_token */
	token?: string | null;
}

async function call(
	emulator: Emulator,
	method: 'GET' | 'POST',
	apiPath: string,
	options: CallOptions = {},
): Promise<{ status: number; body: Json; contentType: string | null }> {
	const url = new URL(emulator.baseUrl + apiPath);
	const token = options.token === undefined ? await classicToken(emulator) : options.token;
	if (token !== null) url.searchParams.set('access_token', token);
	for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
	const init: RequestInit = { method };
	if (options.json !== undefined) {
		init.body = JSON.stringify(options.json);
		init.headers = { 'content-type': 'application/json' };
	} else if (options.form) {
		init.body = options.form;
	}
	const response = await fetch(url, init);
	const text = await response.text();
	let body: Json = text;
	try {
		body = JSON.parse(text);
	} catch {
		// not JSON: keep the text
	}
	return { status: response.status, body, contentType: response.headers.get('content-type') };
}

const tokenCache = new WeakMap<Emulator, { token: string; at: number }>();

/** One classic token per emulator, re-fetched on request or when the test moved the clock more than an hour. */
async function classicToken(emulator: Emulator, fresh = false): Promise<string> {
	const cached = tokenCache.get(emulator);
	if (cached && !fresh && emulator.now() - cached.at < HOUR) return cached.token;
	const url = `${emulator.baseUrl}/cgi-bin/token?grant_type=client_credential&appid=${emulator.appId}&secret=${emulator.appSecret}`;
	const body = (await (await fetch(url)).json()) as Json;
	assert.equal(typeof body.access_token, 'string', JSON.stringify(body));
	tokenCache.set(emulator, { token: body.access_token, at: emulator.now() });
	return body.access_token;
}

async function stableToken(emulator: Emulator, extra: Record<string, unknown> = {}): Promise<Json> {
	const response = await fetch(`${emulator.baseUrl}/cgi-bin/stable_token`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ grant_type: 'client_credential', appid: emulator.appId, secret: emulator.appSecret, ...extra }),
	});
	return response.json();
}

function assertError(body: Json, errcode: number): void {
	assert.equal(body.errcode, errcode, JSON.stringify(body));
	assert.equal(errmsgWithoutRid(body.errmsg), ERRMSG[errcode], JSON.stringify(body));
}

const OK = { errcode: 0, errmsg: 'ok' };

function jpegForm(bytes: Buffer | number, filename?: string, field = 'media', type = 'image/jpeg'): FormData {
	const data = typeof bytes === 'number' ? Buffer.alloc(bytes, 7) : bytes;
	const form = new FormData();
	const blob = new Blob([data], { type });
	if (filename === undefined) form.append(field, blob);
	else form.append(field, blob, filename);
	return form;
}

/** A local HTTP server standing in for the trigger's webhook. */
async function withReceiver(
	handler: http.RequestListener,
	fn: (url: string, received: { method: string; url: string; body: string; headers: http.IncomingHttpHeaders }[]) => Promise<void>,
): Promise<void> {
	const received: { method: string; url: string; body: string; headers: http.IncomingHttpHeaders }[] = [];
	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			received.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
			handler(req, res);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	try {
		await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/wechat`, received);
	} finally {
		const closed = new Promise<void>((resolve) => server.close(() => resolve()));
		server.closeAllConnections();
		await closed;
	}
}

const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const APP_ID = 'wx_emulator_appid';

// ── tokens ───────────────────────────────────────────────────────────────────────────────────────────

test('classic token: realistic value, a new token per call, 5-minute grace for the previous one', async () => {
	await withEmulator(async (emulator) => {
		const first = await (await fetch(`${emulator.baseUrl}/cgi-bin/token?grant_type=client_credential&appid=${emulator.appId}&secret=${emulator.appSecret}`)).json() as Json;
		assert.deepEqual(Object.keys(first).sort(), ['access_token', 'expires_in']);
		assert.equal(first.expires_in, 7200);
		assert.match(first.access_token, /^\d{2}_[A-Za-z0-9_-]{100,}$/);
		const second = await classicToken(emulator, true);
		assert.notEqual(second, first.access_token);

		const list = (token: string) => call(emulator, 'GET', '/cgi-bin/customservice/getkflist', { token });
		assert.deepEqual((await list(first.access_token)).body, { kf_list: [] }, 'previous token still works in the grace period');
		emulator.advanceTime(5 * MINUTE - SECOND);
		assert.deepEqual((await list(first.access_token)).body, { kf_list: [] });
		emulator.advanceTime(SECOND);
		const stale = await list(first.access_token);
		assert.equal(stale.status, 200);
		assertError(stale.body, 40001);
		assert.match(stale.body.errmsg, / rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/);
		assert.deepEqual((await list(second)).body, { kf_list: [] }, 'the latest token is unaffected');
		assert.equal(emulator.tokenCalls().length, 2);
	});
});

test('token endpoints: credential and grant_type errors, with the documented codes', async () => {
	await withEmulator(async (emulator) => {
		const classic = async (query: string) => (await fetch(`${emulator.baseUrl}/cgi-bin/token?${query}`)).json() as Json;
		assertError(await classic(`grant_type=password&appid=${emulator.appId}&secret=${emulator.appSecret}`), 40002);
		assertError(await classic(`grant_type=client_credential&secret=${emulator.appSecret}`), 41002);
		assertError(await classic(`grant_type=client_credential&appid=wx_other&secret=${emulator.appSecret}`), 40013);
		assertError(await classic(`grant_type=client_credential&appid=${emulator.appId}`), 41004);
		assertError(await classic(`grant_type=client_credential&appid=${emulator.appId}&secret=wrong`), 40001);
		assertError(await stableToken(emulator, { secret: 'wrong' }), 40125);
		assertError(await stableToken(emulator, { appid: 'wx_other' }), 40013);
		assertError(await stableToken(emulator, { force_refresh: 'true' }), 47001);
		const noBody = await fetch(`${emulator.baseUrl}/cgi-bin/stable_token`, { method: 'POST' });
		assertError(await noBody.json(), 44002);
		const get = await fetch(`${emulator.baseUrl}/cgi-bin/stable_token`);
		assert.equal(get.status, 405, 'stable_token is POST only');
	}, { errmsgRid: false });
});

test('API calls: missing token 41001, unknown 40001, expired 42001 (natural and forced), always HTTP 200', async () => {
	await withEmulator(async (emulator) => {
		const path = '/cgi-bin/customservice/getkflist';
		const missing = await call(emulator, 'GET', path, { token: null });
		assert.equal(missing.status, 200);
		assert.deepEqual(missing.body, { errcode: 41001, errmsg: 'access_token missing' });
		assert.equal(missing.contentType, 'application/json; encoding=utf-8');
		assertError((await call(emulator, 'GET', path, { token: 'made-up' })).body, 40001);

		const token = await classicToken(emulator);
		emulator.advanceTime(7200 * SECOND);
		assertError((await call(emulator, 'GET', path, { token })).body, 42001);

		const fresh = await classicToken(emulator, true);
		emulator.expireCurrentToken();
		assertError((await call(emulator, 'GET', path, { token: fresh })).body, 42001);
		const after = await classicToken(emulator, true);
		assert.deepEqual((await call(emulator, 'GET', path, { token: after })).body, { kf_list: [] });
	}, { errmsgRid: false });
});

test('stable token: same token while valid, rotation 5 minutes before expiry with overlap, independent of classic', async () => {
	await withEmulator(async (emulator) => {
		const a = await stableToken(emulator);
		assert.equal(a.expires_in, 7200);
		assert.ok(a.access_token.length >= 100);
		emulator.advanceTime(1000 * SECOND);
		const b = await stableToken(emulator);
		assert.equal(b.access_token, a.access_token);
		assert.equal(b.expires_in, 6200);

		// A classic call does not touch the stable token.
		await classicToken(emulator, true);
		await classicToken(emulator, true);
		const list = (token: string) => call(emulator, 'GET', '/cgi-bin/customservice/getkflist', { token });
		assert.deepEqual((await list(a.access_token)).body, { kf_list: [] });

		emulator.advanceTime(6200 * SECOND - 5 * MINUTE - SECOND); // 301 s left: still the same token
		const c = await stableToken(emulator);
		assert.equal(c.access_token, a.access_token);
		assert.equal(c.expires_in, 301);
		emulator.advanceTime(SECOND); // 300 s left: rotated
		const d = await stableToken(emulator);
		assert.notEqual(d.access_token, a.access_token);
		assert.equal(d.expires_in, 7200);
		assert.deepEqual((await list(a.access_token)).body, { kf_list: [] }, 'old and new overlap');
		emulator.advanceTime(5 * MINUTE);
		assertError((await list(a.access_token)).body, 42001);
		assert.deepEqual((await list(d.access_token)).body, { kf_list: [] });
	}, { errmsgRid: false });
});

test('stable token force_refresh: invalidates at once, 30 s apart (45011), 20 per day (45009)', async () => {
	await withEmulator(async (emulator) => {
		const a = await stableToken(emulator);
		const b = await stableToken(emulator, { force_refresh: true });
		assert.notEqual(b.access_token, a.access_token);
		assertError((await call(emulator, 'GET', '/cgi-bin/customservice/getkflist', { token: a.access_token })).body, 40001);
		assertError(await stableToken(emulator, { force_refresh: true }), 45011);
		assert.equal((await stableToken(emulator)).access_token, b.access_token, 'a refused force_refresh changes nothing');
		for (let i = 2; i <= 20; i++) {
			emulator.advanceTime(30 * SECOND);
			assert.equal(typeof (await stableToken(emulator, { force_refresh: true })).access_token, 'string', `refresh ${i}`);
		}
		emulator.advanceTime(30 * SECOND);
		assertError(await stableToken(emulator, { force_refresh: true }), 45009);
		emulator.advanceTime(DAY);
		assert.equal(typeof (await stableToken(emulator, { force_refresh: true })).access_token, 'string', 'next day');
	}, { errmsgRid: false });
});

test('revokeCurrentToken: 40001; stable issues a new token, or keeps returning the revoked one until force_refresh', async () => {
	await withEmulator(async (emulator) => {
		const list = (token: string) => call(emulator, 'GET', '/cgi-bin/customservice/getkflist', { token });
		const a = await stableToken(emulator);
		emulator.revokeCurrentToken();
		assertError((await list(a.access_token)).body, 40001);
		const b = await stableToken(emulator);
		assert.notEqual(b.access_token, a.access_token);
		assert.deepEqual((await list(b.access_token)).body, { kf_list: [] });

		emulator.revokeCurrentToken({ stableKeepsReturningIt: true });
		const c = await stableToken(emulator);
		assert.equal(c.access_token, b.access_token, 'normal mode hands out the revoked token');
		assertError((await list(c.access_token)).body, 40001);
		const d = await stableToken(emulator, { force_refresh: true });
		assert.notEqual(d.access_token, b.access_token);
		assert.deepEqual((await list(d.access_token)).body, { kf_list: [] });
		assert.equal((await stableToken(emulator)).access_token, d.access_token);
	}, { errmsgRid: false });
});

test('IP whitelist: both token endpoints answer 40164 naming the caller IP', async () => {
	await withEmulator(async (emulator) => {
		emulator.setIpWhitelist({ enabled: true, callerIp: '198.51.100.23' });
		const classic = (await (await fetch(`${emulator.baseUrl}/cgi-bin/token?grant_type=client_credential&appid=${emulator.appId}&secret=${emulator.appSecret}`)).json()) as Json;
		assert.deepEqual(classic, { errcode: 40164, errmsg: 'invalid ip 198.51.100.23 ipv6 ::ffff:198.51.100.23, not in whitelist' });
		assert.equal((await stableToken(emulator)).errcode, 40164);
		emulator.setIpWhitelist({ enabled: false });
		assert.equal(typeof (await stableToken(emulator)).access_token, 'string');
	}, { errmsgRid: false });
});

test('daily quota: classic token 2000/day by default, 45009 beyond, reset by clear_quota and by the next day', async () => {
	assert.equal(DEFAULT_DAILY_QUOTAS['/cgi-bin/token'], 2000);
	await withEmulator(async (emulator) => {
		emulator.setDailyQuota('/cgi-bin/token', 3);
		const classic = async () => (await fetch(`${emulator.baseUrl}/cgi-bin/token?grant_type=client_credential&appid=${emulator.appId}&secret=${emulator.appSecret}`)).json() as Json;
		let token = '';
		for (let i = 0; i < 3; i++) token = (await classic()).access_token;
		assertError(await classic(), 45009);
		const cleared = await call(emulator, 'POST', '/cgi-bin/clear_quota', { token, json: { appid: emulator.appId } });
		assert.deepEqual(cleared.body, OK);
		assert.equal(typeof (await classic()).access_token, 'string');
		emulator.setDailyQuota('/cgi-bin/customservice/getkflist', 1);
		token = (await classic()).access_token;
		assert.deepEqual((await call(emulator, 'GET', '/cgi-bin/customservice/getkflist', { token })).body, { kf_list: [] });
		assertError((await call(emulator, 'GET', '/cgi-bin/customservice/getkflist', { token })).body, 45009);
	}, { errmsgRid: false });
});

// ── accounts ─────────────────────────────────────────────────────────────────────────────────────────

test('kfaccount add/update/list: format 65404, nickname 65403, duplicate 65406, limit 65405, unknown 65401', async () => {
	await withEmulator(async (emulator) => {
		const add = async (kf_account: unknown, nickname: unknown) =>
			(await call(emulator, 'POST', '/customservice/kfaccount/add', { json: { kf_account, nickname } })).body;
		assert.deepEqual(await add('test1@emulator_oa', 'Alice'), OK);
		assertError(await add('test1@emulator_oa', 'Alice again'), 65406);
		assertError(await add('abcdefghijk@emulator_oa', 'Too long prefix'), 65404);
		assert.deepEqual(await add('abcdefghij@emulator_oa', 'Ten'), OK);
		assertError(await add('bad-char@emulator_oa', 'Dash'), 65404);
		assertError(await add('nosuffix', 'No at'), 65404);
		assertError(await add('x@', 'Empty suffix'), 65404);
		assertError(await add('test2@emulator_oa', 'x'.repeat(17)), 65403);
		assertError(await add('test2@emulator_oa', ''), 65403);
		assert.deepEqual(await add('test2@emulator_oa', '客'.repeat(16)), OK, '16 characters, whatever the bytes');

		const list = (await call(emulator, 'GET', '/cgi-bin/customservice/getkflist')).body;
		assert.deepEqual(list.kf_list[0], { kf_account: 'test1@emulator_oa', kf_nick: 'Alice', kf_id: '1001', kf_headimgurl: '' });
		assert.equal(list.kf_list.length, 3);

		const update = await call(emulator, 'POST', '/customservice/kfaccount/update', { json: { kf_account: 'test1@emulator_oa', nickname: 'Alicia' } });
		assert.deepEqual(update.body, OK);
		assert.equal(emulator.state.kfAccounts.get('test1@emulator_oa')?.kf_nick, 'Alicia');
		assertError((await call(emulator, 'POST', '/customservice/kfaccount/update', { json: { kf_account: 'nobody@emulator_oa', nickname: 'N' } })).body, 65401);
		assertError((await call(emulator, 'POST', '/customservice/kfaccount/update', { json: { kf_account: 'test1@emulator_oa', nickname: 'y'.repeat(17) } })).body, 65403);

		for (let i = emulator.state.kfAccounts.size; i < 100; i++) emulator.addKfAccount({ kf_account: `kf${i}@emulator_oa`, kf_nick: `KF ${i}` });
		assertError(await add('kf100@emulator_oa', 'One too many'), 65405);
	}, { errmsgRid: false });
});

test('kfaccount add checks the suffix against the OA WeChat ID when configured', async () => {
	await withEmulator(async (emulator) => {
		const add = async (kf_account: string) =>
			(await call(emulator, 'POST', '/customservice/kfaccount/add', { json: { kf_account, nickname: 'N' } })).body;
		assertError(await add('a@someone_else'), 65404);
		assert.deepEqual(await add('a@my_oa'), OK);
	}, { errmsgRid: false, oaWechatId: 'my_oa' });
});

test('kfaccount/del: POST with query and body, POST with query only, legacy GET; unknown 65401', async () => {
	await withEmulator(async (emulator) => {
		for (const name of ['a', 'b', 'c', 'd']) emulator.addKfAccount({ kf_account: `${name}@oa`, kf_nick: name });
		const del = '/customservice/kfaccount/del';
		assert.deepEqual((await call(emulator, 'POST', del, { query: { kf_account: 'a@oa' }, json: { kf_account: 'a@oa' } })).body, OK);
		assert.deepEqual((await call(emulator, 'POST', del, { query: { kf_account: 'b@oa' } })).body, OK);
		assert.deepEqual((await call(emulator, 'GET', del, { query: { kf_account: 'c@oa' } })).body, OK);
		assert.deepEqual((await call(emulator, 'POST', del, { json: { kf_account: 'd@oa' } })).body, OK);
		assert.equal(emulator.state.kfAccounts.size, 0);
		assertError((await call(emulator, 'POST', del, { query: { kf_account: 'a@oa' }, json: { kf_account: 'a@oa' } })).body, 65401);
		const logged = emulator.apiCalls(del)[0];
		assert.deepEqual(logged.json, { kf_account: 'a@oa' });
		assert.equal(logged.query.kf_account, 'a@oa');
	}, { errmsgRid: false });
});

test('inviteworker: 65409, 65411, 65408, 65412, 65407 and the invite fields in getkflist', async () => {
	await withEmulator(async (emulator) => {
		emulator.addKfAccount({ kf_account: 'a@oa', kf_nick: 'A' });
		emulator.addKfAccount({ kf_account: 'b@oa', kf_nick: 'B' });
		emulator.addKfAccount({ kf_account: 'c@oa', kf_nick: 'C', kf_wx: 'bound_worker' });
		const invite = async (kf_account: string, invite_wx: string) =>
			(await call(emulator, 'POST', '/customservice/kfaccount/inviteworker', { json: { kf_account, invite_wx } })).body;
		assertError(await invite('zz@oa', 'valid_wechat'), 65401);
		assertError(await invite('a@oa', '1x'), 65409);
		const beforeInvite = Math.floor(emulator.now() / 1000);
		assert.deepEqual(await invite('a@oa', 'valid_wechat'), OK);
		const afterInvite = Math.floor(emulator.now() / 1000);
		assertError(await invite('a@oa', 'another_one'), 65411);
		assertError(await invite('b@oa', 'valid_wechat'), 65408);
		assertError(await invite('c@oa', 'someone_new'), 65412);
		assertError(await invite('b@oa', 'bound_worker'), 65407);

		const listed = (await call(emulator, 'GET', '/cgi-bin/customservice/getkflist')).body.kf_list[0];
		assert.equal(listed.invite_wx, 'valid_wechat');
		assert.equal(listed.invite_status, 'waiting');
		// Seven days from the second of the invitation (read around it: a busy machine may cross a second boundary).
		const expiresIn = listed.invite_expire_time - 7 * 86400;
		assert.ok(beforeInvite <= expiresIn && expiresIn <= afterInvite, `invite_expire_time ${listed.invite_expire_time}`);
		emulator.advanceTime(7 * DAY);
		assert.equal((await call(emulator, 'GET', '/cgi-bin/customservice/getkflist')).body.kf_list[0].invite_status, 'expired');
		assert.deepEqual(await invite('a@oa', 'valid_wechat'), OK, 'an expired invitation can be sent again');
		emulator.state.resolveInvitation('a@oa', 'accepted');
		const bound = (await call(emulator, 'GET', '/cgi-bin/customservice/getkflist')).body.kf_list[0];
		assert.equal(bound.kf_wx, 'valid_wechat');
		assert.equal(bound.invite_wx, undefined);
	}, { errmsgRid: false });
});

test('uploadheadimg: multipart field media, JPG by filename (40005), 5 MB (40006), missing file 41005; logged', async () => {
	await withEmulator(async (emulator) => {
		emulator.addKfAccount({ kf_account: 'a@oa', kf_nick: 'A' });
		const upload = async (form: FormData, kf_account = 'a@oa') =>
			(await call(emulator, 'POST', '/customservice/kfaccount/uploadheadimg', { query: { kf_account }, form })).body;
		const jpeg = Buffer.from('ffd8ffe000104a464946000101ffd9', 'hex');
		assert.deepEqual(await upload(jpegForm(jpeg, 'avatar.JPG')), OK);
		const account = emulator.state.kfAccounts.get('a@oa');
		assert.match(account?.kf_headimgurl ?? '', /^http:\/\/mmbiz\.qpic\.cn\/mmbiz_jpg\//);
		assert.deepEqual(account?.headimg, { filename: 'avatar.JPG', size: jpeg.length, sha256: createHash('sha256').update(jpeg).digest('hex') });

		const logged = emulator.apiCalls('/customservice/kfaccount/uploadheadimg')[0];
		assert.deepEqual(logged.multipart?.files, [
			{ field: 'media', filename: 'avatar.JPG', contentType: 'image/jpeg', size: jpeg.length, sha256: createHash('sha256').update(jpeg).digest('hex') },
		]);
		assert.match(logged.headers['content-type'], /^multipart\/form-data; boundary=/);

		assertError(await upload(jpegForm(jpeg, 'avatar.png', 'media', 'image/png')), 40005);
		assertError(await upload(jpegForm(jpeg)), 40005); // a Blob without filename is sent as "blob"
		assertError(await upload(jpegForm(jpeg, 'avatar.jpg', 'file')), 41005);
		assertError(await upload(jpegForm(5 * 1024 * 1024 + 1, 'big.jpg')), 40006);
		assert.deepEqual(await upload(jpegForm(5 * 1024 * 1024, 'max.jpg')), OK);
		assertError(await upload(jpegForm(jpeg, 'a.jpg'), 'nobody@oa'), 65401);
	}, { errmsgRid: false });
});

test('every kf API answers 48001 when unverified and customservice APIs 65400 when kf is disabled', async () => {
	await withEmulator(async (emulator) => {
		emulator.addFollower('o_user');
		const token = await classicToken(emulator);
		const kfCalls: [method: 'GET' | 'POST', path: string, json?: unknown][] = [
			['POST', '/customservice/kfaccount/add', { kf_account: 'a@oa', nickname: 'A' }],
			['GET', '/cgi-bin/customservice/getkflist'],
			['GET', '/cgi-bin/customservice/getonlinekflist'],
			['POST', '/customservice/kfsession/create', { kf_account: 'a@oa', openid: 'o_user' }],
			['GET', '/customservice/kfsession/getwaitcase'],
			['POST', '/customservice/msgrecord/getmsglist', { starttime: 1, endtime: 2, msgid: 1, number: 10 }],
		];
		const send: [method: 'POST', path: string, json: unknown] = ['POST', '/cgi-bin/message/custom/send', { touser: 'o_user', msgtype: 'text', text: { content: 'hi' } }];
		emulator.setKfEnabled(false);
		for (const [method, p, json] of kfCalls) assertError((await call(emulator, method, p, { token, json })).body, 65400);
		assert.deepEqual((await call(emulator, send[0], send[1], { token, json: send[2] })).body, OK, 'custom messages do not need the new kf feature');
		emulator.setAccountVerified(false);
		for (const [method, p, json] of [...kfCalls, send]) assertError((await call(emulator, method, p, { token, json })).body, 48001);
	}, { errmsgRid: false });
});

// ── messages ─────────────────────────────────────────────────────────────────────────────────────────

test('custom/send: validation order and codes for touser, msgtype, payloads, media and send-as account', async () => {
	await withEmulator(async (emulator) => {
		emulator.addFollower('o_user');
		emulator.addKfAccount({ kf_account: 'a@oa', kf_nick: 'A' });
		const image = emulator.state.addMedia({ type: 'image', filename: 'x.jpg' });
		const thumb = emulator.state.addMedia({ type: 'thumb', filename: 't.jpg' });
		const video = emulator.state.addMedia({ type: 'video', filename: 'v.mp4' });
		const send = async (json: unknown) => (await call(emulator, 'POST', '/cgi-bin/message/custom/send', { json })).body;
		emulator.setSendQuota(100);

		assertError(await send({ touser: 'o_stranger', msgtype: 'text', text: { content: 'hi' } }), 40003);
		assertError(await send({ msgtype: 'text', text: { content: 'hi' } }), 40003);
		assertError(await send({ touser: 'o_user', msgtype: 'sticker', sticker: {} }), 40008);
		assertError(await send({ touser: 'o_user', msgtype: 'text' }), 47001);
		assertError(await send({ touser: 'o_user', msgtype: 'text', text: {} }), 47001);
		assertError(await send({ touser: 'o_user', msgtype: 'text', text: { content: '' } }), 44004);
		assertError(await send({ touser: 'o_user', msgtype: 'text', text: { content: '字'.repeat(683) } }), 45002);
		assert.deepEqual(await send({ touser: 'o_user', msgtype: 'text', text: { content: '字'.repeat(682) } }), OK);
		const article = { title: 'T', description: 'D', url: 'https://example.com', picurl: 'https://example.com/p.jpg' };
		assert.deepEqual(await send({ touser: 'o_user', msgtype: 'news', news: { articles: [article] } }), OK);
		assertError(await send({ touser: 'o_user', msgtype: 'news', news: { articles: [article, article] } }), 45008);
		assertError(await send({ touser: 'o_user', msgtype: 'news', news: { articles: [] } }), 44003);
		assertError(await send({ touser: 'o_user', msgtype: 'image', image: { media_id: 'unknown' } }), 40007);
		assertError(await send({ touser: 'o_user', msgtype: 'voice', voice: { media_id: image.media_id } }), 40007);
		assert.deepEqual(await send({ touser: 'o_user', msgtype: 'image', image: { media_id: image.media_id } }), OK);
		assert.deepEqual(await send({ touser: 'o_user', msgtype: 'video', video: { media_id: video.media_id, thumb_media_id: thumb.media_id, title: 't', description: 'd' } }), OK);
		assertError(await send({ touser: 'o_user', msgtype: 'video', video: { media_id: video.media_id } }), 47001);
		assert.deepEqual(await send({ touser: 'o_user', msgtype: 'music', music: { title: 't', description: 'd', musicurl: 'http://m', hqmusicurl: 'http://h', thumb_media_id: thumb.media_id } }), OK);
		assert.deepEqual(await send({ touser: 'o_user', msgtype: 'mpnewsarticle', mpnewsarticle: { article_id: 'ART' } }), OK);
		assert.deepEqual(await send({ touser: 'o_user', msgtype: 'msgmenu', msgmenu: { head_content: 'h', list: [{ id: '101', content: 'Yes' }], tail_content: 't' } }), OK);
		assertError(await send({ touser: 'o_user', msgtype: 'msgmenu', msgmenu: { list: [{ id: '101' }] } }), 47001);
		assert.deepEqual(await send({ touser: 'o_user', msgtype: 'wxcard', wxcard: { card_id: 'CARD' } }), OK);
		assert.deepEqual(await send({ touser: 'o_user', msgtype: 'miniprogrampage', miniprogrampage: { title: 't', appid: 'wxmini', pagepath: 'pages/index', thumb_media_id: image.media_id } }), OK);
		assert.deepEqual(await send({ touser: 'o_user', msgtype: 'text', text: { content: 'as A' }, customservice: { kf_account: 'a@oa' } }), OK);
		assertError(await send({ touser: 'o_user', msgtype: 'text', text: { content: 'as ?' }, customservice: { kf_account: 'zz@oa' } }), 65401);

		emulator.advanceTime(3 * DAY);
		assertError(await send({ touser: 'o_user', msgtype: 'image', image: { media_id: image.media_id } }), 40007); // media expired
		const last = emulator.state.sentMessages[emulator.state.sentMessages.length - 1];
		assert.equal(last.kf_account, 'a@oa');
		assert.deepEqual(last.body, { touser: 'o_user', msgtype: 'text', text: { content: 'as A' }, customservice: { kf_account: 'a@oa' } });

		const bad = await fetch(`${emulator.baseUrl}/cgi-bin/message/custom/send?access_token=${await classicToken(emulator)}`, { method: 'POST', body: '{not json' });
		assertError(await bad.json(), 47001);
	}, { errmsgRid: false });
});

test('custom/send window: 45015 after 48 h or when unsubscribed, 45047 after 5 per user message', async () => {
	await withEmulator(async (emulator) => {
		emulator.addFollower('o_user');
		emulator.addFollower('o_gone', { subscribed: false });
		emulator.addFollower('o_old', { lastInteractionAt: emulator.now() - 48 * HOUR - SECOND });
		const text = (touser: string) => ({ touser, msgtype: 'text', text: { content: 'hello' } });
		const send = async (json: unknown) => (await call(emulator, 'POST', '/cgi-bin/message/custom/send', { json })).body;
		assertError(await send(text('o_gone')), 45015);
		assertError(await send(text('o_old')), 45015);
		for (let i = 0; i < 5; i++) assert.deepEqual(await send(text('o_user')), OK, `message ${i + 1}`);
		assertError(await send(text('o_user')), 45047);
		emulator.userMessage('o_user');
		assert.deepEqual(await send(text('o_user')), OK, 'a new user message opens a new window');
		emulator.advanceTime(48 * HOUR + SECOND);
		assertError(await send(text('o_user')), 45015);
	}, { errmsgRid: false });
});

test('typing: 45072 bad command, 45080 without exchange in 30 s, 45081 while typing, cancelled by a message', async () => {
	await withEmulator(async (emulator) => {
		emulator.addFollower('o_user');
		const typing = async (command: string) =>
			(await call(emulator, 'POST', '/cgi-bin/message/custom/typing', { json: { touser: 'o_user', command } })).body;
		assertError(await typing('typing'), 45072);
		assert.deepEqual(await typing('Typing'), OK);
		assertError(await typing('Typing'), 45081);
		emulator.advanceTime(15 * SECOND);
		assert.deepEqual(await typing('Typing'), OK, 'typing lasts 15 s');
		assert.deepEqual(await typing('CancelTyping'), OK);
		assert.deepEqual(await typing('Typing'), OK, 'CancelTyping ends it');
		assert.deepEqual((await call(emulator, 'POST', '/cgi-bin/message/custom/send', { json: { touser: 'o_user', msgtype: 'text', text: { content: 'x' } } })).body, OK);
		assert.deepEqual(await typing('Typing'), OK, 'a message cancels typing');
		emulator.advanceTime(31 * SECOND);
		assertError(await typing('Typing'), 45080);
		emulator.userMessage('o_user');
		assert.deepEqual(await typing('Typing'), OK);
		assert.deepEqual(
			emulator.state.typingCommands.map((c) => c.command),
			['Typing', 'Typing', 'CancelTyping', 'Typing', 'Typing', 'Typing'],
		);
	}, { errmsgRid: false });
});

// ── sessions ─────────────────────────────────────────────────────────────────────────────────────────

test('kfsession create/close/getsession/getsessionlist with WeChat codes and accepted_case bookkeeping', async () => {
	await withEmulator(async (emulator) => {
		emulator.addKfAccount({ kf_account: 'on@oa', kf_nick: 'On', online: true, accepted_case: 2 });
		emulator.addKfAccount({ kf_account: 'off@oa', kf_nick: 'Off', kf_wx: 'off_worker' });
		emulator.addKfAccount({ kf_account: 'unbound@oa', kf_nick: 'Unbound' });
		emulator.addKfAccount({ kf_account: 'other@oa', kf_nick: 'Other', online: true });
		emulator.addWaiting('o_user', 1_700_000_000);
		const create = async (kf_account: string, openid = 'o_user') =>
			(await call(emulator, 'POST', '/customservice/kfsession/create', { json: { kf_account, openid } })).body;
		const close = async (kf_account: string, openid = 'o_user') =>
			(await call(emulator, 'POST', '/customservice/kfsession/close', { json: { kf_account, openid } })).body;

		assertError(await create('nobody@oa'), 65401);
		assertError(await create('on@oa', 'o_stranger'), 40003);
		assertError(await create('unbound@oa'), 65402);
		assertError(await create('off@oa'), 65415);
		assertError(await close('on@oa'), 65413);
		const beforeCreate = Math.floor(emulator.now() / 1000);
		assert.deepEqual(await create('on@oa'), OK);
		assert.deepEqual(await create('on@oa'), OK, 'an existing session with the same kf is fine');
		const afterCreate = Math.floor(emulator.now() / 1000);
		assertError(await create('other@oa'), 65414);
		assert.equal(emulator.state.waitQueue.length, 0, 'taken out of the waiting queue');

		const online = (await call(emulator, 'GET', '/cgi-bin/customservice/getonlinekflist')).body;
		assert.deepEqual(online.kf_online_list, [
			{ kf_account: 'on@oa', status: 1, kf_id: '1001', accepted_case: 3 },
			{ kf_account: 'other@oa', status: 1, kf_id: '1004', accepted_case: 0 },
		]);
		const session = (await call(emulator, 'GET', '/customservice/kfsession/getsession', { query: { openid: 'o_user' } })).body;
		// The session's time is the second it was created in; a busy machine may cross a second boundary meanwhile.
		assert.deepEqual(session, { kf_account: 'on@oa', createtime: session.createtime });
		assert.ok(beforeCreate <= session.createtime && session.createtime <= afterCreate, `createtime ${session.createtime}`);
		const sessions = (await call(emulator, 'GET', '/customservice/kfsession/getsessionlist', { query: { kf_account: 'on@oa' } })).body;
		assert.deepEqual(sessions, { sessionlist: [{ openid: 'o_user', createtime: session.createtime }] });
		assertError((await call(emulator, 'GET', '/customservice/kfsession/getsessionlist', { query: { kf_account: 'unbound@oa' } })).body, 65402);
		assertError((await call(emulator, 'GET', '/customservice/kfsession/getsessionlist', { query: { kf_account: 'x@oa' } })).body, 65401);
		assertError((await call(emulator, 'GET', '/customservice/kfsession/getsession', { query: { openid: 'o_x' } })).body, 40003);

		assertError(await close('other@oa'), 65414);
		assert.deepEqual(await close('on@oa'), OK);
		assertError(await close('on@oa'), 65413);
		assert.equal(emulator.state.kfAccounts.get('on@oa')?.accepted_case, 2);
		assert.deepEqual((await call(emulator, 'GET', '/customservice/kfsession/getsession', { query: { openid: 'o_user' } })).body, { kf_account: '', createtime: 0 });
		emulator.setOnline('off@oa', true, 5);
		assert.deepEqual(await create('off@oa'), OK);
		assert.equal(emulator.state.kfAccounts.get('off@oa')?.accepted_case, 6);
	}, { errmsgRid: false });
});

test('getwaitcase: GET only, count of all, at most 100 listed, earliest first', async () => {
	await withEmulator(async (emulator) => {
		for (let i = 0; i < 150; i++) emulator.addWaiting(`o_${i}`, 1_700_000_000 + ((i * 37) % 150));
		const answer = (await call(emulator, 'GET', '/customservice/kfsession/getwaitcase')).body;
		assert.equal(answer.count, 150);
		assert.equal(answer.waitcaselist.length, 100);
		assert.deepEqual(answer.waitcaselist[0], { openid: 'o_0', latest_time: 1_700_000_000 });
		const times = answer.waitcaselist.map((c: Json) => c.latest_time);
		assert.deepEqual(times, [...times].sort((a: number, b: number) => a - b));
		assert.equal(times[99], 1_700_000_099);
		const post = await call(emulator, 'POST', '/customservice/kfsession/getwaitcase', { json: {} });
		assert.equal(post.status, 405);
	});
});

// ── chat records ─────────────────────────────────────────────────────────────────────────────────────

const GETMSGLIST = '/customservice/msgrecord/getmsglist';

test('getmsglist parameter checks: 65417 beyond 24 h (86400 accepted), 65416 for number, msgid and types', async () => {
	await withEmulator(async (emulator) => {
		const get = async (json: Record<string, unknown>) =>
			(await call(emulator, 'POST', GETMSGLIST, { json: { starttime: 1_700_000_000, endtime: 1_700_086_400, msgid: 1, number: 10000, ...json } })).body;
		assert.deepEqual(await get({}), { recordlist: [], number: 0, msgid: 1 });
		assertError(await get({ endtime: 1_700_086_401 }), 65417);
		assertError(await get({ number: 10001 }), 65416);
		assertError(await get({ number: 0 }), 65416);
		assertError(await get({ msgid: 0 }), 65416);
		assertError(await get({ starttime: '1700000000' }), 65416);
		assertError(await get({ endtime: 1_699_999_999 }), 65416);
	}, { errmsgRid: false });
});

test("getmsglist paging, msgidMode 'next': inclusive time bounds, returned msgid is the next to ask for", async () => {
	await withEmulator(async (emulator) => {
		const t0 = 1_700_000_000;
		emulator.state.addChatRecords(
			[-1, 0, 10, 20, 30, 40, 50, 86400, 86401].map((dt, i) => ({ openid: `o_${i}`, opercode: 2003, text: `m${i}`, time: t0 + dt, worker: 'a@oa' })),
		);
		const page = async (msgid: number, number: number) =>
			(await call(emulator, 'POST', GETMSGLIST, { json: { starttime: t0, endtime: t0 + 86400, msgid, number } })).body;
		const first = await page(1, 3);
		assert.deepEqual(first.recordlist.map((r: Json) => r.text), ['m1', 'm2', 'm3']);
		assert.deepEqual(first.recordlist[0], { openid: 'o_1', opercode: 2003, text: 'm1', time: t0, worker: 'a@oa' });
		assert.equal(first.number, 3);
		assert.equal(first.msgid, 5, 'record m3 has msgid 4; next is 5');
		const second = await page(first.msgid, 3);
		assert.deepEqual(second.recordlist.map((r: Json) => r.text), ['m4', 'm5', 'm6']);
		const third = await page(second.msgid, 3);
		assert.deepEqual(third.recordlist.map((r: Json) => r.text), ['m7']);
		assert.equal(third.number, 1);
		assert.equal(third.msgid, 9);
		assert.deepEqual(await page(third.msgid, 3), { recordlist: [], number: 0, msgid: 9 });
	});
});

test("getmsglist paging, msgidMode 'last': the returned msgid is inclusive, so pages overlap by one record", async () => {
	await withEmulator(async (emulator) => {
		const t0 = 1_700_000_000;
		emulator.state.addChatRecords([0, 1, 2, 3, 4].map((dt) => ({ openid: 'o', opercode: 2002, text: `m${dt}`, time: t0 + dt, worker: 'a@oa' })));
		const page = async (msgid: number) =>
			(await call(emulator, 'POST', GETMSGLIST, { json: { starttime: t0, endtime: t0 + 100, msgid, number: 2 } })).body;
		const first = await page(1);
		assert.deepEqual([first.recordlist.map((r: Json) => r.text), first.msgid], [['m0', 'm1'], 2]);
		const second = await page(first.msgid);
		assert.deepEqual([second.recordlist.map((r: Json) => r.text), second.msgid], [['m1', 'm2'], 3]);
		emulator.setMsgidMode('next');
		assert.equal((await page(1)).msgid, 3);
	}, { msgidMode: 'last' });
});

test('seedChatRecords: 100,000 records fast, uneven days, and a day window pages to exactly perDay', async () => {
	await withEmulator(async (emulator) => {
		const start = 1_700_000_000;
		const started = performance.now();
		const { perDay } = emulator.seedChatRecords({ start, end: start + 7 * 86400 - 1, count: 100_000, distribution: [1, 5, 0, 2, 10, 1, 1] });
		const elapsed = performance.now() - started;
		assert.ok(elapsed < 1500, `seeding took ${elapsed.toFixed(0)} ms`);
		assert.equal(perDay.length, 7);
		assert.equal(perDay.reduce((a, b) => a + b, 0), 100_000);
		assert.equal(perDay[2], 0);
		assert.equal(perDay[4], 50_000);
		assert.equal(emulator.state.chatRecords.length, 100_000);
		assert.equal(emulator.state.chatRecords[99_999].msgid, 100_000);

		// Day 1 (25,000 records) in pages of 10,000.
		const dayStart = start + 86400;
		let msgid = 1;
		let total = 0;
		for (let pageNo = 0; pageNo < 10; pageNo++) {
			const body = (await call(emulator, 'POST', GETMSGLIST, { json: { starttime: dayStart, endtime: dayStart + 86399, msgid, number: 10000 } })).body;
			total += body.number;
			for (const r of body.recordlist) assert.ok(r.time >= dayStart && r.time <= dayStart + 86399);
			if (body.number < 10000) break;
			msgid = body.msgid;
		}
		assert.equal(total, perDay[1]);
	});
});

// ── media ────────────────────────────────────────────────────────────────────────────────────────────

test('media/upload: types, extension 40005, size limits 40006, 40004, 41005; thumb_media_id; media/get', async () => {
	await withEmulator(async (emulator) => {
		const upload = async (type: string | undefined, form: FormData) =>
			(await call(emulator, 'POST', '/cgi-bin/media/upload', { query: type ? { type } : {}, form })).body;
		const bytes = Buffer.from('89504e470d0a1a0a', 'hex');
		const beforeUpload = Math.floor(emulator.now() / 1000);
		const image = await upload('image', jpegForm(bytes, 'photo.png', 'media', 'image/png'));
		const afterUpload = Math.floor(emulator.now() / 1000);
		assert.deepEqual(Object.keys(image).sort(), ['created_at', 'media_id', 'type']);
		assert.equal(image.type, 'image');
		assert.match(image.media_id, /^[A-Za-z0-9][A-Za-z0-9_-]{63}$/);
		assert.ok(beforeUpload <= image.created_at && image.created_at <= afterUpload, `created_at ${image.created_at}`);
		const stored = emulator.state.media.get(image.media_id);
		assert.deepEqual([stored?.type, stored?.filename, stored?.size], ['image', 'photo.png', bytes.length]);

		const thumb = await upload('thumb', jpegForm(64 * 1024, 't.jpg'));
		assert.equal(thumb.thumb_media_id, thumb.media_id);
		assertError(await upload('thumb', jpegForm(64 * 1024 + 1, 't.jpg')), 40006);
		assertError(await upload('voice', jpegForm(2 * 1024 * 1024 + 1, 'v.mp3', 'media', 'audio/mpeg')), 40006);
		assert.equal((await upload('voice', jpegForm(100, 'v.amr', 'media', 'audio/amr'))).type, 'voice');
		assertError(await upload('image', jpegForm(10 * 1024 * 1024 + 1, 'big.jpg')), 40006);
		assertError(await upload('video', jpegForm(100, 'clip.avi', 'media', 'video/x-msvideo')), 40005);
		assertError(await upload('image', jpegForm(bytes)), 40005);
		assertError(await upload('file', jpegForm(bytes, 'a.jpg')), 40004);
		assertError(await upload(undefined, jpegForm(bytes, 'a.jpg')), 40004);
		assertError(await upload('image', jpegForm(bytes, 'a.jpg', 'file')), 41005);
		assertError(await upload('image', jpegForm(Buffer.alloc(0), 'a.jpg')), 44001);

		const got = await fetch(`${emulator.baseUrl}/cgi-bin/media/get?access_token=${await classicToken(emulator)}&media_id=${image.media_id}`);
		assert.equal(got.headers.get('content-type'), 'image/png');
		assert.deepEqual(Buffer.from(await got.arrayBuffer()), bytes);
		assertError((await call(emulator, 'GET', '/cgi-bin/media/get', { query: { media_id: 'nope' } })).body, 40007);
	}, { errmsgRid: false });
});

test('media/get: files named MEDIA_ID.ext as WeChat names them; video answers a video_url on the emulator, valid 10 minutes, no token', async () => {
	await withEmulator(async (emulator) => {
		const token = await classicToken(emulator);
		const get = async (mediaId: string) =>
			await fetch(`${emulator.baseUrl}/cgi-bin/media/get?access_token=${token}&media_id=${mediaId}`);
		const voiceBytes = Buffer.from('#!AMR\nvoice', 'latin1');
		const voice = emulator.state.addMedia({ type: 'voice', data: voiceBytes, filename: 'note.amr', contentType: 'audio/amr' });
		const got = await get(voice.media_id);
		assert.equal(got.status, 200);
		assert.equal(got.headers.get('content-type'), 'audio/amr');
		assert.equal(got.headers.get('content-disposition'), `attachment; filename="${voice.media_id}.amr"`);
		assert.equal(got.headers.get('cache-control'), 'no-cache, must-revalidate');
		assert.equal(got.headers.get('content-length'), String(voiceBytes.length));
		assert.deepEqual(Buffer.from(await got.arrayBuffer()), voiceBytes);

		const videoBytes = Buffer.from('000000186674797069736f6d0000020069736f6d6d703431', 'hex');
		const video = emulator.state.addMedia({ type: 'video', data: videoBytes, filename: 'clip.mp4', contentType: 'video/mp4' });
		const answer = await get(video.media_id);
		assert.equal(answer.headers.get('content-type'), 'application/json; encoding=utf-8');
		const { video_url: videoUrl } = (await answer.json()) as { video_url: string };
		const link = new URL(videoUrl);
		assert.equal(link.origin, emulator.baseUrl, 'the link points at the emulator on loopback');
		assert.deepEqual([...link.searchParams.keys()], ['vkey']);
		const download = await fetch(videoUrl);
		assert.equal(download.status, 200);
		assert.equal(download.headers.get('content-type'), 'video/mp4');
		assert.equal(download.headers.get('content-disposition'), `attachment; filename="${video.media_id}.mp4"`);
		assert.deepEqual(Buffer.from(await download.arrayBuffer()), videoBytes);
		assert.deepEqual(emulator.apiCalls('/video-cdn/download.mp4').at(-1)?.query, { vkey: link.searchParams.get('vkey') });

		assert.equal((await fetch(`${emulator.baseUrl}/video-cdn/download.mp4?vkey=forged`)).status, 404);
		assert.equal((await fetch(videoUrl, { method: 'POST' })).status, 405);
		emulator.advanceTime(600_000);
		assert.equal((await fetch(videoUrl)).status, 404, 'the link expired');

		emulator.advanceTime(3 * 86400_000);
		assertError((await call(emulator, 'GET', '/cgi-bin/media/get', { query: { media_id: voice.media_id } })).body, 40007);
	}, { errmsgRid: false });
});

// ── faults ───────────────────────────────────────────────────────────────────────────────────────────

test('faults: errcode for the next N calls of a path, default path skips token endpoints, then normal again', async () => {
	await withEmulator(async (emulator) => {
		const token = await classicToken(emulator);
		emulator.injectFault({ path: '/cgi-bin/customservice/getkflist', kind: 'errcode', errcode: -1, times: 2 });
		emulator.injectFault({ kind: 'errcode', errcode: 45011 });
		const list = async () => (await call(emulator, 'GET', '/cgi-bin/customservice/getkflist', { token })).body;
		assertError(await list(), -1);
		assertError(await list(), -1);
		assert.equal(typeof (await stableToken(emulator)).access_token, 'string', 'default-path fault does not hit tokens');
		assertError(await list(), 45011);
		assert.deepEqual(await list(), { kf_list: [] });

		emulator.injectFault({ path: '/cgi-bin/stable_token', kind: 'errcode', errcode: 45009, errmsg: 'custom text' });
		assert.deepEqual(await stableToken(emulator), { errcode: 45009, errmsg: 'custom text' });
	}, { errmsgRid: false });
});

test('faults: HTTP status, dropped connection and slow answer, each logged', async () => {
	await withEmulator(async (emulator) => {
		const token = await classicToken(emulator);
		const url = `${emulator.baseUrl}/cgi-bin/customservice/getkflist?access_token=${token}`;
		emulator.injectFault({ kind: 'http', status: 502 });
		const gateway = await fetch(url);
		assert.equal(gateway.status, 502);
		assert.match(await gateway.text(), /502 Bad Gateway/);

		emulator.injectFault({ kind: 'drop' });
		await assert.rejects(fetch(url));

		emulator.injectFault({ kind: 'slow', delayMs: 300 });
		const started = Date.now();
		const slow = await fetch(url);
		assert.ok(Date.now() - started >= 290);
		assert.deepEqual(await slow.json(), { kf_list: [] });

		assert.deepEqual(
			emulator.apiCalls().map((r) => r.response.status),
			[502, 0, 200],
		);
		assert.equal(emulator.apiCalls()[1].response.body, 'dropped');
	});
});

test('faults: a recurring fault hits every n-th matching call after its offset, a processed one delivers first', async () => {
	await withEmulator(async (emulator) => {
		emulator.setSendQuota(100);
		emulator.addFollower('o_user');
		const token = await classicToken(emulator);
		const SEND = '/cgi-bin/message/custom/send';
		emulator.injectFault({ path: SEND, kind: 'errcode', errcode: 45011, every: 3, offset: 1 });
		emulator.injectFault({ path: SEND, kind: 'errcode', errcode: -1, every: 4, processed: true });
		const codes: number[] = [];
		for (let i = 0; i < 8; i++) {
			const { body } = await call(emulator, 'POST', SEND, { token, json: { touser: 'o_user', msgtype: 'text', text: { content: `m${i}` } } });
			codes.push(body.errcode);
		}
		// 45011 on calls 2, 5, 8; -1 on calls 1 and 5 and 9, but call 5 went to the fault injected first.
		assert.deepEqual(codes, [-1, 45011, 0, 0, 45011, 0, 0, 45011]);
		// Delivered: the answers 0 and the processed -1 (call 1); the 45011 calls were not.
		assert.deepEqual(
			emulator.state.sentMessages.map((m) => (m.body.text as { content: string }).content),
			['m0', 'm2', 'm3', 'm5', 'm6'],
		);
		const calls = emulator.apiCalls(SEND);
		assert.deepEqual(calls[0].processedAs, { errcode: 0, errmsg: 'ok' });
		assert.equal(calls[1].processedAs, undefined);
		assert.throws(() => emulator.injectFault({ kind: 'errcode', errcode: -1, every: 2, times: 3 }), /exclude/);
		assert.throws(() => emulator.injectFault({ kind: 'errcode', errcode: -1, offset: 2 }), /with fault.every/);
	});
});

test('stats: peak API requests in flight and peak TCP connections, reset by resetPeaks', async () => {
	await withEmulator(async (emulator) => {
		const token = await classicToken(emulator);
		emulator.resetPeaks();
		// The peak starts from what is open at the reset: fetch's keep-alive connection of the token call.
		const openAtReset = emulator.connectionsOpenAtReset;
		assert.equal(emulator.peakConnections, openAtReset);
		emulator.injectFault({ kind: 'slow', delayMs: 200, times: 3 });
		const url = `${emulator.baseUrl}/cgi-bin/customservice/getkflist?access_token=${token}`;
		// Three connections of their own (no keep-alive pool shared between them), answered slowly at the same time.
		const get = () =>
			new Promise<void>((resolve, reject) => {
				http.get(url, { agent: false }, (response) => response.resume().once('end', resolve)).once('error', reject);
			});
		await Promise.all([get(), get(), get()]);
		assert.equal(emulator.peakInFlight, 3);
		assert.equal(emulator.peakConnections - openAtReset, 3);
		assert.equal(emulator.connectionsAccepted, 3);
		await new Promise((resolve) => setTimeout(resolve, 50));
		emulator.resetPeaks();
		assert.equal(emulator.peakInFlight, 0);
		assert.equal(emulator.connectionsAccepted, 0);
	});
});

// ── request log and admin ────────────────────────────────────────────────────────────────────────────

test('request log: method, path, query, headers, JSON body and answer; token/API split; clearLog', async () => {
	await withEmulator(async (emulator) => {
		emulator.addFollower('o_user');
		const token = await classicToken(emulator);
		const requests = emulator.requests;
		await call(emulator, 'POST', '/cgi-bin/message/custom/send', { token, json: { touser: 'o_user', msgtype: 'text', text: { content: '你好' } } });
		await fetch(`${emulator.baseUrl}/__emulator/state`);
		assert.equal(emulator.requests.length, 2, 'admin requests are not logged');
		const [tokenCall, send] = emulator.requests;
		assert.equal(tokenCall.method, 'GET');
		assert.deepEqual(tokenCall.query, { grant_type: 'client_credential', appid: emulator.appId, secret: emulator.appSecret });
		assert.equal((tokenCall.response.body as Json).access_token, token);
		assert.equal(send.method, 'POST');
		assert.equal(send.path, '/cgi-bin/message/custom/send');
		assert.deepEqual(send.query, { access_token: token });
		assert.equal(send.headers['content-type'], 'application/json');
		assert.deepEqual(send.json, { touser: 'o_user', msgtype: 'text', text: { content: '你好' } });
		assert.deepEqual(send.response, { status: 200, body: OK });
		assert.ok(Math.abs(send.at - emulator.now()) < 5000);
		assert.deepEqual(emulator.tokenCalls(), [tokenCall]);
		assert.deepEqual(emulator.apiCalls('/cgi-bin/message/custom/send'), [send]);
		assert.deepEqual(emulator.apiCalls('/other'), []);

		await fetch(`${emulator.baseUrl}/cgi-bin/message/custom/send?access_token=${token}`, { method: 'POST', body: 'plain text' });
		assert.equal(emulator.requests[2].rawBody, 'plain text');
		emulator.clearLog();
		assert.equal(requests.length, 0, 'the same array object is emptied');
		const unknown = await call(emulator, 'GET', '/cgi-bin/nothing', { token });
		assert.equal(unknown.status, 404);
	});
});

test('admin endpoints drive a running emulator over HTTP', async () => {
	await withEmulator(async (emulator) => {
		const admin = async (name: string, body?: unknown) => {
			const response = await fetch(`${emulator.baseUrl}/__emulator/${name}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
			return { status: response.status, body: (await response.json()) as Json };
		};
		const seeded = await admin('seed', {
			accounts: [{ kf_account: 'a@oa', kf_nick: 'A', online: true }],
			followers: ['o_1', { openid: 'o_2', subscribed: false }],
			waiting: [{ openid: 'o_1', latestTime: 1_700_000_000 }],
			chatRecords: { start: 1_700_000_000, end: 1_700_172_799, count: 10, distribution: [1, 4] },
			media: [{ type: 'image', filename: 'a.jpg', dataBase64: 'AAEC' }],
		});
		assert.equal(seeded.status, 200);
		assert.deepEqual(seeded.body.perDay, [2, 8]);
		assert.equal(seeded.body.media[0].type, 'image');
		assert.equal(emulator.state.followers.get('o_2')?.subscribed, false);
		assert.equal(emulator.state.waitQueue.length, 1);

		const token = await classicToken(emulator);
		assert.deepEqual((await admin('revoke-token', {})).body, { ok: true });
		assertError((await call(emulator, 'GET', '/cgi-bin/customservice/getkflist', { token })).body, 40001);
		await admin('fault', { kind: 'errcode', errcode: -1 });
		const fresh = await classicToken(emulator, true);
		assertError((await call(emulator, 'GET', '/cgi-bin/customservice/getkflist', { token: fresh })).body, -1);
		await admin('expire-token', {});
		assertError((await call(emulator, 'GET', '/cgi-bin/customservice/getkflist', { token: fresh })).body, 42001);
		await admin('settings', { kfEnabled: false });
		const log = await admin('log');
		assert.equal(log.body.requests.length, emulator.requests.length);
		assert.equal((await fetch(`${emulator.baseUrl}/__emulator/log?kind=token`).then((r) => r.json()) as Json).requests.length, 2);
		const before = emulator.now();
		await admin('advance-time', { ms: HOUR });
		assert.ok(emulator.now() - before >= HOUR);
		assert.equal((await admin('state')).body.kfAccounts[0].kf_account, 'a@oa');
		await admin('clear-log', {});
		assert.equal(emulator.requests.length, 0);
		assert.equal((await admin('set-online', { kfAccount: 'zz@oa', online: true })).status, 400);
		assert.equal((await admin('nope', {})).status, 404);
		await admin('reset', {});
		assert.equal(emulator.state.kfAccounts.size, 0);
		assert.equal(emulator.state.settings.kfEnabled, true);
	}, { errmsgRid: false });
});

// ── push: crypto and sender ──────────────────────────────────────────────────────────────────────────

test('push signature: the official vector (token AAAAA)', () => {
	assert.equal(sha1Sorted(['AAAAA', '1714036504', '1514711492']), 'f464b24fc39322e44b38aa78f5edd27bd1441696');
	assert.equal(plainSignature('AAAAA', '1714036504', '1514711492'), 'f464b24fc39322e44b38aa78f5edd27bd1441696');
	const handshake = buildHandshake({ token: 'AAAAA', timestamp: '1714036504', nonce: '1514711492', echostr: '123456' });
	assert.deepEqual(handshake.query, { signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696', echostr: '123456', timestamp: '1714036504', nonce: '1514711492' });
});

test('push encryption: layout, 32-byte PKCS#7, IV = first 16 key bytes, round trip', () => {
	const key = Buffer.from(`${AES_KEY}=`, 'base64');
	assert.equal(key.length, 32);
	for (const message of ['<xml>hi</xml>', 'x'.repeat(12), '中文消息']) {
		const random16 = Buffer.alloc(16, 0xab);
		const encrypt = encryptMessage(message, AES_KEY, APP_ID, random16);
		const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
		decipher.setAutoPadding(false);
		const plain = Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()]);
		const unpaddedLength = 16 + 4 + Buffer.byteLength(message) + APP_ID.length;
		const pad = 32 - (unpaddedLength % 32);
		assert.equal(plain.length, unpaddedLength + pad);
		assert.equal(plain[plain.length - 1], pad);
		assert.deepEqual(plain.subarray(0, 16), random16);
		assert.equal(plain.readUInt32BE(16), Buffer.byteLength(message));
		assert.equal(plain.subarray(20, 20 + Buffer.byteLength(message)).toString('utf8'), message);
		assert.equal(plain.subarray(20 + Buffer.byteLength(message), unpaddedLength).toString(), APP_ID);
		assert.deepEqual(decryptMessage(encrypt, AES_KEY), { message, appId: APP_ID });
	}
	// Where 16- and 32-byte blocks differ: an unpadded length that is a multiple of 32 gets a whole 32-byte block.
	const full = 'y'.repeat(32 - ((16 + 4 + APP_ID.length) % 32));
	const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
	const encrypted = Buffer.from(encryptMessage(full, AES_KEY, APP_ID), 'base64');
	const plain = Buffer.concat([decipher.update(encrypted), decipher.final()]);
	assert.equal(plain.length, 16 + 4 + full.length + APP_ID.length + 32);
	assert.equal(plain[plain.length - 1], 32);
});

test('buildPush: plaintext XML with CDATA text, bare numbers, nested elements; signature only', () => {
	const built = buildPush({
		mode: 'plaintext',
		format: 'xml',
		token: 'tok',
		appId: APP_ID,
		timestamp: '1714036504',
		nonce: '42',
		message: {
			ToUserName: 'gh_123',
			FromUserName: 'o_user',
			CreateTime: 1714036504,
			MsgType: 'event',
			Event: 'scancode_push',
			ScanCodeInfo: { ScanType: 'qrcode', ScanResult: 'a]]>b' },
			MsgId: '23637352235060880',
		},
	});
	assert.equal(
		built.body,
		'<xml><ToUserName><![CDATA[gh_123]]></ToUserName><FromUserName><![CDATA[o_user]]></FromUserName><CreateTime>1714036504</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[scancode_push]]></Event><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[a]]]]><![CDATA[>b]]></ScanResult></ScanCodeInfo><MsgId>23637352235060880</MsgId></xml>',
	);
	assert.equal(built.plaintextBody, built.body);
	assert.equal(built.contentType, 'text/xml');
	assert.deepEqual(built.query, { signature: plainSignature('tok', '1714036504', '42'), timestamp: '1714036504', nonce: '42', openid: 'o_user' });
	assert.equal(toXml({ A: 1, B: 'x', C: { D: ['1', '2'] } }), '<xml><A>1</A><B><![CDATA[x]]></B><C><D><![CDATA[1]]></D><D><![CDATA[2]]></D></C></xml>');
});

test('buildPush: safe and compatible XML, safe and compatible JSON, msg_signature over Encrypt, decrypts back', () => {
	const message = { ToUserName: 'gh_123', FromUserName: 'o_user', CreateTime: 1714036504, MsgType: 'text', Content: '你好 <b>', MsgId: '23637352235060880' };
	const base = { token: 'tok', appId: APP_ID, encodingAESKey: AES_KEY, timestamp: '1714036504', nonce: '42', message };

	const safe = buildPush({ ...base, mode: 'safe', format: 'xml' });
	const encrypt = xmlField(safe.body, 'Encrypt') ?? '';
	assert.equal(safe.body, `<xml><ToUserName><![CDATA[gh_123]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`);
	assert.equal(safe.query.encrypt_type, 'aes');
	assert.equal(safe.query.msg_signature, messageSignature('tok', '1714036504', '42', encrypt));
	assert.equal(safe.query.signature, plainSignature('tok', '1714036504', '42'));
	assert.deepEqual(Object.keys(safe.query), ['signature', 'timestamp', 'nonce', 'openid', 'encrypt_type', 'msg_signature']);
	assert.deepEqual(decryptMessage(encrypt, AES_KEY), { message: safe.plaintextBody, appId: APP_ID });
	assert.match(safe.plaintextBody, /^<xml><ToUserName><!\[CDATA\[gh_123\]\]><\/ToUserName>.*<Content><!\[CDATA\[你好 <b>\]\]><\/Content><MsgId>23637352235060880<\/MsgId><\/xml>$/);

	const compatible = buildPush({ ...base, mode: 'compatible', format: 'xml' });
	const compatibleEncrypt = xmlField(compatible.body, 'Encrypt') ?? '';
	assert.equal(compatible.body, compatible.plaintextBody.replace('</xml>', `<Encrypt><![CDATA[${compatibleEncrypt}]]></Encrypt></xml>`));
	assert.equal(decryptMessage(compatibleEncrypt, AES_KEY).message, compatible.plaintextBody);

	const json = buildPush({ ...base, mode: 'safe', format: 'json' });
	assert.equal(json.contentType, 'application/json');
	const parsed = JSON.parse(json.body);
	assert.deepEqual(Object.keys(parsed), ['ToUserName', 'Encrypt']);
	assert.equal(json.query.msg_signature, messageSignature('tok', '1714036504', '42', parsed.Encrypt));
	const inner = decryptMessage(parsed.Encrypt, AES_KEY).message;
	assert.equal(inner, json.plaintextBody);
	assert.match(inner, /"MsgId":23637352235060880}$/, 'the 64-bit MsgId is a bare number, as WeChat sends it');

	const jsonCompatible = buildPush({ ...base, mode: 'compatible', format: 'json' });
	assert.deepEqual(Object.keys(JSON.parse(jsonCompatible.body)), [...Object.keys(message), 'Encrypt']);
	assert.throws(() => buildPush({ ...base, encodingAESKey: undefined, mode: 'safe', format: 'xml' }), /encodingAESKey/);
});

test('decryptReply: XML and JSON replies, signature check, appId check', () => {
	const options = { token: 'tok', encodingAESKey: AES_KEY, appId: APP_ID };
	const plaintext = '<xml><ToUserName><![CDATA[o_user]]></ToUserName><MsgType><![CDATA[transfer_customer_service]]></MsgType></xml>';
	const encrypt = encryptMessage(plaintext, AES_KEY, APP_ID);
	const signature = messageSignature('tok', '1714036600', 'n1', encrypt);
	const xml = `<xml><Encrypt><![CDATA[${encrypt}]]></Encrypt><MsgSignature><![CDATA[${signature}]]></MsgSignature><TimeStamp>1714036600</TimeStamp><Nonce><![CDATA[n1]]></Nonce></xml>`;
	assert.deepEqual(decryptReply(xml, options), { plaintext, signatureValid: true, timestamp: '1714036600', nonce: 'n1' });
	assert.equal(decryptReply(xml.replace(signature, '0'.repeat(40)), options).signatureValid, false);
	assert.throws(() => decryptReply(xml, { ...options, appId: 'wx_other' }), /appId/);
	assert.throws(() => decryptReply('success', options), /Encrypt/);
	const upper = JSON.stringify({ Encrypt: encrypt, MsgSignature: signature, TimeStamp: 1714036600, Nonce: 'n1' });
	const lower = JSON.stringify({ encrypt, msgsignature: signature, timestamp: '1714036600', nonce: 'n1' });
	assert.equal(decryptReply(upper, options).signatureValid, true);
	assert.equal(decryptReply(lower, options).plaintext, plaintext);
});

test('deliverPush: one delivery when answered, 3 on 5xx, timeouts and refused connections, forced repeats', async () => {
	const message = { ToUserName: 'gh_1', FromUserName: 'o_user', CreateTime: 1714036504, MsgType: 'text', Content: 'hi', MsgId: '1' };
	const base = { mode: 'safe' as const, format: 'xml' as const, token: 'tok', appId: APP_ID, encodingAESKey: AES_KEY, message };

	await withReceiver((_req, res) => res.end('success'), async (url, received) => {
		const result = await deliverPush(url, base);
		assert.equal(result.deliveries.length, 1);
		assert.deepEqual([result.deliveries[0].status, result.deliveries[0].body], [200, 'success']);
		assert.equal(received[0].method, 'POST');
		assert.equal(received[0].headers['content-type'], 'text/xml');
		assert.equal(received[0].body, result.built.body);
		const query = new URL(received[0].url, 'http://x').searchParams;
		assert.equal(query.get('msg_signature'), result.built.query.msg_signature);
		assert.equal(new URL(received[0].url, 'http://x').pathname, '/webhook/wechat');

		const forced = await deliverPush(url, { ...base, forceDeliveries: 2 });
		assert.equal(forced.deliveries.length, 2);
		assert.equal(received[1].body, received[2].body, 'a retry is byte-identical');
	});

	await withReceiver((_req, res) => { res.statusCode = 503; res.end('busy'); }, async (url, received) => {
		const result = await deliverPush(url, base);
		assert.deepEqual(result.deliveries.map((d) => [d.attempt, d.status]), [[1, 503], [2, 503], [3, 503]]);
		assert.equal(received.length, 3);
	});

	await withReceiver(() => { /* never answers */ }, async (url) => {
		const result = await deliverPush(url, { ...base, timeoutMs: 150, maxDeliveries: 2 });
		assert.deepEqual(result.deliveries.map((d) => d.error), ['timeout', 'timeout']);
		assert.ok(result.deliveries.every((d) => d.ms >= 140));
	});

	let port = 0;
	await withReceiver((_req, res) => res.end(), async (url) => {
		port = Number(new URL(url).port);
		const result = await deliverPush(url, { ...base, mode: 'plaintext' });
		assert.deepEqual([result.deliveries.length, result.deliveries[0].body], [1, ''], 'an empty answer ends it');
	});
	const refused = await deliverPush(`http://127.0.0.1:${port}/gone`, base);
	assert.deepEqual(refused.deliveries.map((d) => d.error), ['connection', 'connection', 'connection']);
});

// ── CLI ──────────────────────────────────────────────────────────────────────────────────────────────

test('cli: starts with demo data on the requested port, prints credentials, exits 0 on SIGTERM', async () => {
	const cli = path.join(__dirname, 'cli.ts');
	const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
	try {
		let output = '';
		const baseUrl = await new Promise<string>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`cli did not start: ${output}`)), 20_000);
			child.stdout.on('data', (chunk: Buffer) => {
				output += chunk.toString();
				const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
				if (match && output.includes('Ctrl+C')) {
					clearTimeout(timer);
					resolve(match[1]);
				}
			});
			child.on('exit', () => reject(new Error(`cli exited: ${output}`)));
		});
		assert.match(output, /AppID\s+wx_emulator_appid/);
		assert.match(output, /AppSecret\s+emulator_app_secret/);
		const state = (await (await fetch(`${baseUrl}/__emulator/state`)).json()) as Json;
		assert.equal(state.kfAccounts.length, 4);
		assert.ok(state.followers.length >= 20);
		assert.ok(state.waitQueue.length > 0);
		assert.ok(state.chatRecordCount > 0);
		assert.ok(state.kfAccounts.some((a: Json) => a.online && a.accepted_case > 0));
		const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
		child.kill('SIGTERM');
		assert.equal(await exited, 0);
	} finally {
		if (child.exitCode === null) child.kill('SIGKILL');
	}
});
