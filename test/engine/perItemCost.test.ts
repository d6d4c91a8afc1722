import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { Emulator } from '../emulator/server';
import { useEmulator } from '../harness/emulatorSuite';
import { EngineHarness } from '../harness/engine';
import { countExpressionEvaluations } from '../harness/expressionSpy';

/**
 * What a bulk send costs per item in expression evaluations, counted through n8n's real declarative engine. In the
 * real n8n an evaluation is the most expensive step of an item (an isolated sandbox call), so every one the node adds
 * shows in a 10,000-item send. n8n's engine evaluates each set parameter twice per item whatever the node does (its
 * property walk and `resolveBaseUrl`); the node's own share must be one read per parameter.
 */

let emulator: Emulator;
useEmulator((started) => (emulator = started));

const ITEMS = 10;
const evaluations = countExpressionEvaluations();

function followers(): Array<{ json: { openid: string } }> {
	return Array.from({ length: ITEMS }, (_, index) => {
		const openid = `oCostFollower${String(index).padStart(15, '0')}`;
		emulator.addFollower(openid);
		emulator.userMessage(openid);
		return { json: { openid } };
	});
}

/** Sends to ITEMS new followers; returns their OpenIDs in item order. */
async function send(parameters: Record<string, string>): Promise<string[]> {
	const items = followers();
	const harness = new EngineHarness({ appId: emulator.appId, appSecret: emulator.appSecret, baseUrl: emulator.baseUrl });
	const result = await harness.runNode({
		parameters: { resource: 'message', operation: 'send', msgType: 'text', content: 'Hello', ...parameters },
		items,
	});
	assert.equal(result.items.filter((item) => item.json.sent === true).length, ITEMS, String(result.error?.message));
	return items.map((item) => item.json.openid);
}

describe('expression evaluations per item of Message → Send', () => {
	test('User OpenID {{ $json.openid }}: two per item, both by n8n’s engine; the node reads the field itself', async () => {
		const openids = await send({ openId: '={{ $json.openid }}' });
		assert.equal(evaluations.list.length, 2 * ITEMS, evaluations.list.slice(0, 6).join(' | '));
		assert.ok(evaluations.list.every((value) => value === '={{ $json.openid }}'));
		assert.deepEqual(
			emulator.apiCalls('/cgi-bin/message/custom/send').map((call) => (call.json as { touser: string }).touser).sort(),
			[...openids].sort(),
		);
	});

	test('User OpenID with any other expression: three per item, the node’s read evaluated by n8n', async () => {
		await send({ openId: '={{ $json.openid.trim() }}' });
		assert.equal(evaluations.list.length, 3 * ITEMS);
	});

	test('{{ $json.openid }} where the field is not a string: n8n evaluates it, and the node says what is wrong', async () => {
		const harness = new EngineHarness({ appId: emulator.appId, appSecret: emulator.appSecret, baseUrl: emulator.baseUrl });
		const result = await harness.runNode({
			parameters: { resource: 'message', operation: 'send', msgType: 'text', content: 'Hello', openId: '={{ $json.openid }}' },
			items: [{ json: { FromUserName: 'oSomeone' } }],
		});
		assert.equal(result.error?.message, 'OpenID is empty');
		assert.equal(evaluations.list.length, 3);
		assert.equal(emulator.apiCalls('/cgi-bin/message/custom/send').length, 0);
	});

	test('Recipient = Input Item Field: none at all', async () => {
		await send({ openIdSource: 'inputField', openIdInputField: 'openid' });
		assert.deepEqual(evaluations.list, []);
		assert.equal(emulator.apiCalls('/cgi-bin/message/custom/send').length, ITEMS);
	});

	test('a mapped text costs three, and nothing else is evaluated', async () => {
		await send({ openIdSource: 'inputField', content: '=Hello {{ $json.openid }}' });
		assert.equal(evaluations.list.length, 3 * ITEMS);
		assert.deepEqual(
			emulator.apiCalls('/cgi-bin/message/custom/send').map((call) => (call.json as { text: { content: string } }).text.content)[0],
			'Hello oCostFollower000000000000000',
		);
	});
});

test('Recipient = Input Item Field: a missing field fails the item with what to set, before any request', async () => {
	const harness = new EngineHarness({ appId: emulator.appId, appSecret: emulator.appSecret, baseUrl: emulator.baseUrl });
	const result = await harness.runNode({
		parameters: {
			resource: 'message',
			operation: 'send',
			msgType: 'text',
			content: 'Hello',
			openIdSource: 'inputField',
			openIdInputField: 'FromUserName',
		},
		items: [{ json: { openid: 'oSomeone' } }],
	});
	assert.equal(result.error?.message, 'The input item has no OpenID in its field "FromUserName"');
	assert.equal(emulator.apiCalls('/cgi-bin/message/custom/send').length, 0);
});
