import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, test } from 'node:test';

import type { Emulator } from '../emulator/server';
import { startEmulator } from '../emulator/server';
import { useEmulator } from '../harness/emulatorSuite';
import { EngineHarness } from '../harness/engine';

/**
 * How hard the node presses WeChat (nodes/WeChatCustomerService/transport/requestPolicy.ts): requests in flight are
 * bounded, and only failures that cannot have been carried out are retried — never a send WeChat may have delivered,
 * unless the user opts in. Every retry leaves a line in n8n's log.
 */

const SEND = '/cgi-bin/message/custom/send';
const KF_LIST = '/cgi-bin/customservice/getkflist';
let emulator: Emulator;
useEmulator((started) => (emulator = started));

// n8n-core takes its logger from its own copy of the DI container (see test/harness/services.ts).
const requireFromCore = createRequire(require.resolve('n8n-core'));
const { Container } = requireFromCore('@n8n/di') as typeof import('@n8n/di');
const { Logger } = requireFromCore('@n8n/backend-common') as { Logger: new () => { warn: (m: string) => void } };
let warnings: string[] = [];
let restoreWarn: () => void = () => undefined;
beforeEach(() => {
	warnings = [];
	const logger = Container.get(Logger);
	const original = logger.warn;
	logger.warn = (message: string) => void warnings.push(message);
	restoreWarn = () => (logger.warn = original);
});
afterEach(() => restoreWarn());

function harness(overrides: Record<string, unknown> = {}) {
	return new EngineHarness({
		appId: emulator.appId,
		appSecret: emulator.appSecret,
		baseUrl: emulator.baseUrl,
		...overrides,
	});
}

function followers(count: number): string[] {
	return Array.from({ length: count }, (_, index) => {
		const openid = `oPolicyFollower${String(index).padStart(13, '0')}`;
		emulator.addFollower(openid);
		emulator.userMessage(openid);
		return openid;
	});
}

const sendText = (requestOptions: Record<string, number | boolean> = {}) => ({
	resource: 'message',
	operation: 'send',
	openId: '={{ $json.openid }}',
	msgType: 'text',
	content: 'Hello',
	requestOptions,
});

describe('requests in flight', () => {
	test('at most Max Requests in Flight reach WeChat at once; every item is still sent once', async () => {
		const openids = followers(24);
		emulator.injectFault({ path: SEND, kind: 'slow', delayMs: 150, times: 24 });
		const result = await harness().runNode({
			parameters: sendText({ maxInFlight: 4 }),
			items: openids.map((openid) => ({ json: { openid } })),
		});
		assert.equal(result.error, undefined);
		assert.equal(result.items.filter((item) => item.json.sent === true).length, 24);
		assert.deepEqual(
			emulator.apiCalls(SEND).map((call) => (call.json as { touser: string }).touser).sort(),
			[...openids].sort(),
		);
		assert.equal(emulator.peakInFlight, 4);
	});

	test('the default bound is 20', async () => {
		const openids = followers(30);
		emulator.injectFault({ path: SEND, kind: 'slow', delayMs: 150, times: 30 });
		await harness().runNode({ parameters: sendText(), items: openids.map((openid) => ({ json: { openid } })) });
		assert.equal(emulator.peakInFlight, 20);
	});
});

describe('retries', () => {
	test('45011 (frequency limit): retried with backoff, sent once, and the retry is logged', async () => {
		const [openid] = followers(1);
		emulator.injectFault({ path: SEND, kind: 'errcode', errcode: 45011 });
		const result = await harness().runNode({ parameters: sendText(), items: [{ json: { openid } }] });
		assert.deepEqual(result.items.map((item) => item.json), [{ touser: openid, msgtype: 'text', sent: true }]);
		assert.deepEqual(
			emulator.apiCalls(SEND).map((call) => (call.response.body as { errcode: number }).errcode),
			[45011, 0],
		);
		assert.deepEqual(warnings, [`WeChat ${SEND}: frequency limit (45011); retry 1 of 3 (item 0)`]);
	});

	test('45011 more often than Retries allows: the item fails with WeChat’s explanation after 1 + Retries attempts', async () => {
		const [openid] = followers(1);
		emulator.injectFault({ path: SEND, kind: 'errcode', errcode: 45011, times: 5 });
		const result = await harness().runNode({ parameters: sendText({ maxRetries: 1 }), items: [{ json: { openid } }] });
		assert.match(String(result.error?.message), /^WeChat error 45011/);
		assert.equal(emulator.apiCalls(SEND).length, 2);
		assert.equal(warnings.length, 1);
	});

	test('-1 (system busy) on a send is not retried: WeChat may have delivered it', async () => {
		const [openid] = followers(1);
		emulator.injectFault({ path: SEND, kind: 'errcode', errcode: -1 });
		const result = await harness().runNode({ parameters: sendText(), items: [{ json: { openid } }] });
		assert.match(String(result.error?.message), /^WeChat error -1 \(系统繁忙\)/);
		assert.equal(emulator.apiCalls(SEND).length, 1);
		assert.deepEqual(warnings, []);
	});

	test('sends answered -1 fail only their own items, in input order, so exactly those can be resent', async () => {
		const openids = followers(4);
		// The 2nd and 4th sends are answered -1: WeChat delivered the 2nd (processed) and not the 4th.
		emulator.injectFault({ path: SEND, kind: 'errcode', errcode: -1, every: 4, offset: 1, processed: true });
		emulator.injectFault({ path: SEND, kind: 'errcode', errcode: -1, every: 4, offset: 3 });
		const result = await harness().runNode({
			parameters: sendText({ maxInFlight: 1 }),
			items: openids.map((openid) => ({ json: { openid } })),
			continueOnFail: true,
		});
		const message = 'WeChat error -1 (系统繁忙): WeChat was busy; the request may or may not have been carried out';
		assert.deepEqual(
			result.items.map((item) => [item.json, item.pairedItem]),
			[
				[{ touser: openids[0], msgtype: 'text', sent: true }, { item: 0 }],
				[{ error: message }, { item: 1 }],
				[{ touser: openids[2], msgtype: 'text', sent: true }, { item: 2 }],
				[{ error: message }, { item: 3 }],
			],
		);
		assert.match(String(result.items[1].error?.description), /check before repeating it/);
		assert.equal(emulator.apiCalls(SEND).length, 4);
		assert.deepEqual(
			emulator.state.sentMessages.map((sent) => sent.touser),
			[openids[0], openids[1], openids[2]],
		);
		assert.deepEqual(warnings, []);
	});

	test('n8n 2.41 puts a declarative node’s failed items on the error output without their input fields', async () => {
		// Why the README recommends Continue (regular output) for bulk sends: n8n's routing engine gives a failed item
		// no pairedItem, so "Continue (using error output)" cannot tell which recipient it was.
		const [openid] = followers(1);
		emulator.injectFault({ path: SEND, kind: 'errcode', errcode: -1 });
		const result = await harness().runNode({
			parameters: sendText(),
			items: [{ json: { openid } }],
			errorOutput: true,
		});
		assert.deepEqual(result.items, []);
		assert.deepEqual(
			result.errorItems.map((item) => item.json),
			[{ error: 'WeChat error -1 (系统繁忙): WeChat was busy; the request may or may not have been carried out' }],
		);
	});

	test('-1 on a send is retried when the user accepts a possible repeat', async () => {
		const [openid] = followers(1);
		emulator.injectFault({ path: SEND, kind: 'errcode', errcode: -1 });
		const result = await harness().runNode({
			parameters: sendText({ retryBusySends: true }),
			items: [{ json: { openid } }],
		});
		assert.equal(result.items[0]?.json.sent, true);
		assert.equal(emulator.apiCalls(SEND).length, 2);
		assert.deepEqual(warnings, [`WeChat ${SEND}: system busy (-1); retry 1 of 3 (item 0)`]);
	});

	test('-1 on a read (Account → Get Many) is retried', async () => {
		emulator.injectFault({ path: KF_LIST, kind: 'errcode', errcode: -1 });
		const result = await harness().runNode({
			parameters: { resource: 'account', operation: 'getAll', returnAll: true },
		});
		assert.equal(result.error, undefined);
		assert.equal(emulator.apiCalls(KF_LIST).length, 2);
		assert.deepEqual(warnings, [`WeChat ${KF_LIST}: system busy (-1); retry 1 of 3 (item 0)`]);
	});

	test('Retries 0: nothing is retried', async () => {
		emulator.injectFault({ path: KF_LIST, kind: 'errcode', errcode: 45011 });
		const result = await harness().runNode({
			parameters: { resource: 'account', operation: 'getAll', returnAll: true, requestOptions: { maxRetries: 0 } },
		});
		assert.match(String(result.error?.message), /^WeChat error 45011/);
		assert.equal(emulator.apiCalls(KF_LIST).length, 1);
	});

	test('a connection that could not be opened goes to the backup host named in the credential', async () => {
		const closed = await startEmulator();
		const closedUrl = closed.baseUrl;
		await closed.close();
		const [openid] = followers(1);
		const result = await harness({ baseUrl: closedUrl, backupBaseUrl: emulator.baseUrl }).runNode({
			parameters: sendText(),
			items: [{ json: { openid } }],
		});
		assert.equal(result.items[0]?.json.sent, true, String(result.error?.message));
		assert.equal(emulator.tokenCalls().length, 1, 'the token came from the backup host');
		assert.equal(emulator.apiCalls(SEND).length, 1);
		assert.deepEqual(warnings, [
			`WeChat ${SEND}: connection failed before sending; retry 1 of 3 on the backup host (item 0)`,
		]);
	});
});

