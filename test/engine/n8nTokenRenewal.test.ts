import '../harness/env';

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type {
	ICredentialDataDecryptedObject,
	IHttpRequestOptions,
	INode,
	IWorkflowExecuteAdditionalData,
	Workflow,
} from 'n8n-workflow';
// The function itself, from the installed n8n-core: not the engine harness's credential store, not a copy.
import { httpRequestWithAuthentication } from 'n8n-core/dist/execution-engine/node-execution-context/utils/request-helpers/authentication';

import { WeChatOfficialAccountApi } from '../../credentials/WeChatOfficialAccountApi.credentials';
import { markAccessTokenRejected, resetAccessTokenCacheForTests } from '../../nodes/shared/accessToken/obtain';
import { tokenSentWith } from '../../nodes/shared/accessToken/use';
import { startEmulator } from '../emulator/server';
import { engineServicesReady } from '../harness/services';

/**
 * Canary for the two things the token layer relies on n8n to do (nodes/shared/accessToken/use.ts). If an n8n upgrade
 * changes either, this fails — not a user's workflow, silently, with expired tokens:
 * 1. an error shaped like an HTTP 401 thrown from the credential's `authenticate` makes n8n-core's
 *    `httpRequestWithAuthentication` run `preAuthentication` with `credentialsExpired`, and send the request again;
 * 2. `authenticate` writes into the very request-options object the caller passed, so the caller can read the token
 *    the request carried.
 * The credential store is reduced to what n8n's CredentialsHelper does with a function `authenticate` and a
 * `preAuthentication`: call them.
 */
test('n8n-core renews the token and resends when authenticate throws a 401, and the caller sees the token sent', async () => {
	await engineServicesReady();
	resetAccessTokenCacheForTests();
	const emulator = await startEmulator();
	try {
		const credentialType = new WeChatOfficialAccountApi();
		const credentials: ICredentialDataDecryptedObject = {
			appId: emulator.appId,
			appSecret: emulator.appSecret,
			issuer: 'stable',
			baseUrl: emulator.baseUrl,
			accessToken: 'a-token-wechat-rejected',
			renewAt: Date.now() + 3_600_000,
			issuedFor: '',
		};
		// A token this process saw WeChat reject: authenticate must refuse it and ask n8n for a new one.
		markAccessTokenRejected('a-token-wechat-rejected');

		const preAuthenticationCalls: boolean[] = [];
		const credentialsHelper = {
			getParentTypes: () => [],
			authenticate: async (data: ICredentialDataDecryptedObject, _type: string, options: IHttpRequestOptions) =>
				await credentialType.authenticate(data, options),
			preAuthentication: async (
				helpers: { helpers: unknown },
				data: ICredentialDataDecryptedObject,
				_type: string,
				_node: INode,
				credentialsExpired: boolean,
			) => {
				preAuthenticationCalls.push(credentialsExpired);
				if (!credentialsExpired) return undefined; // the token field is not empty
				return await credentialType.preAuthentication.call(helpers as never, data);
			},
		};
		const node = { name: 'WeChat', type: 'test', typeVersion: 1, parameters: {} } as unknown as INode;
		const context = {
			getCredentials: async () => credentials,
			getNode: () => node,
			helpers: {
				httpRequest: async (options: IHttpRequestOptions) => {
					const url = new URL(options.url, options.baseURL);
					const response = await fetch(url, {
						method: options.method,
						headers: { 'content-type': 'application/json' },
						body: options.body === undefined ? undefined : JSON.stringify(options.body),
					});
					return await response.json();
				},
			},
			logger: { warn: () => undefined },
		};
		const requestOptions: IHttpRequestOptions = {
			url: '/cgi-bin/customservice/getkflist',
			method: 'GET',
			json: true,
		};

		const answer = (await httpRequestWithAuthentication.call(
			context as never,
			'weChatOfficialAccountApi',
			requestOptions,
			{} as Workflow,
			node,
			{ credentialsHelper } as unknown as IWorkflowExecuteAdditionalData,
		)) as { errcode?: number; kf_list?: unknown[] };

		assert.deepEqual(preAuthenticationCalls, [false, true], 'preAuthentication ran again with credentialsExpired');
		assert.equal(answer.errcode ?? 0, 0);
		assert.ok(Array.isArray(answer.kf_list));
		const [call] = emulator.apiCalls('/cgi-bin/customservice/getkflist');
		assert.equal(emulator.apiCalls('/cgi-bin/customservice/getkflist').length, 1, 'sent once, after the renewal');
		const newToken = (emulator.tokenCalls()[0].response.body as { access_token: string }).access_token;
		assert.equal(call.query.access_token, newToken, 'sent with the new token');
		assert.equal(tokenSentWith(requestOptions), newToken, 'the caller reads the token the request carried');
	} finally {
		await emulator.close();
		resetAccessTokenCacheForTests();
	}
});
