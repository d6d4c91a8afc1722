import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeEach, describe, test } from 'node:test';

import { explainWeChatError } from '../../nodes/shared/errorCodes';
import type { Emulator } from '../emulator/server';
import { useEmulator } from '../harness/emulatorSuite';
import { EngineHarness, type RunResult } from '../harness/engine';
import { assertNoSecrets } from '../harness/secrets';

/**
 * What an error may carry. WeChat's errmsg, or a proxy's in front of WeChat, can repeat the access token the request
 * carried and the AppSecret in its own words, where no pattern finds them; and a user:password in the credential's
 * base URL or token service URL must not surface wherever a URL or host is shown. Each case checks the message, the
 * description and every string reachable from the error and its JSON.
 */

const GET_KF_LIST = '/cgi-bin/customservice/getkflist';
const LIST_ACCOUNTS = { resource: 'account', operation: 'getAll', returnAll: true };
const PASSWORD = 'Passw0rd-of-the-proxy';
const USER_INFO = `ops:${PASSWORD}`;

let emulator: Emulator;

function harness(overrides: Record<string, unknown> = {}): EngineHarness {
	return new EngineHarness({
		appId: emulator.appId,
		appSecret: emulator.appSecret,
		baseUrl: emulator.baseUrl,
		...overrides,
	});
}

/** The emulator's base URL with a user:password in it. */
function withUserInfo(url: string): string {
	return url.replace('http://', `http://${USER_INFO}@`);
}

/** Every access token the emulator handed out, and every token a request carried. */
function tokensSeen(): string[] {
	const tokens = new Set<string>();
	for (const request of emulator.requests) {
		const issued = (request.response.body as { access_token?: unknown } | null)?.access_token;
		if (typeof issued === 'string') tokens.add(issued);
		if (request.query.access_token) tokens.add(request.query.access_token);
	}
	return [...tokens];
}

function assertNothingLeaks(result: RunResult, secrets: Record<string, string>): void {
	assertNoSecrets({ items: result.items, error: result.error }, secrets);
	assertNoSecrets(JSON.parse(JSON.stringify(result.run.data.resultData)), secrets);
}

function allSecrets(): Record<string, string> {
	const secrets: Record<string, string> = { AppSecret: emulator.appSecret, 'URL user-info': USER_INFO, password: PASSWORD };
	tokensSeen().forEach((token, index) => (secrets[`access token #${index + 1}`] = token));
	return secrets;
}

/** A local HTTP server answering every request with `answer`; closed after `use`. */
async function withServer(answer: (url: string) => string, use: (baseUrl: string) => Promise<void>): Promise<void> {
	const server = http.createServer((request, response) => {
		response.setHeader('content-type', 'application/json');
		response.end(answer(request.url ?? '/'));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	try {
		await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
	} finally {
		await new Promise<void>((resolve) => server.close(() => resolve()));
	}
}

useEmulator((started) => (emulator = started), { errmsgRid: false });
beforeEach(() => {
	emulator.addKfAccount({ kf_account: 'kf2001@gh_service', kf_nick: 'Alice' });
});

describe('an errmsg that echoes the access token or the AppSecret', () => {
	test('a known errcode: the description quotes WeChat with both removed', async () => {
		emulator.injectFault({
			path: GET_KF_LIST,
			kind: 'errcode',
			errcode: 45009,
			errmsg: `quota used up for token {access_token} of secret ${emulator.appSecret}`,
		});
		const result = await harness().runNode({ parameters: LIST_ACCOUNTS });

		assert.equal(result.error?.message, 'WeChat error 45009 (接口调用超过限制): The daily call quota of this API is used up');
		assert.equal(
			result.error?.description,
			`${explainWeChatError(45009).fix} WeChat said: "quota used up for token *** of secret ***"`,
		);
		const sent = emulator.apiCalls(GET_KF_LIST)[0].query.access_token;
		assert.equal((emulator.apiCalls(GET_KF_LIST)[0].response.body as { errmsg: string }).errmsg.includes(sent), true);
		assertNothingLeaks(result, allSecrets());
	});

	test('an unknown errcode: WeChat\'s errmsg becomes the message, with both removed', async () => {
		emulator.injectFault({
			path: GET_KF_LIST,
			kind: 'errcode',
			errcode: 61999,
			errmsg: `proxy refused access_token {access_token} (app secret ${emulator.appSecret})`,
		});
		const result = await harness().runNode({ parameters: LIST_ACCOUNTS, continueOnFail: true });

		const expected = 'WeChat error 61999: WeChat answered with error 61999: proxy refused access_token *** (app secret ***)';
		assert.equal(result.items.length, 1);
		assert.equal(result.items[0].json.error, expected);
		assertNothingLeaks(result, allSecrets());
	});

	test('a token rejected twice: the token of each attempt is removed, the old one and the renewed one', async () => {
		emulator.injectFault({
			path: GET_KF_LIST,
			kind: 'errcode',
			errcode: 40001,
			errmsg: 'invalid credential, access_token is {access_token}',
			times: 2,
		});
		const result = await harness().runNode({ parameters: LIST_ACCOUNTS });

		const calls = emulator.apiCalls(GET_KF_LIST);
		assert.equal(calls.length, 2, 'one retry with a new token');
		assert.notEqual(calls[0].query.access_token, calls[1].query.access_token);
		assert.equal(
			result.error?.message,
			'WeChat error 40001 (获取 access_token 时 AppSecret 错误，或者 access_token 无效): WeChat rejected the credentials: the AppSecret is wrong, or the access token is invalid or not the latest',
		);
		assert.match(String(result.error?.description), /^WeChat rejected a freshly obtained access token as well\./);
		assert.match(String(result.error?.description), /WeChat said: "invalid credential, access_token is \*\*\*"/);
		assertNothingLeaks(result, allSecrets());
	});

	test('a request outside an operation\'s routing (the account list in the editor) removes them too', async () => {
		emulator.injectFault({
			path: GET_KF_LIST,
			kind: 'errcode',
			errcode: 61999,
			errmsg: `proxy: token {access_token}, secret ${emulator.appSecret}`,
		});
		const error = await harness()
			.listSearch('searchKfAccounts')
			.then(
				() => undefined,
				(failure: unknown) => failure,
			);

		assert.equal(
			(error as Error | undefined)?.message,
			'WeChat error 61999: WeChat answered with error 61999: proxy: token ***, secret ***',
		);
		assert.equal(emulator.apiCalls(GET_KF_LIST).length, 1);
		assertNoSecrets(error, allSecrets());
		assertNoSecrets(JSON.parse(JSON.stringify(error)), allSecrets());
	});

	test('the token endpoint echoing the AppSecret it was sent', async () => {
		emulator.injectFault({
			path: '/cgi-bin/token',
			kind: 'errcode',
			errcode: 61999,
			errmsg: 'secret {secret} is not allowed here',
		});
		const result = await harness({ issuer: 'classic' }).runNode({ parameters: LIST_ACCOUNTS });

		assert.equal(emulator.tokenCalls()[0].query.secret, emulator.appSecret);
		assert.equal(result.error?.message, 'WeChat error 61999: WeChat answered with error 61999: secret *** is not allowed here');
		assertNothingLeaks(result, allSecrets());
	});
});

describe('a user:password in the credential\'s URLs', () => {
	test('API base URL: a failed token request names the host, not the user-info', async () => {
		emulator.injectFault({ path: '/cgi-bin/stable_token', kind: 'http', status: 500 });
		const result = await harness({ baseUrl: withUserInfo(emulator.baseUrl) }).runNode({ parameters: LIST_ACCOUNTS });

		const host = emulator.baseUrl.slice('http://'.length);
		assert.equal(result.error?.message, `Could not get a WeChat access token from ${host}: HTTP 500`);
		assertNothingLeaks(result, allSecrets());
	});

	test('API base URL: a proxy echoing the URL in errmsg has the user-info removed', async () => {
		emulator.injectFault({
			path: GET_KF_LIST,
			kind: 'errcode',
			errcode: 61999,
			errmsg: `upstream ${withUserInfo('http://10.0.0.7:8080')}/cgi-bin failed; login ${USER_INFO} refused`,
		});
		const result = await harness({ baseUrl: withUserInfo(emulator.baseUrl) }).runNode({ parameters: LIST_ACCOUNTS });

		assert.equal(
			result.error?.message,
			'WeChat error 61999: WeChat answered with error 61999: upstream http://***@10.0.0.7:8080/cgi-bin failed; login *** refused',
		);
		assertNothingLeaks(result, allSecrets());
	});

	test('token service URL: answers without a token or with an error name the host, not the user-info', async () => {
		await withServer(
			(url) => (url.includes('empty') ? '{}' : JSON.stringify({ errcode: 61999, errmsg: `denied for ${USER_INFO}` })),
			async (serviceUrl) => {
				const host = serviceUrl.slice('http://'.length);
				const empty = await harness({
					issuer: 'external',
					appSecret: '',
					externalTokenUrl: withUserInfo(`${serviceUrl}/empty`),
				}).runNode({ parameters: LIST_ACCOUNTS });
				assert.equal(empty.error?.message, `The token answer from ${host} has no access_token`);
				assertNothingLeaks(empty, allSecrets());

				const refused = await harness({
					issuer: 'external',
					appSecret: '',
					externalTokenUrl: withUserInfo(`${serviceUrl}/refused`),
				}).runNode({ parameters: LIST_ACCOUNTS });
				assert.equal(refused.error?.message, 'WeChat error 61999: WeChat answered with error 61999: denied for ***');
				assertNothingLeaks(refused, allSecrets());
			},
		);
		assert.equal(emulator.requests.length, 0, 'WeChat itself was never asked');
	});

	test('an unusable token service or base URL is refused before any request, without repeating it', async () => {
		for (const [overrides, message] of [
			[
				{ issuer: 'external', appSecret: '', externalTokenUrl: `ftp://${USER_INFO}@token.example.com/t` },
				'The credential\'s token service URL is missing or not an http(s) URL',
			],
			[
				{ issuer: 'external', appSecret: '', externalTokenUrl: `https://${USER_INFO}@token.example.com/`.padEnd(3000, 't') },
				'The credential\'s token service URL is 3,000 characters long; the limit is 2,048 characters',
			],
			[{ baseUrl: `${USER_INFO}@api.weixin.qq.com` }, 'The credential\'s API base URL is missing or not an http(s) URL'],
		] as const) {
			const result = await harness(overrides).runNode({ parameters: LIST_ACCOUNTS });
			assert.equal(result.error?.message, message);
			assertNothingLeaks(result, allSecrets());
		}
		assert.equal(emulator.requests.length, 0);
	});
});
