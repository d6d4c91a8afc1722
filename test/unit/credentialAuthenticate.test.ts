import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ICredentialDataDecryptedObject, IHttpRequestOptions } from 'n8n-workflow';

import { WeChatOfficialAccountApi } from '../../credentials/WeChatOfficialAccountApi.credentials';
import { readTokenSettings, tokenSettingsFingerprint } from '../../nodes/shared/accessToken/obtain';

/** A credential holding a token that is still valid for the settings it was issued for. */
function credentialWithToken(): ICredentialDataDecryptedObject {
	const credentials: ICredentialDataDecryptedObject = {
		appId: 'wx_authenticate_test',
		appSecret: 'secret_authenticate_test',
		issuer: 'stable',
		baseUrl: 'https://api.weixin.qq.com',
		accessToken: 'TOKEN_STILL_VALID',
		renewAt: Date.now() + 3_600_000,
	};
	credentials.issuedFor = tokenSettingsFingerprint(readTokenSettings(credentials));
	return credentials;
}

test('authenticate adds the token and the credential API host to a request of the node (a path in url)', async () => {
	const options: IHttpRequestOptions = { url: '/cgi-bin/customservice/getkflist', method: 'GET' };
	const result = await new WeChatOfficialAccountApi().authenticate(credentialWithToken(), options);
	assert.deepEqual(result, {
		url: '/cgi-bin/customservice/getkflist',
		method: 'GET',
		qs: { access_token: 'TOKEN_STILL_VALID' },
		baseURL: 'https://api.weixin.qq.com',
	});
});

test("authenticate accepts the request-library options n8n's HTTP Request node passes (uri, no url)", async () => {
	// The HTTP Request node with Authentication = Predefined Credential Type calls n8n's legacy
	// requestWithAuthentication, whose options carry the address in `uri`. This threw a TypeError before.
	const options = {
		uri: 'http://127.0.0.1:9/cgi-bin/message/custom/send',
		method: 'POST',
		qs: { debug: '1' },
		body: { touser: 'oUser', msgtype: 'text', text: { content: 'hi' } },
		json: true,
	} as unknown as IHttpRequestOptions;
	const result = await new WeChatOfficialAccountApi().authenticate(credentialWithToken(), options);
	assert.deepEqual(result, {
		uri: 'http://127.0.0.1:9/cgi-bin/message/custom/send',
		method: 'POST',
		qs: { debug: '1', access_token: 'TOKEN_STILL_VALID' },
		body: { touser: 'oUser', msgtype: 'text', text: { content: 'hi' } },
		json: true,
	});
});

test('authenticate leaves an absolute url to its own host', async () => {
	const options: IHttpRequestOptions = { url: 'https://api2.weixin.qq.com/cgi-bin/getcallbackip', method: 'GET' };
	const result = await new WeChatOfficialAccountApi().authenticate(credentialWithToken(), options);
	assert.equal(result.baseURL, undefined);
	assert.deepEqual(result.qs, { access_token: 'TOKEN_STILL_VALID' });
});
