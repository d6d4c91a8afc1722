import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import type { IDataObject } from 'n8n-workflow';

import { clearDeduplicationStore, type PushMemory } from '../../nodes/WeChatCustomerServiceTrigger/helpers/deduplicate';
import {
	processRecentlyShared,
	RecentlyShared,
	SHARED_MAX_CHARS,
	SHARED_MAX_ENTRIES,
	sharedPushMemory,
} from '../../nodes/WeChatCustomerServiceTrigger/helpers/sharedPushMemory';
import { decryptReply } from '../emulator/pushSender';
import { message, OPENID, pushCall } from './fixtures';
import { AES_KEY, APP_ID, callWebhook, TOKEN } from './webhookContext';

/**
 * The push memory shared by n8n processes through the workflow's static data. "Another process" is this one with its
 * own memory cleared; "n8n saved the static data" is a JSON round trip of the object the trigger was given, which is
 * what n8n stores in the database and loads for the next request.
 */

/** Another n8n process: nothing in its own memory, nothing it wrote lately. */
function freshProcess(): void {
	clearDeduplicationStore();
	processRecentlyShared.clear();
}

beforeEach(() => freshProcess());

const entryLines = (text: string): string[] => text.split('\n').slice(1, -1);
const saved = (staticData: IDataObject): IDataObject => JSON.parse(JSON.stringify(staticData)) as IDataObject;
const shareOn = { options: { sharePushMemory: true } };
const transfer = { reply: 'transferToCustomerService', kfAccount: 'agent1@test', ...shareOn };

describe('a WeChat retry that reaches another n8n process', () => {
	test('gets the identical encrypted transfer reply and starts no second execution', async () => {
		const first = pushCall(message('text'), { mode: 'safe' }, { parameters: transfer, staticData: {} });
		const onA = await callWebhook(first);
		assert.ok(onA.item, 'the first delivery starts an execution');
		const database = saved(first.staticData!);

		freshProcess(); // process B has never seen the push
		const onB = await callWebhook({ ...first, staticData: database });
		assert.equal(onB.item, undefined, 'a second execution was started on process B');
		assert.equal(onB.response.status, 200);
		assert.equal(onB.response.contentType, 'text/xml');
		assert.equal(onB.response.body, onA.response.body, 'the answers differ');
		const reply = decryptReply(String(onB.response.body), { token: TOKEN, encodingAESKey: AES_KEY, appId: APP_ID });
		assert.equal(reply.signatureValid, true);
		assert.match(reply.plaintext, /transfer_customer_service/);
	});

	test('a retry re-signed by WeChat (new timestamp and nonce, same MsgId) is recognised by the push identity', async () => {
		const fields = message('text');
		const first = pushCall(
			fields,
			{ mode: 'safe', timestamp: String(Math.floor(Date.now() / 1000)), nonce: '111' },
			{ parameters: shareOn },
		);
		first.staticData = {};
		assert.ok((await callWebhook(first)).item);
		freshProcess();
		const retry = pushCall(
			fields,
			{ mode: 'safe', nonce: '222' },
			{ staticData: saved(first.staticData), parameters: shareOn },
		);
		const onB = await callWebhook(retry);
		assert.equal(onB.item, undefined);
		assert.equal(onB.response.body, 'success');
	});

	test('the captured request with another body under its timestamp and nonce is refused on another process', async () => {
		const timestamp = String(Math.floor(Date.now() / 1000));
		const first = pushCall(
			message('text'),
			{ mode: 'plaintext', timestamp, nonce: '333' },
			{ staticData: {}, parameters: shareOn },
		);
		assert.ok((await callWebhook(first)).item);
		freshProcess();
		const forged = pushCall(message('text'), { mode: 'plaintext', timestamp, nonce: '333' });
		const onB = await callWebhook({ ...forged, staticData: saved(first.staticData!), parameters: shareOn });
		assert.equal(onB.item, undefined);
		assert.equal(onB.response.status, 401);
		assert.match(String(onB.response.body), /timestamp and nonce already used/);
	});

	test('the trigger answers before n8n creates the execution, so n8n saves the copy before it queues the execution', async () => {
		const call = pushCall(message('text'), { mode: 'safe' }, { parameters: shareOn, staticData: {} });
		const result = await callWebhook(call);
		assert.equal(result.result.noWebhookResponse, true, 'n8n would answer after creating the execution');
		assert.equal(result.result.workflowData?.[0]?.length, 1);
		assert.equal(result.response.sends, 1);
		assert.equal(result.response.body, 'success');
		assert.equal(entryLines(String(call.staticData!.pushMemory)).length, 2);
	});

	test('forget: an entry is dropped from the process, the copy and the lines written again with later saves', () => {
		const staticData: IDataObject = {};
		const memory = sharedPushMemory(staticData, 'w/n');
		const success = { status: 200, contentType: 'text/plain', body: 'success' };
		const key = (name: string) => `${name}${'x'.repeat(40)}`;
		memory.remember([{ key: key('a') }, { key: key('b') }], success, Date.now() + 60_000, Date.now(), 1 << 20);
		memory.forget([key('a')]);
		assert.equal(memory.recall(key('a'), Date.now()), undefined);
		assert.ok(memory.recall(key('b'), Date.now()));
		assert.equal(entryLines(String(staticData.pushMemory)).length, 1);
		// The next save of this process (an empty copy, as after a save that lost the race) writes back only b.
		const next: IDataObject = {};
		sharedPushMemory(next, 'w/n').remember([{ key: key('c') }], success, Date.now() + 60_000, Date.now(), 1 << 20);
		assert.deepEqual(
			entryLines(String(next.pushMemory)).map((line) => line.slice(0, 1)),
			['b', 'c'],
		);
	});

	test('the limit: two deliveries read the static data before either was saved → both run', async () => {
		const fields = message('text');
		const onA = await callWebhook(
			pushCall(fields, { mode: 'safe', nonce: '444' }, { staticData: {}, parameters: shareOn }),
		);
		freshProcess();
		const onB = await callWebhook(
			pushCall(fields, { mode: 'safe', nonce: '555' }, { staticData: {}, parameters: shareOn }),
		);
		assert.ok(onA.item && onB.item, 'documented in README: not atomic between two requests at the same instant');
	});

	test('off by default: nothing is written to the static data, and a retry on another process runs again', async () => {
		const first = pushCall(message('text'), { mode: 'safe' }, { staticData: {} });
		assert.ok((await callWebhook(first)).item);
		assert.deepEqual(first.staticData, {});
		freshProcess();
		assert.ok((await callWebhook({ ...first, staticData: saved(first.staticData!) })).item);
	});

	test('a refused request writes nothing, so n8n saves nothing', async () => {
		const staticData: IDataObject = {};
		const call = pushCall(message('text'), { mode: 'safe' }, { staticData, parameters: shareOn });
		const result = await callWebhook({ ...call, query: { ...call.query, msg_signature: '0'.repeat(40) } });
		assert.equal(result.response.status, 401);
		assert.deepEqual(staticData, {});
	});

	test('what is stored holds no OpenID, MsgId, content or secret: digests only', async () => {
		const fields = message('text');
		const call = pushCall(fields, { mode: 'plaintext' }, { staticData: {}, parameters: shareOn });
		await callWebhook(call);
		const text = String(call.staticData!.pushMemory);
		for (const clear of [OPENID, fields.MsgId, fields.Content, TOKEN, AES_KEY, call.query.nonce as string]) {
			assert.ok(!text.includes(String(clear)), `${String(clear).slice(0, 12)}… stored in clear`);
		}
		const lines = entryLines(text);
		assert.equal(lines.length, 2, 'one entry for the request, one for the push identity');
		for (const line of lines) assert.match(line, /^[A-Za-z0-9+/]{24} [0-9a-z]+ ([A-Za-z0-9+/]{43}=|-)$/);
	});
});

describe('the shared copy on its own', () => {
	const none: PushMemory = { recall: () => undefined, remember: () => true, forget: () => {} };
	const shared = (staticData: IDataObject, recent = new RecentlyShared(), scope = 'w/n') =>
		sharedPushMemory(staticData, scope, none, recent);
	const success = { status: 200, contentType: 'text/plain', body: 'success' };

	test(`bounded: at most ${SHARED_MAX_ENTRIES} entries; the oldest go`, () => {
		let staticData: IDataObject = {};
		for (let i = 0; i < SHARED_MAX_ENTRIES + 500; i++) {
			shared(staticData).remember([{ key: `key-${String(i).padStart(20, '0')}` }], success, 1e6 + i, 0, 0);
			staticData = saved(staticData);
		}
		const memory = shared(staticData);
		const text = String(staticData.pushMemory);
		assert.equal(entryLines(text).length, SHARED_MAX_ENTRIES);
		assert.equal(memory.recall(`key-${String(499).padStart(20, '0')}`, 1), undefined);
		assert.ok(memory.recall(`key-${String(500).padStart(20, '0')}`, 1));
		assert.ok(memory.recall(`key-${String(SHARED_MAX_ENTRIES + 499).padStart(20, '0')}`, 1));
	});

	test('bounded in characters, also with large replies', () => {
		let staticData: IDataObject = {};
		const large = { status: 200, contentType: 'text/xml', body: 'x'.repeat(2000) };
		for (let i = 0; i < 300; i++) {
			shared(staticData).remember([{ key: `k${i}` }], large, 1e6 + i, 0, 0);
			staticData = saved(staticData);
		}
		const text = String(staticData.pushMemory);
		assert.ok(text.length <= SHARED_MAX_CHARS + 64, `${text.length} characters`);
		assert.ok(text.length > SHARED_MAX_CHARS - 3000, 'filled up to the bound');
		assert.deepEqual(shared(staticData).recall('k299', 1)?.reply, large);
	});

	test('expired entries are neither recalled nor kept (by clock values, no timers)', () => {
		const staticData: IDataObject = {};
		shared(staticData).remember([{ key: 'old', contentDigest: 'd' }], success, 2000, 1000, 0);
		assert.deepEqual(shared(saved(staticData)).recall('old', 1999), {
			reply: success,
			contentDigest: 'd',
		});
		assert.equal(shared(saved(staticData)).recall('old', 2000), undefined);
		const later = saved(staticData);
		shared(later).remember([{ key: 'new' }], success, 9000, 3000, 0);
		assert.equal(entryLines(String(later.pushMemory)).length, 1);
		assert.ok(shared(later).recall('new', 3001));
	});

	test('static data that is not ours (edited by hand, another version) is started over, never thrown on', () => {
		const notOurs = [
			'{not json',
			'wechat-push-memory 1\nshort line\n',
			'wechat-push-memory 1\nno newline at the end',
			42,
			{ e: {} },
			'x'.repeat(SHARED_MAX_CHARS + 1),
		];
		for (const pushMemory of notOurs) {
			const staticData: IDataObject = { pushMemory: pushMemory as IDataObject };
			const memory = shared(staticData);
			assert.equal(memory.recall('k', 0), undefined);
			memory.remember([{ key: 'k' }], success, 10, 0, 0);
			assert.ok(shared(saved(staticData)).recall('k', 1));
		}
	});

	test("two saves at the same time: the later drops the other process's entry, whose next save puts it back", () => {
		const processA = new RecentlyShared();
		const processB = new RecentlyShared();
		const database: IDataObject = {};
		// Both load the same copy, then each remembers a push; B saves last.
		const loadedByA = saved(database);
		const loadedByB = saved(database);
		shared(loadedByA, processA).remember([{ key: 'push-on-A' }], success, 600_000, 1_000, 0);
		shared(loadedByB, processB).remember([{ key: 'push-on-B' }], success, 600_000, 1_000, 0);
		let stored = saved(loadedByB);
		assert.equal(shared(stored).recall('push-on-A', 1_001), undefined, 'lost by the later save');
		// A's next push, on the copy B saved: A's earlier entry is written again.
		shared(stored, processA).remember([{ key: 'next-on-A' }], success, 600_000, 2_000, 0);
		stored = saved(stored);
		for (const key of ['push-on-A', 'push-on-B', 'next-on-A']) assert.ok(shared(stored).recall(key, 2_001), key);
		// Only for a minute: an entry is written again while a retry may still come, not after.
		const withoutB = saved(loadedByA);
		shared(withoutB, processB).remember([{ key: 'late-on-B' }], success, 600_000, 62_000, 0);
		assert.equal(shared(saved(withoutB)).recall('push-on-B', 62_001), undefined);
		assert.ok(shared(saved(withoutB)).recall('late-on-B', 62_001));
	});

	test("a process serving two triggers writes each one's entries back into its own copy only", () => {
		const process = new RecentlyShared();
		const first: IDataObject = {};
		const second: IDataObject = {};
		shared(first, process, 'workflow-1/trigger').remember([{ key: 'push-1' }], success, 600_000, 1_000, 0);
		shared(second, process, 'workflow-2/trigger').remember([{ key: 'push-2' }], success, 600_000, 1_000, 0);
		assert.equal(entryLines(String(second.pushMemory)).length, 1);
		assert.equal(shared(saved(second)).recall('push-1', 1_001), undefined);
	});
});
