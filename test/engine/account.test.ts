import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { beforeEach, describe, test } from 'node:test';

import type { Emulator } from '../emulator/server';
import { useEmulator } from '../harness/emulatorSuite';
import { EngineHarness } from '../harness/engine';

/** Account (客服账号): every operation's exact request to WeChat and exact output, validation and WeChat's errors. */

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

function queryWithoutToken(query: Record<string, string>) {
	const { access_token: _token, ...rest } = query;
	return rest;
}

useEmulator((started) => (emulator = started), { errmsgRid: false });
beforeEach(() => {
	emulator.addKfAccount({ kf_account: 'alice@gh_service', kf_nick: 'Alice', online: true, accepted_case: 2 });
	emulator.addKfAccount({ kf_account: 'bob@gh_service', kf_nick: 'Bob', online: true, accepted_case: 0 });
	emulator.addKfAccount({ kf_account: 'carol@gh_service', kf_nick: 'Carol' });
});

describe('account.create', () => {
	test('sends kf_account and nickname, returns what was created', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'account', operation: 'create', kfAccount: 'dave@gh_service', nickname: '小戴 Dave' },
		});

		assert.equal(result.error, undefined);
		const call = onlyCall('/customservice/kfaccount/add');
		assert.equal(call.method, 'POST');
		assert.deepEqual(queryWithoutToken(call.query), {});
		assert.deepEqual(call.json, { kf_account: 'dave@gh_service', nickname: '小戴 Dave' });
		assert.deepEqual(result.items.map((item) => item.json), [
			{ kf_account: 'dave@gh_service', nickname: '小戴 Dave', created: true },
		]);
		assert.ok(emulator.state.kfAccounts.has('dave@gh_service'));
	});

	test('a duplicate account is WeChat error 65406 with the fix', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'account', operation: 'create', kfAccount: 'alice@gh_service', nickname: 'Alice' },
		});
		assert.equal(
			result.error?.message,
			'WeChat error 65406 (已经存在的客服帐号): This customer-service account already exists',
		);
		assert.match(String(result.error?.description), /^Use another prefix, or use Update to change the nickname\./);
	});

	for (const [kfAccount, reason] of [
		// An empty literal is caught by n8n's own "required" check; an expression that yields nothing reaches ours.
		['={{ "" }}', 'Customer Service Account is empty'],
		['toolongprefix1@gh_service', '"toolongprefix1@gh_service" is not a valid customer-service account'],
		['bad-prefix@gh_service', '"bad-prefix@gh_service" is not a valid customer-service account'],
		['noatsign', '"noatsign" is not a valid customer-service account'],
	] as const) {
		test(`rejects kf_account "${kfAccount}" before sending anything`, async () => {
			const result = await harness().runNode({
				parameters: { resource: 'account', operation: 'create', kfAccount, nickname: 'Nick' },
			});
			assert.equal(result.error?.message, reason);
			assert.match(String(result.error?.description), /prefix@WeChatID/);
			assert.equal(emulator.requests.length, 0, 'not even a token request');
		});
	}

	test('rejects a nickname over 16 characters before sending anything', async () => {
		const result = await harness().runNode({
			parameters: {
				resource: 'account',
				operation: 'create',
				kfAccount: 'erin@gh_service',
				nickname: '一二三四五六七八九十一二三四五六七',
			},
		});
		assert.equal(result.error?.message, 'Nickname is 17 characters long; WeChat allows at most 16');
		assert.equal(emulator.requests.length, 0);
	});
});

describe('account.update and account.delete', () => {
	test('update sends the picked account and the new nickname', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'account', operation: 'update', kfAccount: picked('bob@gh_service'), nickname: 'Bobby' },
		});
		const call = onlyCall('/customservice/kfaccount/update');
		assert.equal(call.method, 'POST');
		assert.deepEqual(call.json, { kf_account: 'bob@gh_service', nickname: 'Bobby' });
		assert.deepEqual(result.items[0].json, { kf_account: 'bob@gh_service', nickname: 'Bobby', updated: true });
	});

	test('delete sends the account in the query and the body (accepted by every documented variant)', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'account', operation: 'delete', kfAccount: typed('carol@gh_service') },
		});
		const call = onlyCall('/customservice/kfaccount/del');
		assert.equal(call.method, 'POST');
		assert.deepEqual(queryWithoutToken(call.query), { kf_account: 'carol@gh_service' });
		assert.deepEqual(call.json, { kf_account: 'carol@gh_service' });
		assert.deepEqual(result.items[0].json, { kf_account: 'carol@gh_service', deleted: true });
		assert.equal(emulator.state.kfAccounts.has('carol@gh_service'), false);
	});

	test('deleting an unknown account is 65401', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'account', operation: 'delete', kfAccount: typed('zed@gh_service') },
		});
		assert.equal(result.error?.message, 'WeChat error 65401 (无效客服帐号): Invalid customer-service account: it does not exist');
	});
});

describe('account.getAll and account.getOnline', () => {
	test('getAll returns one item per account, limited to 2', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'account', operation: 'getAll', returnAll: false, limit: 2 },
		});
		const call = onlyCall('/cgi-bin/customservice/getkflist');
		assert.equal(call.method, 'GET');
		const kfList = (call.response.body as { kf_list: unknown[] }).kf_list;
		assert.equal(kfList.length, 3);
		assert.deepEqual(result.items.map((item) => item.json), kfList.slice(0, 2));
	});

	test('getOnline returns every online agent with accepted_case', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'account', operation: 'getOnline', returnAll: true },
		});
		const call = onlyCall('/cgi-bin/customservice/getonlinekflist');
		assert.equal(call.method, 'GET');
		assert.deepEqual(
			result.items.map((item) => [item.json.kf_account, item.json.accepted_case]),
			[
				['alice@gh_service', 2],
				['bob@gh_service', 0],
			],
		);
	});
});

describe('account.invite', () => {
	test('sends kf_account and invite_wx', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'account', operation: 'invite', kfAccount: picked('carol@gh_service'), inviteWx: 'carol_wx88' },
		});
		const call = onlyCall('/customservice/kfaccount/inviteworker');
		assert.deepEqual(call.json, { kf_account: 'carol@gh_service', invite_wx: 'carol_wx88' });
		assert.deepEqual(result.items[0].json, {
			kf_account: 'carol@gh_service',
			invite_wx: 'carol_wx88',
			invited: true,
		});
	});

	test('an empty WeChat ID is rejected locally', async () => {
		const result = await harness().runNode({
			parameters: { resource: 'account', operation: 'invite', kfAccount: picked('carol@gh_service'), inviteWx: ' ' },
		});
		assert.equal(result.error?.message, 'WeChat ID to invite is empty');
		assert.equal(emulator.requests.length, 0);
	});
});

describe('account.setAvatar', () => {
	const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2048, 7)]);

	test('uploads the binary JPG as multipart field "media"', async () => {
		const result = await harness().runNode({
			parameters: {
				resource: 'account',
				operation: 'setAvatar',
				kfAccount: picked('alice@gh_service'),
				binaryPropertyName: 'avatar',
			},
			items: [{ json: {}, binary: { avatar: { data: jpeg, fileName: 'alice.jpg', mimeType: 'image/jpeg' } } }],
		});

		assert.equal(result.error, undefined);
		const call = onlyCall('/customservice/kfaccount/uploadheadimg');
		assert.equal(call.method, 'POST');
		assert.deepEqual(queryWithoutToken(call.query), { kf_account: 'alice@gh_service' });
		assert.deepEqual(call.multipart?.files, [
			{
				field: 'media',
				filename: 'alice.jpg',
				contentType: 'image/jpeg',
				size: jpeg.length,
				sha256: createHash('sha256').update(jpeg).digest('hex'),
			},
		]);
		assert.deepEqual(result.items[0].json, { kf_account: 'alice@gh_service', avatarUpdated: true });
	});

	test('a PNG, a missing binary property and a file over 5 MB are rejected before any request', async () => {
		const png = { data: Buffer.alloc(100, 1), fileName: 'a.png', mimeType: 'image/png' };
		const huge = { data: Buffer.alloc(5 * 1024 * 1024 + 1, 1), fileName: 'big.jpg', mimeType: 'image/jpeg' };
		const parameters = {
			resource: 'account',
			operation: 'setAvatar',
			kfAccount: picked('alice@gh_service'),
			binaryPropertyName: 'avatar',
		};
		const result = await harness().runNode({
			parameters,
			continueOnFail: true,
			items: [{ json: {}, binary: { avatar: png } }, { json: {}, binary: { photo: png } }, { json: {}, binary: { avatar: huge } }],
		});

		assert.deepEqual(
			result.items.map((item) => item.json.error),
			[
				'The file "a.png" (image/png) cannot be sent as avatar',
				'No binary data in property "avatar"',
				'The avatar file is 5.0 MB; WeChat accepts at most 5.0 MB',
			],
		);
		assert.equal(emulator.requests.length, 0);
	});
});

describe('every item, and continueOnFail', () => {
	test('three items, the middle one invalid: two accounts created, one error item, in order', async () => {
		const result = await harness().runNode({
			parameters: {
				resource: 'account',
				operation: 'create',
				kfAccount: '={{ $json.account }}',
				nickname: '={{ $json.nick }}',
			},
			continueOnFail: true,
			items: [
				{ json: { account: 'k1@gh_service', nick: 'One' } },
				{ json: { account: 'k2@gh_service', nick: '' } },
				{ json: { account: 'k3@gh_service', nick: 'Three' } },
			],
		});

		assert.deepEqual(result.items.map((item) => item.json), [
			{ kf_account: 'k1@gh_service', nickname: 'One', created: true },
			{ error: 'Nickname is empty' },
			{ kf_account: 'k3@gh_service', nickname: 'Three', created: true },
		]);
		assert.deepEqual(
			emulator.apiCalls('/customservice/kfaccount/add').map((call) => (call.json as { kf_account: string }).kf_account).sort(),
			['k1@gh_service', 'k3@gh_service'],
		);
	});

	test('without continueOnFail a WeChat error stops the node with that error', async () => {
		emulator.injectFault({ path: '/customservice/kfaccount/add', kind: 'errcode', errcode: 45009 });
		const result = await harness().runNode({
			parameters: { resource: 'account', operation: 'create', kfAccount: 'k9@gh_service', nickname: 'Nine' },
		});
		assert.equal(result.items.length, 0);
		assert.equal(result.error?.message, 'WeChat error 45009 (接口调用超过限制): The daily call quota of this API is used up');
	});
});

describe('the account picker (resource locator list)', () => {
	test('lists every account as "nickname (account)", filtered by what the user types', async () => {
		const instance = harness();
		const all = await instance.listSearch('searchKfAccounts');
		assert.deepEqual(all.results, [
			{ name: 'Alice (alice@gh_service)', value: 'alice@gh_service' },
			{ name: 'Bob (bob@gh_service)', value: 'bob@gh_service' },
			{ name: 'Carol (carol@gh_service)', value: 'carol@gh_service' },
		]);
		const filtered = await instance.listSearch('searchKfAccounts', 'CAR');
		assert.deepEqual(filtered.results, [{ name: 'Carol (carol@gh_service)', value: 'carol@gh_service' }]);
		assert.equal(emulator.apiCalls('/cgi-bin/customservice/getkflist').length, 2);
		assert.equal(emulator.tokenCalls().length, 1);
	});

	test('a WeChat error while listing is explained, not an empty list', async () => {
		emulator.setKfEnabled(false);
		await assert.rejects(harness().listSearch('searchKfAccounts'), {
			message:
				'WeChat error 65400 (API不可用，即没有开通/升级到新版客服功能): The new customer-service feature is not enabled for this Official Account, or was enabled moments ago',
		});
	});
});
