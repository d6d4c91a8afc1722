/**
 * Options → Same Credential for Every Item, through n8n's real engine: the credential is read once per node run
 * instead of once per item, and everything else stays as it was — the token renewal after a rejection, the output,
 * and nothing secret anywhere. Off (the default), n8n reads it for every request, which a credential with fields
 * mapped from the item needs (scripts/n8n/e2e proves that in the real n8n).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';

import type { INodeParameters } from 'n8n-workflow';

import type { Emulator } from '../emulator/server';
import { InMemoryCredentialsHelper } from '../harness/credentialsHelper';
import { useEmulator } from '../harness/emulatorSuite';
import { EngineHarness } from '../harness/engine';
import { assertNoSecrets } from '../harness/secrets';

const SEND = '/cgi-bin/message/custom/send';
let emulator: Emulator;

useEmulator((started) => (emulator = started));

const openids = Array.from({ length: 12 }, (_, index) => `o_same_${index}`);
let reads = 0;
const prototype = InMemoryCredentialsHelper.prototype as unknown as {
	getDecrypted: (...args: unknown[]) => Promise<unknown>;
};
const original = prototype.getDecrypted;
beforeEach(() => {
	for (const openid of openids) emulator.addFollower(openid);
	reads = 0;
	prototype.getDecrypted = async function (this: unknown, ...args: unknown[]) {
		reads++;
		return await original.apply(this, args);
	};
});
afterEach(() => {
	prototype.getDecrypted = original;
});

function harness(): EngineHarness {
	return new EngineHarness({ appId: emulator.appId, appSecret: emulator.appSecret, baseUrl: emulator.baseUrl });
}

function send(requestOptions: INodeParameters): INodeParameters {
	return {
		resource: 'message',
		operation: 'send',
		openId: '={{ $json.openid }}',
		msgType: 'text',
		content: 'Notice',
		requestOptions,
	};
}

describe('Options → Same Credential for Every Item', () => {
	test('on: one credential read for a run of 12 sends instead of 12; the same output and the same requests', async () => {
		const instance = harness();
		const items = openids.map((openid) => ({ json: { openid } }));

		const shared = await instance.runNode({ parameters: send({ sameCredentialForEveryItem: true }), items });
		const readsShared = reads;
		const sharedCalls = emulator.apiCalls(SEND).map((call) => call.json);
		emulator.clearLog();
		reads = 0;
		const perItem = await instance.runNode({ parameters: send({}), items });
		const readsPerItem = reads;

		assert.equal(shared.error, undefined);
		assert.deepEqual(shared.items.map((item) => item.json), perItem.items.map((item) => item.json));
		assert.deepEqual(sharedCalls, emulator.apiCalls(SEND).map((call) => call.json));
		assert.deepEqual(
			shared.items.map((item) => item.json.touser),
			openids,
		);
		// n8n's engine reads the credential once per run by itself; then one read for the run, or one per request.
		assert.equal(readsShared, 1 + 1);
		assert.equal(readsPerItem, 1 + openids.length);
		assertNoSecrets(shared, { appSecret: emulator.appSecret });
	});

	test('on: a token revoked between runs is renewed once, every item is retried once with the new token', async () => {
		const instance = harness();
		const items = openids.map((openid) => ({ json: { openid } }));
		await instance.runNode({ parameters: send({ sameCredentialForEveryItem: true }), items: items.slice(0, 1) });
		emulator.revokeCurrentToken();
		emulator.clearLog();

		const result = await instance.runNode({ parameters: send({ sameCredentialForEveryItem: true }), items });

		assert.equal(result.error, undefined);
		assert.equal(result.items.length, openids.length);
		assert.ok(result.items.every((item) => item.json.sent === true));
		assert.equal(emulator.tokenCalls().length, 1, 'exactly one refresh');
		const newToken = (emulator.tokenCalls()[0].response.body as { access_token: string }).access_token;
		const calls = emulator.apiCalls(SEND);
		assert.equal(calls.filter((call) => call.query.access_token === newToken).length, openids.length);
		assert.equal(calls.length, 2 * openids.length, 'each item: the rejected try and one retry');
		assert.equal(instance.storedCredential().accessToken, newToken, 'the renewed token is saved as before');
		assertNoSecrets(result, { appSecret: emulator.appSecret, accessToken: newToken });
	});
});
