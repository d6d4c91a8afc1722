import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';

import {
	clearDeduplicationStore,
	deduplicationStoreBytes,
	deduplicationStoreSize,
	memoryKey,
	pushIdentity,
	recall,
	remember,
} from '../../nodes/WeChatCustomerServiceTrigger/helpers/deduplicate';

/** The push memory on its own: keys, shapes, expiry and the byte bound. Through the trigger: attacks.test.ts. */

beforeEach(() => clearDeduplicationStore());

const fields = (extra: Record<string, string>) =>
	Object.assign(Object.create(null), { ToUserName: 'gh', FromUserName: 'o1', CreateTime: '100', ...extra });
const key = (scope: string, extra: Record<string, string>) => {
	const identity = pushIdentity(scope, fields(extra));
	assert.ok(identity.ok);
	return identity.key();
};
const reply = { status: 200, contentType: 'text/plain', body: 'success' };

describe('push identity', () => {
	test('MsgId for messages; FromUserName + CreateTime + Event + EventKey for events; scoped', () => {
		const text = { MsgType: 'text', MsgId: '1' };
		assert.notEqual(key('w/a', text), key('w/b', text));
		assert.equal(key('w/a', text), key('w/a', { ...text, CreateTime: '101' }));
		const click = (eventKey: string) => ({ MsgType: 'event', Event: 'CLICK', EventKey: eventKey });
		assert.equal(key('s', click('A')), key('s', click('A')));
		assert.notEqual(key('s', click('A')), key('s', click('B')));
		assert.notEqual(key('s', { MsgType: 'event', Event: 'subscribe' }), key('s', { MsgType: 'event', Event: 'unsubscribe' }));
	});

	test('keys have one fixed size whatever the push holds', () => {
		const long = key('s', { MsgType: 'event', Event: 'VIEW', EventKey: 'x'.repeat(1024) });
		assert.equal(long.length, 44);
		assert.equal(key('s', { MsgType: 'text', MsgId: '1' }).length, 44);
		assert.equal(memoryKey(['a', 'bc']).length, 44);
		assert.notEqual(memoryKey(['a', 'bc']), memoryKey(['ab', 'c']));
	});

	test('fields that do not have WeChat’s shape are refused before they reach a key', () => {
		const refused = (extra: Record<string, string>) => {
			const identity = pushIdentity('s', fields(extra));
			assert.equal(identity.ok, false, JSON.stringify(extra).slice(0, 80));
		};
		refused({ MsgType: 'text', MsgId: '1', FromUserName: 'x'.repeat(400_000) });
		refused({ MsgType: 'text', MsgId: '1', FromUserName: 'o<script>' });
		refused({ MsgType: 'text', MsgId: 'x'.repeat(400_000) });
		refused({ MsgType: 'text', MsgId: '123456789012345678901' });
		refused({ MsgType: 'event', Event: 'CLICK', EventKey: 'x'.repeat(1025) });
		refused({ MsgType: 'event', Event: 'a b' });
		refused({ MsgType: 'text', MsgId: '1', CreateTime: 'yesterday' });
	});
});

describe('memory', () => {
	test('an entry lives until its expiry (by clock values, no timers), then is gone and its bytes freed', () => {
		assert.ok(remember([{ key: 'k', contentDigest: 'd' }], reply, 2000, 1000, 1 << 20));
		assert.deepEqual(recall('k', 1999), { expiresAt: 2000, bytes: deduplicationStoreBytes(), contentDigest: 'd', reply });
		assert.equal(recall('k', 2000), undefined);
		assert.equal(deduplicationStoreSize(), 0);
		assert.equal(deduplicationStoreBytes(), 0);
	});

	test('entries with different lifetimes expire in their own order', () => {
		remember([{ key: 'late' }], reply, 9000, 0, 1 << 20);
		remember([{ key: 'early' }], reply, 3000, 0, 1 << 20);
		remember([{ key: 'middle' }], reply, 6000, 0, 1 << 20);
		assert.equal(recall('early', 3000), undefined);
		assert.ok(recall('middle', 3000));
		assert.equal(recall('middle', 6000), undefined);
		assert.ok(recall('late', 6000));
		assert.equal(deduplicationStoreSize(), 1);
	});

	test('full: nothing live is evicted, the new entry is not stored, and the bytes stay within the bound', () => {
		const bound = 64 * 1024;
		let stored = 0;
		for (let i = 0; i < 10_000; i++) if (remember([{ key: `k${i}` }], reply, 10_000, 0, bound)) stored++;
		assert.ok(stored > 100 && stored < 10_000, `stored ${stored}`);
		assert.ok(deduplicationStoreBytes() <= bound);
		assert.ok(recall('k0', 1), 'the first entry is still there');
		assert.equal(recall(`k${stored}`, 1), undefined, 'the first refused entry was not stored');
		// Once entries expire there is room again.
		assert.ok(remember([{ key: 'after' }], reply, 20_000, 10_000, bound));
		assert.equal(deduplicationStoreSize(), 1);
	});

	test('a reply counts by its size, so large replies fill the bound sooner', () => {
		const bound = 64 * 1024;
		const large = { ...reply, body: 'x'.repeat(4096) };
		let stored = 0;
		for (let i = 0; i < 1000; i++) if (remember([{ key: `k${i}` }], large, 10_000, 0, bound)) stored++;
		assert.ok(stored <= Math.floor(bound / (2 * 4096)), `stored ${stored}`);
	});
});
