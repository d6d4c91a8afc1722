import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';

import { NodeApiError } from 'n8n-workflow';

import { WeChatApiError } from '../../nodes/WeChatCustomerService/helpers/errors';
import type { Emulator } from '../emulator/server';
import { useEmulator } from '../harness/emulatorSuite';
import { EngineHarness } from '../harness/engine';

/** Session (会话控制): every operation's exact request and output, least-loaded choice, validation and WeChat's errors. */

let emulator: Emulator;

function harness(): EngineHarness {
	return new EngineHarness({ appId: emulator.appId, appSecret: emulator.appSecret, baseUrl: emulator.baseUrl });
}

const picked = (value: string) => ({ __rl: true, mode: 'list', value });
const typed = (value: string) => ({ __rl: true, mode: 'id', value });

function onlyCall(path: string) {
	const calls = emulator.apiCalls(path);
	assert.equal(calls.length, 1, `exactly one request to ${path}`);
	assert.equal(typeof calls[0].query.access_token, 'string');
	return calls[0];
}

/** The execution keeps errors as plain objects; the name says which class threw (a NodeApiError subclass). */
function assertWeChatApiError(error: unknown) {
	assert.ok(new WeChatApiError({ name: 'n' } as never, 65413, '') instanceof NodeApiError);
	assert.equal((error as { name?: string } | undefined)?.name, 'WeChatApiError');
}

function queryWithoutToken(query: Record<string, string>) {
	const { access_token: _token, ...rest } = query;
	return rest;
}

useEmulator((started) => (emulator = started), { errmsgRid: false });
beforeEach(() => {
	emulator.addKfAccount({ kf_account: 'alice@gh_service', kf_nick: 'Alice', online: true, accepted_case: 3 });
	emulator.addKfAccount({ kf_account: 'bob@gh_service', kf_nick: 'Bob', online: true, accepted_case: 1 });
	// Bound to a worker but logged out.
	emulator.addKfAccount({ kf_account: 'carol@gh_service', kf_nick: 'Carol', kf_wx: 'carol_wx88' });
	// Never bound to a worker.
	emulator.addKfAccount({ kf_account: 'dave@gh_service', kf_nick: 'Dave' });
	for (const openid of ['o_user1', 'o_user2', 'o_user3']) emulator.addFollower(openid);
});

describe('session.create', () => {
	test('with a specific agent: sends kf_account and openid, returns what was created', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'create', kfAccount: picked('bob@gh_service'), openId: 'o_user1' },
		});

		assert.equal(result.error, undefined);
		const call = onlyCall('/customservice/kfsession/create');
		assert.equal(call.method, 'POST');
		assert.deepEqual(queryWithoutToken(call.query), {});
		assert.deepEqual(call.json, { kf_account: 'bob@gh_service', openid: 'o_user1' });
		assert.equal(emulator.apiCalls().length, 1, 'no online-list look-up for a specific agent');
		assert.deepEqual(result.items.map((item) => item.json), [
			{ kf_account: 'bob@gh_service', openid: 'o_user1', created: true },
		]);
		assert.equal(emulator.state.sessions.get('o_user1')?.kf_account, 'bob@gh_service');
	});

	test('least-loaded: skips offline agents (status 0) and picks the fewest accepted_case, first listed on a tie', async () => {
		// erin (0 sessions) is listed but with status 0, as legacy multi-kf accounts report logged-out agents.
		emulator.addKfAccount({ kf_account: 'erin@gh_service', kf_nick: 'Erin', online: true, accepted_case: 0 });
		emulator.state.kfAccounts.get('erin@gh_service')!.status = 0;
		// frank ties with bob (1 session) but is listed after him.
		emulator.addKfAccount({ kf_account: 'frank@gh_service', kf_nick: 'Frank', online: true, accepted_case: 1 });

		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'create', agentSelection: 'leastLoaded', openId: 'o_user2' },
		});

		assert.equal(result.error, undefined);
		const lookup = onlyCall('/cgi-bin/customservice/getonlinekflist');
		assert.equal(lookup.method, 'GET');
		assert.deepEqual(queryWithoutToken(lookup.query), {});
		assert.deepEqual(
			(lookup.response.body as { kf_online_list: Array<{ kf_account: string }> }).kf_online_list.map((a) => a.kf_account),
			['alice@gh_service', 'bob@gh_service', 'erin@gh_service', 'frank@gh_service'],
		);
		const create = onlyCall('/customservice/kfsession/create');
		assert.deepEqual(create.json, { kf_account: 'bob@gh_service', openid: 'o_user2' });
		assert.deepEqual(emulator.apiCalls().map((call) => call.path), [
			'/cgi-bin/customservice/getonlinekflist',
			'/customservice/kfsession/create',
		]);
		assert.deepEqual(result.items.map((item) => item.json), [
			{ kf_account: 'bob@gh_service', openid: 'o_user2', created: true, selectedBy: 'leastLoaded', accepted_case: 1 },
		]);
	});

	test('least-loaded on a full tie takes the agent WeChat lists first', async () => {
		emulator.setOnline('alice@gh_service', true, 2);
		emulator.setOnline('bob@gh_service', true, 2);
		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'create', agentSelection: 'leastLoaded', openId: 'o_user3' },
		});
		assert.deepEqual(onlyCall('/customservice/kfsession/create').json, { kf_account: 'alice@gh_service', openid: 'o_user3' });
		assert.equal(result.items[0].json.kf_account, 'alice@gh_service');
		assert.equal(result.items[0].json.accepted_case, 2);
	});

	test('least-loaded with nobody online: a clear error and no create request', async () => {
		emulator.setOnline('alice@gh_service', false);
		emulator.setOnline('bob@gh_service', false);
		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'create', agentSelection: 'leastLoaded', openId: 'o_user1' },
		});

		assert.equal(result.error?.message, 'No customer-service agent is online (没有在线客服)');
		assert.match(String(result.error?.description), /no session was created/);
		assert.match(String(result.error?.description), /Transfer to Customer Service/);
		assert.match(String(result.error?.description), /try again later/i);
		assert.equal(emulator.apiCalls('/cgi-bin/customservice/getonlinekflist').length, 1);
		assert.equal(emulator.apiCalls('/customservice/kfsession/create').length, 0);
	});

	test('least-loaded does not look anyone up when the OpenID is empty', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'create', agentSelection: 'leastLoaded', openId: '={{ "" }}' },
		});
		assert.equal(result.error?.message, 'OpenID is empty');
		assert.equal(emulator.requests.length, 0, 'not even a token request');
	});

	const weChatErrors: Array<[string, () => void, string, string, RegExp]> = [
		[
			'an offline agent is 65415',
			() => {},
			'carol@gh_service',
			'WeChat error 65415 (客服不在线): The customer-service agent is offline',
			/^Pick an online agent \(Account → Get Online\), or choose "Least-Loaded Online Agent"\./,
		],
		[
			'an agent without a bound worker is 65402',
			() => {},
			'dave@gh_service',
			'WeChat error 65402 (客服帐号尚未绑定微信号，不能投入使用): The customer-service account is not bound to a WeChat user',
			/^Invite a worker first \(Account → Invite Worker\)/,
		],
		[
			'a user served by another agent is 65414',
			() => emulator.state.openSession('alice@gh_service', 'o_user1'),
			'bob@gh_service',
			'WeChat error 65414 (客户正在被其他客服接待): Another customer-service agent is serving this user',
			/^Close the other agent's session first/,
		],
	];
	for (const [name, arrange, kfAccount, message, fix] of weChatErrors) {
		test(`${name}, with the English message, WeChat's Chinese term and the fix`, async () => {
			arrange();
			const result = await harness().runNode({
				parameters: { resource: 'session', operation: 'create', kfAccount: typed(kfAccount), openId: 'o_user1' },
			});
			assert.equal(result.items.length, 0);
			assertWeChatApiError(result.error);
			assert.equal(result.error?.message, message);
			assert.match(String(result.error?.description), fix);
			assert.match(String(result.error?.description), /WeChat said: "/);
			assert.equal(emulator.apiCalls('/customservice/kfsession/create').length, 1);
		});
	}
});

describe('session.close', () => {
	test('sends kf_account and openid, returns what was closed', async () => {
		emulator.state.openSession('alice@gh_service', 'o_user1');
		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'close', kfAccount: picked('alice@gh_service'), openId: ' o_user1 ' },
		});

		assert.equal(result.error, undefined);
		const call = onlyCall('/customservice/kfsession/close');
		assert.equal(call.method, 'POST');
		assert.deepEqual(queryWithoutToken(call.query), {});
		assert.deepEqual(call.json, { kf_account: 'alice@gh_service', openid: 'o_user1' });
		assert.deepEqual(result.items.map((item) => item.json), [
			{ kf_account: 'alice@gh_service', openid: 'o_user1', closed: true },
		]);
		assert.equal(emulator.state.sessions.has('o_user1'), false);
	});

	test('no open session is 65413', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'close', kfAccount: picked('alice@gh_service'), openId: 'o_user1' },
		});
		assertWeChatApiError(result.error);
		assert.equal(result.error?.message, 'WeChat error 65413 (不存在对应用户的会话信息): The user has no open customer-service session');
		assert.match(String(result.error?.description), /^Check the session first with Session → Get\./);
	});

	test('closing another agent\'s session is 65414', async () => {
		emulator.state.openSession('bob@gh_service', 'o_user2');
		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'close', kfAccount: picked('alice@gh_service'), openId: 'o_user2' },
		});
		assert.equal(result.error?.message, 'WeChat error 65414 (客户正在被其他客服接待): Another customer-service agent is serving this user');
		assert.equal(emulator.state.sessions.get('o_user2')?.kf_account, 'bob@gh_service');
	});

	for (const [kfAccount, openId, message, hint] of [
		// A typed value is checked by n8n's own regex first; a picked or computed one reaches the node's check.
		[picked('not-an-account'), 'o_user1', '"not-an-account" is not a valid customer-service account', /prefix@WeChatID/],
		[typed('={{ "" }}'), 'o_user1', 'Customer Service Account is empty', /prefix@WeChatID/],
		[typed('={{ "bad prefix@gh_service" }}'), 'o_user1', '"bad prefix@gh_service" is not a valid customer-service account', /prefix@WeChatID/],
		[picked('alice@gh_service'), '={{ "  " }}', 'OpenID is empty', /FromUserName/],
	] as const) {
		test(`rejects ${message} before sending anything`, async () => {
			const result = await harness().runNode({
				parameters: { resource: 'session', operation: 'close', kfAccount, openId },
			});
			assert.equal(result.error?.message, message);
			assert.match(String(result.error?.description), hint);
			assert.equal(emulator.requests.length, 0, 'not even a token request');
		});
	}
});

describe('session.get', () => {
	test('a served user: openid, kf_account, createtime and inSession true', async () => {
		const session = emulator.state.openSession('bob@gh_service', 'o_user2', 1714536000);
		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'get', openId: 'o_user2' },
		});

		const call = onlyCall('/customservice/kfsession/getsession');
		assert.equal(call.method, 'GET');
		assert.deepEqual(queryWithoutToken(call.query), { openid: 'o_user2' });
		assert.equal(call.json, undefined);
		assert.deepEqual(result.items.map((item) => item.json), [
			{ openid: 'o_user2', kf_account: 'bob@gh_service', createtime: session.createtime, inSession: true },
		]);
	});

	test('nobody serving: WeChat\'s empty kf_account and inSession false', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'get', openId: 'o_user3' },
		});
		assert.deepEqual(result.items.map((item) => item.json), [
			{ openid: 'o_user3', kf_account: '', createtime: 0, inSession: false },
		]);
	});

	test('an OpenID that is no follower is 40003', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'get', openId: 'o_stranger' },
		});
		assert.equal(result.error?.message, 'WeChat error 40003 (不合法的 OpenID): Invalid OpenID: the user is not a follower of this Official Account');
	});

	test('an empty OpenID is rejected before sending anything', async () => {
		const result = await harness().runNode({ parameters: { resource: 'session', operation: 'get', openId: '={{ "" }}' } });
		assert.equal(result.error?.message, 'OpenID is empty');
		assert.equal(emulator.requests.length, 0);
	});
});

describe('session.getAll', () => {
	beforeEach(() => {
		emulator.state.openSession('alice@gh_service', 'o_user1', 1714536000);
		emulator.state.openSession('alice@gh_service', 'o_user2', 1714536100);
		emulator.state.openSession('bob@gh_service', 'o_user3', 1714536200);
	});

	test('one item per session of the agent, each with the agent', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'getAll', kfAccount: picked('alice@gh_service'), returnAll: true },
		});

		const call = onlyCall('/customservice/kfsession/getsessionlist');
		assert.equal(call.method, 'GET');
		assert.deepEqual(queryWithoutToken(call.query), { kf_account: 'alice@gh_service' });
		assert.deepEqual(result.items.map((item) => item.json), [
			{ kf_account: 'alice@gh_service', openid: 'o_user1', createtime: 1714536000 },
			{ kf_account: 'alice@gh_service', openid: 'o_user2', createtime: 1714536100 },
		]);
	});

	test('Limit 1 returns the first session only', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'getAll', kfAccount: typed('alice@gh_service'), returnAll: false, limit: 1 },
		});
		assert.deepEqual(result.items.map((item) => item.json.openid), ['o_user1']);
	});

	test('an agent without sessions returns no items', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'getAll', kfAccount: typed('carol@gh_service'), returnAll: true },
		});
		assert.equal(result.error, undefined);
		assert.deepEqual(result.items, []);
	});

	test('an agent without a bound worker is 65402', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'getAll', kfAccount: typed('dave@gh_service'), returnAll: true },
		});
		assert.equal(
			result.error?.message,
			'WeChat error 65402 (客服帐号尚未绑定微信号，不能投入使用): The customer-service account is not bound to a WeChat user',
		);
	});
});

describe('session.getWaiting', () => {
	test('one item per waiting user, longest-waiting first, each with the total count', async () => {
		emulator.addWaiting('o_w2', 1714536200);
		emulator.addWaiting('o_w1', 1714536100);
		emulator.addWaiting('o_w3', 1714536300);
		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'getWaiting', returnAll: true },
		});

		const call = onlyCall('/customservice/kfsession/getwaitcase');
		assert.equal(call.method, 'GET');
		assert.deepEqual(queryWithoutToken(call.query), {});
		assert.equal(call.json, undefined);
		assert.deepEqual(result.items.map((item) => item.json), [
			{ openid: 'o_w1', latest_time: 1714536100, count: 3 },
			{ openid: 'o_w2', latest_time: 1714536200, count: 3 },
			{ openid: 'o_w3', latest_time: 1714536300, count: 3 },
		]);
	});

	test('count is the whole queue even beyond WeChat\'s 100 listed and beyond the Limit', async () => {
		for (let index = 0; index < 105; index++) emulator.addWaiting(`o_wait${index}`, 1714536000 + index);
		const all = await harness().runNode({ parameters: { resource: 'session', operation: 'getWaiting', returnAll: true } });
		assert.equal(all.items.length, 100);
		assert.ok(all.items.every((item) => item.json.count === 105));

		const limited = await harness().runNode({
			parameters: { resource: 'session', operation: 'getWaiting', returnAll: false, limit: 2 },
		});
		assert.deepEqual(limited.items.map((item) => item.json), [
			{ openid: 'o_wait0', latest_time: 1714536000, count: 105 },
			{ openid: 'o_wait1', latest_time: 1714536001, count: 105 },
		]);
	});

	test('an empty queue returns no items', async () => {
		const result = await harness().runNode({ parameters: { resource: 'session', operation: 'getWaiting', returnAll: true } });
		assert.equal(result.error, undefined);
		assert.deepEqual(result.items, []);
	});
});

describe('every item, and continueOnFail', () => {
	test('three items, the middle one failing at WeChat: two sessions closed, one error item, in order', async () => {
		emulator.state.openSession('alice@gh_service', 'o_user1');
		emulator.state.openSession('alice@gh_service', 'o_user3');
		const result = await harness().runNode({
			parameters: {
				resource: 'session',
				operation: 'close',
				kfAccount: typed('alice@gh_service'),
				openId: '={{ $json.user }}',
			},
			continueOnFail: true,
			items: [{ json: { user: 'o_user1' } }, { json: { user: 'o_user2' } }, { json: { user: 'o_user3' } }],
		});

		assert.deepEqual(result.items.map((item) => item.json), [
			{ kf_account: 'alice@gh_service', openid: 'o_user1', closed: true },
			{ error: 'WeChat error 65413 (不存在对应用户的会话信息): The user has no open customer-service session' },
			{ kf_account: 'alice@gh_service', openid: 'o_user3', closed: true },
		]);
		assert.equal(emulator.apiCalls('/customservice/kfsession/close').length, 3);
	});

	test('continueOnFail with nobody online gives an error item per input item', async () => {
		emulator.setOnline('alice@gh_service', false);
		emulator.setOnline('bob@gh_service', false);
		const result = await harness().runNode({
			parameters: { resource: 'session', operation: 'create', agentSelection: 'leastLoaded', openId: '={{ $json.user }}' },
			continueOnFail: true,
			items: [{ json: { user: 'o_user1' } }, { json: { user: 'o_user2' } }],
		});
		assert.deepEqual(result.items.map((item) => item.json), [
			{ error: 'No customer-service agent is online (没有在线客服)' },
			{ error: 'No customer-service agent is online (没有在线客服)' },
		]);
		assert.equal(emulator.apiCalls('/customservice/kfsession/create').length, 0);
	});
});
