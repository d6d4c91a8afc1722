import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { WeChatOfficialAccountApi } from '../../credentials/WeChatOfficialAccountApi.credentials';
import type { Emulator } from '../emulator/server';
import { useEmulator } from '../harness/emulatorSuite';
import { testCredential } from '../harness/credentialTest';

let emulator: Emulator;

function credential(overrides: Record<string, unknown> = {}) {
	return { appId: emulator.appId, appSecret: emulator.appSecret, baseUrl: emulator.baseUrl, ...overrides };
}

useEmulator((started) => (emulator = started));

describe('the credential', () => {
	test('declares every property of the contract, secrets as password fields', () => {
		const credential = new WeChatOfficialAccountApi();
		assert.equal(credential.name, 'weChatOfficialAccountApi');
		assert.equal(credential.displayName, 'WeChat Official Account API');
		const byName = Object.fromEntries(credential.properties.map((property) => [property.name, property]));
		for (const name of [
			'appId',
			'appSecret',
			'issuer',
			'externalTokenUrl',
			'baseUrl',
			'token',
			'encodingAESKey',
			'previousEncodingAESKey',
		]) {
			assert.ok(byName[name], `${name} is declared`);
		}
		assert.equal(byName.appId.required, true);
		assert.deepEqual(
			byName.issuer.options?.map((option) => (option as { value: string }).value),
			['stable', 'classic', 'external'],
		);
		assert.equal(byName.issuer.default, 'stable');
		assert.deepEqual(byName.appSecret.displayOptions, { show: { issuer: ['stable', 'classic'] } });
		assert.deepEqual(byName.externalTokenUrl.displayOptions, { show: { issuer: ['external'] } });
		assert.equal(byName.baseUrl.default, 'https://api.weixin.qq.com');
		for (const secret of ['appSecret', 'token', 'encodingAESKey', 'previousEncodingAESKey', 'accessToken']) {
			assert.equal(byName[secret].typeOptions?.password, true, `${secret} is a password field`);
		}
		assert.equal(byName.accessToken.type, 'hidden');
		assert.equal(byName.accessToken.typeOptions?.expirable, true);
	});
});

describe('the credential test (the Test button)', () => {
	test('a good credential gets a token and lists the kf accounts', async () => {
		const result = await testCredential(credential());
		assert.deepEqual(result, { status: 'OK', message: 'Connection successful!' });
		assert.deepEqual(
			emulator.requests.map((request) => request.path),
			['/cgi-bin/stable_token', '/cgi-bin/customservice/getkflist'],
		);
	});

	test('a wrong AppSecret fails with WeChat\'s reason', async () => {
		const result = await testCredential(credential({ appSecret: 'not-the-secret-1234567' }));
		assert.deepEqual(result, {
			status: 'Error',
			message: 'WeChat error 40125 (AppSecret 错误): WeChat rejected the AppID / AppSecret pair',
		});
	});

	test('a missing IP whitelist entry names the IP WeChat saw', async () => {
		emulator.setIpWhitelist({ enabled: true, callerIp: '203.0.113.99' });
		const result = await testCredential(credential());
		assert.equal(result.status, 'Error');
		assert.equal(
			result.message,
			"WeChat error 40164 (调用接口的 IP 地址不在白名单中): WeChat saw this n8n call from IP 203.0.113.99, which is not in the Official Account's API IP whitelist",
		);
	});

	test('an unverified account fails with 48001', async () => {
		emulator.setAccountVerified(false);
		assert.deepEqual(await testCredential(credential()), {
			status: 'Error',
			message:
				'WeChat error 48001 (api 功能未授权): This Official Account is not authorized to use this API (customer service requires a verified account)',
		});
	});

	test('a disabled customer-service feature fails with 65400', async () => {
		emulator.setKfEnabled(false);
		assert.deepEqual(await testCredential(credential()), {
			status: 'Error',
			message:
				'WeChat error 65400 (API不可用，即没有开通/升级到新版客服功能): The new customer-service feature is not enabled for this Official Account, or was enabled moments ago',
		});
	});
});
