import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeEach, describe, test } from 'node:test';

import { WeChatOfficialAccountApi } from '../../credentials/WeChatOfficialAccountApi.credentials';
import { resetAccessTokenCacheForTests } from '../../nodes/shared/accessToken/obtain';
import type { Emulator } from '../emulator/server';
import { useEmulator } from '../harness/emulatorSuite';
import { EngineHarness } from '../harness/engine';
import { assertNoSecrets } from '../harness/secrets';

/**
 * The access-token layer, through n8n's real engine: how many token requests WeChat sees, and that a rejected token
 * costs one refresh and one retry, never a failed item, a loop or a leaked secret.
 */

const GET_KF_LIST = '/cgi-bin/customservice/getkflist';
const LIST_ACCOUNTS = { resource: 'account', operation: 'getAll', returnAll: true };

let emulator: Emulator;

function harness(overrides: Record<string, unknown> = {}): EngineHarness {
	return new EngineHarness({
		appId: emulator.appId,
		appSecret: emulator.appSecret,
		baseUrl: emulator.baseUrl,
		...overrides,
	});
}

function items(count: number) {
	return Array.from({ length: count }, (_, index) => ({ json: { index } }));
}

/** Every token value the emulator handed out so far. */
function issuedTokens(): string[] {
	return emulator
		.tokenCalls()
		.map((call) => (call.response.body as { access_token?: string }).access_token)
		.filter((token): token is string => typeof token === 'string');
}

function tokenOf(call: { query: Record<string, string> }): string | undefined {
	return call.query.access_token;
}

useEmulator((started) => (emulator = started));
beforeEach(() => {
	emulator.addKfAccount({ kf_account: 'kf2001@gh_service', kf_nick: 'Alice' });
});

describe('token requests', () => {
	test('50 concurrent items with an empty cache make exactly one stable_token request', async () => {
		const result = await harness().runNode({ parameters: LIST_ACCOUNTS, items: items(50) });

		assert.equal(result.error, undefined);
		assert.equal(result.items.length, 50);
		const tokenCalls = emulator.tokenCalls();
		assert.equal(tokenCalls.length, 1);
		assert.equal(tokenCalls[0].path, '/cgi-bin/stable_token');
		assert.equal(tokenCalls[0].method, 'POST');
		assert.deepEqual(tokenCalls[0].json, {
			grant_type: 'client_credential',
			appid: emulator.appId,
			secret: emulator.appSecret,
		});
		const apiCalls = emulator.apiCalls(GET_KF_LIST);
		assert.equal(apiCalls.length, 50);
		assert.ok(apiCalls.every((call) => tokenOf(call) === issuedTokens()[0]));
	});

	test('the classic source also makes one /cgi-bin/token request for 50 items', async () => {
		const result = await harness({ issuer: 'classic' }).runNode({
			parameters: LIST_ACCOUNTS,
			items: items(50),
		});

		assert.equal(result.error, undefined);
		assert.equal(result.items.length, 50);
		const tokenCalls = emulator.tokenCalls();
		assert.equal(tokenCalls.length, 1);
		assert.equal(tokenCalls[0].method, 'GET');
		assert.equal(tokenCalls[0].path, '/cgi-bin/token');
		assert.deepEqual(tokenCalls[0].query, {
			grant_type: 'client_credential',
			appid: emulator.appId,
			secret: emulator.appSecret,
		});
	});

	test('the token is saved in the credential and reused by later executions and other processes', async () => {
		const instance = harness();
		await instance.runNode({ parameters: LIST_ACCOUNTS });
		const saved = instance.storedCredential();
		assert.equal(saved.accessToken, issuedTokens()[0]);
		assert.equal(typeof saved.renewAt, 'number');
		assert.equal(typeof saved.issuedFor, 'string');

		await instance.runNode({ parameters: LIST_ACCOUNTS, items: items(3) });
		// Another n8n process: same database, nothing in memory.
		resetAccessTokenCacheForTests();
		await instance.runNode({ parameters: LIST_ACCOUNTS, items: items(3) });

		assert.equal(emulator.tokenCalls().length, 1);
		assert.equal(emulator.apiCalls(GET_KF_LIST).length, 7);
	});

	test('a token is renewed at least 5 minutes before it expires, before the request is sent', async () => {
		const instance = harness();
		const before = Date.now();
		await instance.runNode({ parameters: LIST_ACCOUNTS });
		const firstToken = issuedTokens()[0];
		const renewAt = Number(instance.storedCredential().renewAt);
		// stable_token answered expires_in 7200: renewal is due no later than 7200 - 300 seconds after the fetch.
		assert.ok(renewAt <= Date.now() + (7200 - 300) * 1000, 'renewal is at least 5 minutes early');
		assert.ok(renewAt >= before + (7200 - 300) * 1000 - 1000, 'and not needlessly earlier');

		// Four minutes before expiry, for the node and for WeChat (which rotates the stable token 5 minutes early).
		const elapsed = (7200 - 240) * 1000;
		emulator.advanceTime(elapsed);
		const realNow = Date.now;
		Date.now = () => realNow() + elapsed;
		try {
			emulator.clearLog();
			await instance.runNode({ parameters: LIST_ACCOUNTS, items: items(5) });
		} finally {
			Date.now = realNow;
		}

		const log = emulator.requests;
		assert.equal(log[0].path, '/cgi-bin/stable_token', 'the token is renewed first');
		assert.equal(emulator.tokenCalls().length, 1);
		const renewed = issuedTokens()[0];
		assert.notEqual(renewed, firstToken);
		assert.ok(emulator.apiCalls(GET_KF_LIST).every((call) => tokenOf(call) === renewed));
		assert.ok(emulator.apiCalls().every((call) => call.response.status === 200));
	});

	test('changing the AppID or source in the credential discards the cached token', async () => {
		const instance = harness();
		await instance.runNode({ parameters: LIST_ACCOUNTS });
		instance.updateCredential({ issuer: 'classic' });
		await instance.runNode({ parameters: LIST_ACCOUNTS });

		assert.deepEqual(
			emulator.tokenCalls().map((call) => call.path),
			['/cgi-bin/stable_token', '/cgi-bin/token'],
		);
	});
});

describe('what the process remembers', () => {
	test('an execution that read the credential before the first token was saved gets that token, not a new one', async () => {
		// n8n saves a fetched token in the credential, but an execution that loaded the credential just before that
		// still sees it empty and asks again. With the classic source a second fetch would log out the first token,
		// which other items are using right now.
		const credentialType = new WeChatOfficialAccountApi();
		const stale = { appId: emulator.appId, appSecret: emulator.appSecret, issuer: 'classic', baseUrl: emulator.baseUrl };
		const helpers = {
			helpers: {
				httpRequest: async (options: { url: string; qs?: Record<string, string> }) => {
					const url = new URL(options.url);
					for (const [name, value] of Object.entries(options.qs ?? {})) url.searchParams.set(name, value);
					return await (await fetch(url)).json();
				},
			},
		};
		const first = await credentialType.preAuthentication.call(helpers as never, { ...stale });
		const second = await credentialType.preAuthentication.call(helpers as never, { ...stale });
		assert.equal(emulator.tokenCalls().length, 1);
		assert.equal(second.accessToken, first.accessToken);
	});
});

describe('a rejected token mid-run', () => {
	for (const fault of ['revoked (40001)', 'expired (42001)'] as const) {
		test(`${fault}: one refresh, one retry per item, every item succeeds`, async () => {
			const instance = harness();
			await instance.runNode({ parameters: LIST_ACCOUNTS });
			const oldToken = issuedTokens()[0];
			if (fault === 'revoked (40001)') emulator.revokeCurrentToken();
			else emulator.expireCurrentToken();
			emulator.clearLog();

			const result = await instance.runNode({ parameters: LIST_ACCOUNTS, items: items(10) });

			assert.equal(result.error, undefined);
			assert.equal(result.items.length, 10);
			const successfulAnswer = emulator.apiCalls(GET_KF_LIST).at(-1)?.response.body as {
				kf_list: unknown[];
			};
			assert.deepEqual(result.items[0].json, successfulAnswer.kf_list[0]);
			assert.equal(result.items[0].json.kf_account, 'kf2001@gh_service');
			assert.equal(emulator.tokenCalls().length, 1, 'exactly one refresh');
			const newToken = issuedTokens()[0];
			const calls = emulator.apiCalls(GET_KF_LIST);
			assert.equal(calls.filter((call) => tokenOf(call) === oldToken).length, 10, 'each item tried once');
			assert.equal(calls.filter((call) => tokenOf(call) === newToken).length, 10, 'and retried once');
			assert.equal(calls.length, 20);
			assert.equal(instance.storedCredential().accessToken, newToken);
		});
	}

	test('force_refresh only when the freshly fetched stable token is itself rejected, at most once per 30 s', async () => {
		const instance = harness();
		await instance.runNode({ parameters: LIST_ACCOUNTS });
		emulator.revokeCurrentToken({ stableKeepsReturningIt: true });
		emulator.clearLog();

		const recovered = await instance.runNode({ parameters: LIST_ACCOUNTS, items: items(5) });

		assert.equal(recovered.error, undefined);
		assert.equal(recovered.items.length, 5);
		assert.deepEqual(
			emulator.tokenCalls().map((call) => (call.json as { force_refresh?: boolean }).force_refresh ?? false),
			[false, true],
		);

		// Again within 30 s: no second force_refresh; a clear error instead of a loop.
		emulator.revokeCurrentToken({ stableKeepsReturningIt: true });
		emulator.clearLog();
		const failed = await instance.runNode({ parameters: LIST_ACCOUNTS });

		assert.equal(failed.items.length, 0);
		assert.equal(failed.error?.message, 'WeChat keeps rejecting the stable access token');
		assert.match(String(failed.error?.description), /less than 30 seconds ago/);
		assert.deepEqual(
			emulator.tokenCalls().map((call) => (call.json as { force_refresh?: boolean }).force_refresh ?? false),
			[false],
		);
		assert.equal(emulator.apiCalls(GET_KF_LIST).length, 1);
	});

	test('a second token error for the same request is reported, not retried again', async () => {
		const instance = harness({ issuer: 'classic' });
		await instance.runNode({ parameters: LIST_ACCOUNTS });
		emulator.clearLog();
		emulator.injectFault({ path: GET_KF_LIST, kind: 'errcode', errcode: 40001, times: 2 });

		const result = await instance.runNode({ parameters: LIST_ACCOUNTS });

		assert.equal(result.items.length, 0);
		assert.equal(
			result.error?.message,
			'WeChat error 40001 (获取 access_token 时 AppSecret 错误，或者 access_token 无效): WeChat rejected the credentials: the AppSecret is wrong, or the access token is invalid or not the latest',
		);
		assert.match(String(result.error?.description), /^WeChat rejected a freshly obtained access token as well\./);
		assert.equal(emulator.apiCalls(GET_KF_LIST).length, 2);
		assert.equal(emulator.tokenCalls().length, 1);
	});
});

describe('credential problems are explained', () => {
	test('40164: the error names the IP WeChat saw and where to whitelist it', async () => {
		emulator.setIpWhitelist({ enabled: true, callerIp: '198.51.100.23' });
		const result = await harness().runNode({ parameters: LIST_ACCOUNTS });

		assert.equal(
			result.error?.message,
			"WeChat error 40164 (调用接口的 IP 地址不在白名单中): WeChat saw this n8n call from IP 198.51.100.23, which is not in the Official Account's API IP whitelist",
		);
		assert.match(String(result.error?.description), /设置与开发 → 基本配置 → IP白名单/);
		assert.equal(emulator.apiCalls().length, 0);
	});

	test('a wrong AppSecret fails with 40125 and never shows the secret', async () => {
		const wrongSecret = 'wrong-app-secret-value-0123456789';
		const result = await harness({ appSecret: wrongSecret }).runNode({ parameters: LIST_ACCOUNTS });

		assert.equal(
			result.error?.message,
			'WeChat error 40125 (AppSecret 错误): WeChat rejected the AppID / AppSecret pair',
		);
		assertNoSecrets(result, { 'wrong AppSecret': wrongSecret });
	});

	test('48001 (unverified account) and 65400 (kf feature off) reach the user with the fix', async () => {
		emulator.setAccountVerified(false);
		const unverified = await harness().runNode({ parameters: LIST_ACCOUNTS });
		assert.equal(
			unverified.error?.message,
			'WeChat error 48001 (api 功能未授权): This Official Account is not authorized to use this API (customer service requires a verified account)',
		);

		emulator.setAccountVerified(true);
		emulator.setKfEnabled(false);
		const disabled = await harness().runNode({ parameters: LIST_ACCOUNTS });
		assert.equal(
			disabled.error?.message,
			'WeChat error 65400 (API不可用，即没有开通/升级到新版客服功能): The new customer-service feature is not enabled for this Official Account, or was enabled moments ago',
		);
		assert.match(String(disabled.error?.description), /功能 → 客服/);
	});
});

describe('secrets stay secret', () => {
	test('no output, error or saved error text contains the AppSecret or any access token', async () => {
		const instance = harness({ issuer: 'classic' });
		await instance.runNode({ parameters: LIST_ACCOUNTS });

		const failures = [];
		emulator.injectFault({ path: GET_KF_LIST, kind: 'http', status: 502 });
		failures.push(await instance.runNode({ parameters: LIST_ACCOUNTS }));
		emulator.injectFault({ path: GET_KF_LIST, kind: 'drop' });
		failures.push(await instance.runNode({ parameters: LIST_ACCOUNTS, continueOnFail: true }));
		emulator.injectFault({ path: GET_KF_LIST, kind: 'errcode', errcode: 40014, times: 2 });
		failures.push(await instance.runNode({ parameters: LIST_ACCOUNTS, continueOnFail: true }));
		emulator.injectFault({ path: '/cgi-bin/token', kind: 'http', status: 500 });
		instance.updateCredential({ accessToken: '' });
		resetAccessTokenCacheForTests();
		failures.push(await instance.runNode({ parameters: LIST_ACCOUNTS }));

		assert.equal((failures[0].error as { httpCode?: string } | undefined)?.httpCode, '502');
		assert.equal(failures[1].items.length, 1);
		assert.ok(failures[1].items[0].error, 'continueOnFail yields an error item');
		assert.match(
			String(failures[3].error?.message),
			/^Could not get a WeChat access token from 127\.0\.0\.1:\d+: HTTP 500$/,
		);
		const secrets: Record<string, string> = { AppSecret: emulator.appSecret };
		issuedTokens().forEach((token, index) => (secrets[`access token #${index + 1}`] = token));
		for (const failure of failures) {
			assert.ok(failure.error || failure.items.some((item) => item.error), 'each scenario failed');
			assertNoSecrets({ items: failure.items, error: failure.error }, secrets);
			assertNoSecrets(JSON.parse(JSON.stringify(failure.run.data.resultData)), secrets);
		}
	});
});

describe('central token service', () => {
	test('asks the company token service once, and never WeChat directly', async () => {
		let serviceCalls = 0;
		const tokenService = http.createServer((request, response) => {
			serviceCalls++;
			// The company's service owns the token: it gets it from WeChat itself.
			fetch(`${emulator.baseUrl}/cgi-bin/stable_token`, {
				method: 'POST',
				body: JSON.stringify({
					grant_type: 'client_credential',
					appid: emulator.appId,
					secret: emulator.appSecret,
				}),
			})
				.then(async (answer) => (await answer.json()) as { access_token: string })
				.then(({ access_token }) => {
					response.setHeader('content-type', 'application/json');
					response.end(JSON.stringify({ access_token, expires_in: 7000 }));
				})
				.catch(() => response.writeHead(500).end());
		});
		await new Promise<void>((resolve) => tokenService.listen(0, '127.0.0.1', resolve));
		const { port } = tokenService.address() as AddressInfo;
		try {
			const result = await harness({
				issuer: 'external',
				appSecret: '',
				externalTokenUrl: `http://127.0.0.1:${port}/wechat/token`,
			}).runNode({ parameters: LIST_ACCOUNTS, items: items(20) });

			assert.equal(result.error, undefined);
			assert.equal(result.items.length, 20);
			assert.equal(serviceCalls, 1);
			assert.equal(emulator.tokenCalls().length, 1, 'only the service itself asked WeChat');
		} finally {
			await new Promise((resolve) => tokenService.close(resolve));
		}
	});
});
