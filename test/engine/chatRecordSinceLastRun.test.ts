import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';

import type { IDataObject } from 'n8n-workflow';

import type { Emulator } from '../emulator/server';
import { useEmulator } from '../harness/emulatorSuite';
import { EngineHarness } from '../harness/engine';

/**
 * Chat Record → Get Many with Range Type "Since Last Run", through n8n's engine with static data kept between
 * executions the way n8n's database keeps it (saved after every non-manual execution that changed it, failed ones
 * included). The clock is Date.now replaced, for the node and the emulator alike.
 */

const PATH = '/customservice/msgrecord/getmsglist';
const MINUTE = 60;
const HOUR = 3600;
const DAY = 86400;
const LAG_MINUTES = 5;
const NODE_NAME = 'WeChat Customer Service';

let emulator: Emulator;
useEmulator((started) => (emulator = started), { errmsgRid: false });

// The clock stands still unless a test moves it, so a test knows to the second where each run ends.
const realNow = Date.now.bind(Date);
let clockMs = 0;
beforeEach(() => {
	clockMs = realNow();
	mock.method(Date, 'now', () => clockMs);
});
afterEach(() => mock.restoreAll());

/** The test clock, whole unix seconds. */
const nowSeconds = () => Math.floor(Date.now() / 1000);
const advance = (seconds: number) => (clockMs += seconds * 1000);
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

interface RecordLike {
	openid?: unknown;
	opercode?: unknown;
	text?: unknown;
	time?: unknown;
	worker?: unknown;
}
const keyOf = (r: RecordLike) => JSON.stringify([r.openid, r.time, r.opercode, r.text, r.worker]);
function multiset(keys: string[]): Map<string, number> {
	const counts = new Map<string, number>();
	for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
	return counts;
}

let sequence = 0;
/** Records stamped at the given seconds; two records in the same second differ only by text when asked. */
function addRecords(times: number[]): void {
	emulator.state.addChatRecords(
		times.map((time) => ({
			openid: `o_user_${sequence % 7}`,
			opercode: 2003,
			text: `message ${++sequence}`,
			time,
			worker: 'kf2001@emulator_oa',
		})),
	);
}

function harness(): EngineHarness {
	return new EngineHarness({ appId: emulator.appId, appSecret: emulator.appSecret, baseUrl: emulator.baseUrl });
}

function sinceLastRun(
	engine: EngineHarness,
	firstRunStart: string,
	extra: { mode?: 'trigger' | 'manual' | 'cli'; options?: IDataObject; items?: number } = {},
) {
	return engine.runNode({
		parameters: {
			resource: 'chatRecord',
			operation: 'getAll',
			rangeType: 'sinceLastRun',
			firstRunStart,
			sinceLastRunOptions: { lagMinutes: LAG_MINUTES, ...extra.options },
		},
		mode: extra.mode ?? 'trigger',
		items: Array.from({ length: extra.items ?? 1 }, () => ({ json: {} })),
	});
}

const cursorOf = (engine: EngineHarness) =>
	(engine.savedStaticData[`node:${NODE_NAME}`] as IDataObject | undefined)?.chatRecordCursor as IDataObject | undefined;

describe('chatRecord.getAll since last run', () => {
	test('runs with records arriving between and during runs, late records inside the lag, a failed run and a skipped week: every record exactly once', async () => {
		const engine = harness();
		const start = nowSeconds() - 3 * DAY;
		const exported: RecordLike[] = [];
		const collect = (items: { json: IDataObject }[]) => exported.push(...items.map((item) => item.json));

		// Before the first run: three days of history, records on First Run Start's own second and one before it.
		const seeded = emulator.seedChatRecords({ start, end: nowSeconds() - HOUR, count: 2500, seed: 7 });
		assert.equal(
			seeded.perDay.reduce((a, b) => a + b, 0),
			2500,
		);
		addRecords([start - 1, start, start]);
		// Stamped inside the lag: not yet safe to export, left for the next run.
		addRecords([nowSeconds() - 2 * MINUTE, nowSeconds() - MINUTE]);

		// Run 1, and while its first request is answered, a follower writes (stamped now, after the run's end).
		const end1 = nowSeconds() - LAG_MINUTES * MINUTE;
		addRecords([end1 - 1, end1 - 1, end1, end1]); // the boundary second on both sides, twice each
		emulator.injectFault({ path: PATH, kind: 'slow', delayMs: 200 });
		const arriving = setTimeout(() => addRecords([nowSeconds(), nowSeconds()]), 50);
		const run1 = await sinceLastRun(engine, iso(start));
		clearTimeout(arriving);
		assert.equal(run1.error, undefined);
		const expected1 = emulator.state.chatRecords.filter((r) => r.time >= start && r.time < end1);
		assert.equal(run1.items.length, expected1.length);
		assert.deepEqual(multiset(run1.items.map((i) => keyOf(i.json))), multiset(expected1.map(keyOf)));
		assert.deepEqual(run1.items[0].json.exportRange, {
			start: iso(start),
			end: iso(end1),
			startedFrom: 'firstRunStart',
			caughtUp: true,
			cursorMoved: true,
		});
		assert.equal(cursorOf(engine)?.exportedUntil, end1);
		collect(run1.items);

		// An hour later: new records, and run 2 fails on its second request (after its first window was read).
		advance(HOUR);
		addRecords([nowSeconds() - 30 * MINUTE, nowSeconds() - 20 * MINUTE]);
		advance(DAY);
		emulator.seedChatRecords({ start: nowSeconds() - DAY + 1, end: nowSeconds() - HOUR, count: 600, seed: 8 });
		emulator.injectFault({ path: PATH, kind: 'slow', delayMs: 0 });
		emulator.injectFault({ path: PATH, kind: 'errcode', errcode: 65416 });
		const cursorBefore = structuredClone(cursorOf(engine));
		const run2 = await sinceLastRun(engine, iso(start));
		assert.match(String(run2.error?.message), /65416/);
		assert.deepEqual(cursorOf(engine), cursorBefore, 'a failed run leaves the cursor where it was');

		// Run 3 (ten minutes later) exports the failed run's range too.
		advance(10 * MINUTE);
		const end3 = nowSeconds() - LAG_MINUTES * MINUTE;
		const run3 = await sinceLastRun(engine, iso(start));
		assert.equal(run3.error, undefined);
		assert.deepEqual(run3.items[0].json.exportRange, {
			start: iso(end1),
			end: iso(end3),
			startedFrom: 'previousRun',
			caughtUp: true,
			cursorMoved: true,
		});
		collect(run3.items);

		// A week without runs (the schedule was paused), records every day; then run 4.
		advance(7 * DAY);
		emulator.seedChatRecords({ start: end3 + 60, end: nowSeconds() - 2 * HOUR, count: 3000, seed: 9 });
		const end4 = nowSeconds() - LAG_MINUTES * MINUTE;
		addRecords([nowSeconds() - MINUTE]); // inside run 4's lag: not exported by it
		const run4 = await sinceLastRun(engine, iso(start));
		assert.equal(run4.error, undefined);
		assert.equal(run4.items[0].json.exportRange && (run4.items[0].json.exportRange as IDataObject).end, iso(end4));
		collect(run4.items);
		// Run 4 read 8 days in windows of at most 24 h.
		const run4Bodies = emulator.apiCalls(PATH).slice(-9).map((call) => call.json as { starttime: number; endtime: number });
		assert.ok(run4Bodies.every((body) => body.endtime - body.starttime < DAY));

		// Every record stamped from First Run Start up to run 4's end, exactly once; none from before or after.
		const expected = emulator.state.chatRecords.filter((r) => r.time >= start && r.time < end4);
		assert.equal(exported.length, expected.length);
		assert.deepEqual(multiset(exported.map(keyOf)), multiset(expected.map(keyOf)));
		assert.ok(emulator.state.chatRecords.some((r) => r.time < start), 'a record before First Run Start exists');
		assert.ok(emulator.state.chatRecords.some((r) => r.time >= end4), 'a record after the last end exists');
		assert.ok(exported.length > 6000, `a realistic volume (${exported.length})`);
	});

	test('a manual run exports from the saved cursor but does not move it; the next production run exports the same range', async () => {
		const engine = harness();
		const start = nowSeconds() - DAY;
		addRecords([start + 10, start + 20]);
		const run1 = await sinceLastRun(engine, iso(start));
		assert.equal(run1.items.length, 2);
		const cursor = structuredClone(cursorOf(engine));

		advance(HOUR);
		addRecords([nowSeconds() - 30 * MINUTE]);
		const manual = await sinceLastRun(engine, iso(start), { mode: 'manual' });
		assert.equal(manual.error, undefined);
		assert.equal(manual.items.length, 1);
		assert.equal((manual.items[0].json.exportRange as IDataObject).cursorMoved, false);
		assert.deepEqual(cursorOf(engine), cursor);

		const production = await sinceLastRun(engine, iso(start));
		assert.deepEqual(
			production.items.map((item) => keyOf(item.json)),
			manual.items.map((item) => keyOf(item.json)),
		);
		assert.equal((production.items[0].json.exportRange as IDataObject).cursorMoved, true);
	});

	test('a run within the lag of the previous one sends nothing and keeps the cursor', async () => {
		const engine = harness();
		const start = nowSeconds() - HOUR;
		addRecords([start + 1]);
		await sinceLastRun(engine, iso(start));
		const cursor = structuredClone(cursorOf(engine));
		emulator.clearLog();

		const again = await sinceLastRun(engine, iso(start));
		assert.equal(again.error, undefined);
		assert.deepEqual(again.items, []);
		assert.deepEqual(emulator.apiCalls(PATH), []);
		assert.deepEqual(cursorOf(engine), cursor);
	});

	test('Max Days per Run: a long pause is caught up over several runs, without gap or repeat', async () => {
		const engine = harness();
		const start = nowSeconds() - 5 * DAY;
		emulator.seedChatRecords({ start, end: nowSeconds() - HOUR, count: 500, seed: 3 });
		const options = { maxDaysPerRun: 2 };
		const first = await sinceLastRun(engine, iso(start), { options });
		assert.deepEqual(
			{ ...(first.items[0].json.exportRange as IDataObject) },
			{ start: iso(start), end: iso(start + 2 * DAY), startedFrom: 'firstRunStart', caughtUp: false, cursorMoved: true },
		);
		const second = await sinceLastRun(engine, iso(start), { options });
		const third = await sinceLastRun(engine, iso(start), { options });
		assert.equal((third.items[0].json.exportRange as IDataObject).caughtUp, true);
		const all = [...first.items, ...second.items, ...third.items].map((item) => keyOf(item.json));
		assert.deepEqual(multiset(all), multiset(emulator.state.chatRecords.map(keyOf)));
	});

	test('End Alignment "day" ends at the last midnight in the workflow time zone', async () => {
		const engine = harness();
		const start = nowSeconds() - 3 * DAY;
		const run = await sinceLastRun(engine, iso(start), { options: { endAlignment: 'day' } });
		assert.equal(run.error, undefined);
		const cursor = cursorOf(engine);
		// The harness's workflow has no time zone setting: n8n's default (America/New_York) applies.
		const end = new Date(Number(cursor?.exportedUntil) * 1000);
		const wall = new Intl.DateTimeFormat('en-GB', {
			timeZone: 'America/New_York',
			hour: '2-digit',
			minute: '2-digit',
			second: '2-digit',
			hourCycle: 'h23',
		}).format(end);
		assert.equal(wall, '00:00:00');
		assert.ok(Number(cursor?.exportedUntil) <= nowSeconds() - LAG_MINUTES * MINUTE);
		assert.ok(Number(cursor?.exportedUntil) > nowSeconds() - LAG_MINUTES * MINUTE - DAY - HOUR);
	});

	test('more than one input item is refused before any request, and the cursor stays', async () => {
		const engine = harness();
		const run = await sinceLastRun(engine, iso(nowSeconds() - DAY), { items: 2 });
		assert.equal(run.error?.message, 'Since Last Run exports once per execution, but this node received 2 input items');
		assert.deepEqual(emulator.apiCalls(PATH), []);
		assert.equal(cursorOf(engine), undefined);
	});

	test('with Execute Once, the first of several input items exports and moves the cursor', async () => {
		const engine = harness();
		const start = nowSeconds() - HOUR;
		addRecords([start + 5]);
		const run = await engine.runNode({
			parameters: {
				resource: 'chatRecord',
				operation: 'getAll',
				rangeType: 'sinceLastRun',
				firstRunStart: iso(start),
				sinceLastRunOptions: { lagMinutes: LAG_MINUTES },
			},
			mode: 'trigger',
			items: [{ json: {} }, { json: {} }, { json: {} }],
			settings: { executeOnce: true },
		});
		assert.equal(run.error, undefined);
		assert.equal(run.items.length, 1);
		assert.equal(cursorOf(engine)?.exportedUntil, nowSeconds() - LAG_MINUTES * MINUTE);
	});

	test('First Run Start is checked before any request', async () => {
		const engine = harness();
		const wrong = await sinceLastRun(engine, 'yesterday');
		assert.equal(wrong.error?.message, 'First Run Start "yesterday" is not a date');
		const early = await sinceLastRun(engine, '2013-12-31T00:00:00Z');
		assert.equal(
			early.error?.message,
			'First Run Start (2013-12-31T00:00:00.000Z) is before 2014-01-01T00:00:00+08:00, earlier than any WeChat chat record',
		);
		assert.deepEqual(emulator.apiCalls(PATH), []);
	});
});
