import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';

import type { Emulator } from '../emulator/server';
import { useEmulator } from '../harness/emulatorSuite';
import { EngineHarness } from '../harness/engine';

/**
 * Chat records (聊天记录): any range split into 24-hour windows, paging by msgid, de-duplicated page boundaries, the
 * limit honoured without a single unneeded call, filters, labels, validation and WeChat's errors.
 */

const PATH = '/customservice/msgrecord/getmsglist';
const DAY = 86400;
/** 2024-05-01T00:00:00Z */
const T0 = 1714521600;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
/** Two days after this file was loaded, whole seconds. */
const IN_TWO_DAYS = Math.floor(Date.now() / 1000) + 2 * DAY;

let emulator: Emulator;

function harness(): EngineHarness {
	return new EngineHarness({ appId: emulator.appId, appSecret: emulator.appSecret, baseUrl: emulator.baseUrl });
}

interface Body {
	starttime: number;
	endtime: number;
	msgid: number;
	number: number;
}

function bodies(): Body[] {
	const calls = emulator.apiCalls(PATH);
	for (const call of calls) {
		assert.equal(call.method, 'POST');
		assert.deepEqual(Object.keys(call.query), ['access_token']);
	}
	return calls.map((call) => call.json as Body);
}

/** A record as WeChat knows it, as a comparable key. */
const keyOf = (r: { openid?: unknown; opercode?: unknown; text?: unknown; time?: unknown; worker?: unknown }) =>
	JSON.stringify([r.openid, r.time, r.opercode, r.text, r.worker]);

function multiset(keys: string[]): Map<string, number> {
	const counts = new Map<string, number>();
	for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
	return counts;
}

function records(parameters: Record<string, unknown>, continueOnFail = false) {
	return harness().runNode({
		parameters: { resource: 'chatRecord', operation: 'getAll', ...parameters },
		continueOnFail,
	});
}

useEmulator((started) => (emulator = started), { errmsgRid: false });
beforeEach(() => {
	emulator.setMsgidMode('next');
});

describe('chatRecord.getAll over a 7-day export of 100,000 records', () => {
	const distribution = [3, 0.4, 6, 0, 1.2, 9, 0.05];

	test('msgidMode "next": every record exactly once, with exactly ⌊records/10000⌋ + 1 calls per 24-hour window', async () => {
		const { perDay } = emulator.seedChatRecords({ start: T0, end: T0 + 7 * DAY - 1, count: 100000, distribution });
		assert.ok(perDay.some((n) => n > 0 && n % 10000 !== 0) && perDay.includes(0), 'uneven days, one of them empty');

		const result = await records({ startTime: iso(T0), endTime: iso(T0 + 7 * DAY), returnAll: true });

		assert.equal(result.error, undefined);
		assert.equal(result.items.length, 100000);
		assert.deepEqual(
			multiset(result.items.map((item) => keyOf(item.json))),
			multiset(emulator.state.chatRecords.map(keyOf)),
			'each record once, none missing, none repeated',
		);

		assert.deepEqual(
			result.items.map((item) => keyOf(item.json)),
			emulator.state.chatRecords.map(keyOf),
			'in time order, although several windows are read at once',
		);

		const calls = emulator.apiCalls(PATH);
		assert.equal(calls.length, perDay.reduce((sum, n) => sum + Math.floor(n / 10000) + 1, 0));
		for (const [day, count] of perDay.entries()) {
			const window = { starttime: T0 + day * DAY, endtime: T0 + day * DAY + DAY - 1 };
			// Windows are read concurrently; inside one window the pages follow each other.
			const windowCalls = calls.filter((call) => (call.json as Body).starttime === window.starttime);
			assert.equal(windowCalls.length, Math.floor(count / 10000) + 1, `day ${day}: ⌊${count}/10000⌋ + 1 calls`);
			let msgid = 1;
			for (const [page, call] of windowCalls.entries()) {
				assert.deepEqual(call.json, { ...window, msgid, number: 10000 }, `day ${day} page ${page}`);
				msgid = (call.response.body as { msgid: number }).msgid;
			}
		}
	});

	test('msgidMode "last" (returned msgid inclusive): still 100,000 records, none repeated', async () => {
		emulator.setMsgidMode('last');
		emulator.seedChatRecords({ start: T0, end: T0 + 7 * DAY - 1, count: 100000, distribution });

		const result = await records({ startTime: iso(T0), endTime: iso(T0 + 7 * DAY), returnAll: true });

		assert.equal(result.error, undefined);
		assert.equal(result.items.length, 100000);
		assert.deepEqual(
			multiset(result.items.map((item) => keyOf(item.json))),
			multiset(emulator.state.chatRecords.map(keyOf)),
		);
		// Each page after the first in a window starts with the record the previous page ended with.
		const calls = emulator.apiCalls(PATH);
		let pagedOn = 0;
		for (const starttime of new Set(calls.map((call) => (call.json as Body).starttime))) {
			const windowCalls = calls.filter((call) => (call.json as Body).starttime === starttime);
			for (let page = 1; page < windowCalls.length; page++) {
				const previous = windowCalls[page - 1].response.body as { recordlist: unknown[] };
				const current = windowCalls[page].response.body as { recordlist: unknown[] };
				assert.deepEqual(current.recordlist[0], previous.recordlist.at(-1));
				pagedOn++;
			}
		}
		assert.ok(pagedOn > 0, 'the export did page inside windows');
	});
});

describe('chatRecord.getAll page boundaries', () => {
	/** 10,001 records whose 10,000th and 10,001st are identical in every field (two "[image]"s in one second). */
	function seedTwinsOnPageBoundary() {
		const twin = { openid: 'o_twin', opercode: 2003, text: '[image]', time: T0 + 5000, worker: 'kf1@gh_service' };
		emulator.state.addChatRecords([
			...Array.from({ length: 9999 }, (_, i) => ({
				openid: 'o_u',
				opercode: 2003,
				text: `message ${i}`,
				time: T0 + Math.floor(i / 2),
				worker: 'kf1@gh_service',
			})),
			twin,
			{ ...twin },
		]);
		assert.deepEqual(emulator.state.chatRecords[9999], { ...twin, msgid: 10000 });
		assert.deepEqual(emulator.state.chatRecords[10000], { ...twin, msgid: 10001 });
	}

	for (const mode of ['next', 'last'] as const) {
		test(`msgidMode "${mode}": two identical records across a page boundary both come out`, async () => {
			emulator.setMsgidMode(mode);
			seedTwinsOnPageBoundary();
			const result = await records({ startTime: iso(T0), endTime: iso(T0 + DAY), returnAll: true });
			assert.equal(result.items.length, 10001);
			assert.deepEqual(
				result.items.map((item) => keyOf(item.json)),
				emulator.state.chatRecords.map(keyOf),
			);
			assert.equal(bodies().length, 2);
		});
	}
});

describe('chatRecord.getAll stops at the limit', () => {
	test('Limit 50 → exactly one call asking for 50', async () => {
		emulator.seedChatRecords({ start: T0, end: T0 + 3 * DAY - 1, count: 3000 });
		const result = await records({ startTime: iso(T0), endTime: iso(T0 + 3 * DAY), returnAll: false, limit: 50 });

		assert.deepEqual(bodies(), [{ starttime: T0, endtime: T0 + DAY - 1, msgid: 1, number: 50 }]);
		assert.deepEqual(
			result.items.map((item) => keyOf(item.json)),
			emulator.state.chatRecords.slice(0, 50).map(keyOf),
		);
	});

	test('the default Limit is 50', async () => {
		emulator.seedChatRecords({ start: T0, end: T0 + DAY - 1, count: 80 });
		const result = await records({ startTime: iso(T0), endTime: iso(T0 + DAY) });
		assert.equal(result.items.length, 50);
		assert.deepEqual(bodies(), [{ starttime: T0, endtime: T0 + DAY - 1, msgid: 1, number: 50 }]);
	});

	test('a limit reached in the 2nd window fetches no 3rd window', async () => {
		emulator.seedChatRecords({ start: T0, end: T0 + 3 * DAY - 1, count: 900, distribution: [1, 1, 1] });
		const result = await records({ startTime: iso(T0), endTime: iso(T0 + 3 * DAY), returnAll: false, limit: 400 });

		assert.equal(result.items.length, 400);
		assert.deepEqual(bodies(), [
			{ starttime: T0, endtime: T0 + DAY - 1, msgid: 1, number: 400 },
			{ starttime: T0 + DAY, endtime: T0 + 2 * DAY - 1, msgid: 1, number: 100 },
		]);
		assert.deepEqual(
			result.items.map((item) => keyOf(item.json)),
			emulator.state.chatRecords.slice(0, 400).map(keyOf),
		);
	});

	test('a limit equal to a full page ends without asking for the next page', async () => {
		emulator.seedChatRecords({ start: T0, end: T0 + DAY - 1, count: 12000 });
		const result = await records({ startTime: iso(T0), endTime: iso(T0 + DAY), returnAll: false, limit: 10000 });
		assert.equal(result.items.length, 10000);
		assert.deepEqual(bodies(), [{ starttime: T0, endtime: T0 + DAY - 1, msgid: 1, number: 10000 }]);
	});

	test('a limit beyond one page asks the next page only for what is missing', async () => {
		emulator.seedChatRecords({ start: T0, end: T0 + DAY - 1, count: 12000 });
		const result = await records({ startTime: iso(T0), endTime: iso(T0 + DAY), returnAll: false, limit: 10500 });
		assert.equal(result.items.length, 10500);
		assert.deepEqual(bodies(), [
			{ starttime: T0, endtime: T0 + DAY - 1, msgid: 1, number: 10000 },
			{ starttime: T0, endtime: T0 + DAY - 1, msgid: 10001, number: 500 },
		]);
		assert.deepEqual(
			result.items.map((item) => keyOf(item.json)),
			emulator.state.chatRecords.slice(0, 10500).map(keyOf),
		);
	});

	test('with an inclusive msgid the repeated record is asked for on top, and dropped', async () => {
		emulator.setMsgidMode('last');
		emulator.seedChatRecords({ start: T0, end: T0 + DAY - 1, count: 12000, openids: ['o_a', 'o_b', 'o_c'] });
		const result = await records({ startTime: iso(T0), endTime: iso(T0 + DAY), returnAll: false, limit: 10001 });

		assert.deepEqual(
			result.items.map((item) => keyOf(item.json)),
			emulator.state.chatRecords.slice(0, 10001).map(keyOf),
		);
		// Page 2 asks for the 1 missing record, gets the repeated one, and learns to ask for one more.
		assert.deepEqual(bodies(), [
			{ starttime: T0, endtime: T0 + DAY - 1, msgid: 1, number: 10000 },
			{ starttime: T0, endtime: T0 + DAY - 1, msgid: 10000, number: 1 },
			{ starttime: T0, endtime: T0 + DAY - 1, msgid: 10000, number: 2 },
		]);
	});
});

describe('chatRecord.getAll windows', () => {
	test('a range under 24 hours is one window: [start, end − 1 s]', async () => {
		emulator.seedChatRecords({ start: T0, end: T0 + DAY - 1, count: 500 });
		const start = T0 + 3600;
		const end = T0 + 5 * 3600;
		const result = await records({ startTime: iso(start), endTime: iso(end), returnAll: true });

		assert.deepEqual(bodies(), [{ starttime: start, endtime: end - 1, msgid: 1, number: 10000 }]);
		const expected = emulator.state.chatRecords.filter((r) => r.time >= start && r.time < end);
		assert.deepEqual(result.items.map((item) => keyOf(item.json)), expected.map(keyOf));
	});

	test('exactly 24 hours is one window; 24 hours and a second are two', async () => {
		await records({ startTime: iso(T0), endTime: iso(T0 + DAY), returnAll: true });
		assert.deepEqual(bodies(), [{ starttime: T0, endtime: T0 + DAY - 1, msgid: 1, number: 10000 }]);

		emulator.clearLog();
		await records({ startTime: iso(T0), endTime: iso(T0 + DAY + 1), returnAll: true });
		assert.deepEqual(bodies(), [
			{ starttime: T0, endtime: T0 + DAY - 1, msgid: 1, number: 10000 },
			{ starttime: T0 + DAY, endtime: T0 + DAY, msgid: 1, number: 10000 },
		]);
	});

	test('records on window boundaries come out once; End Time itself is excluded', async () => {
		const at = (time: number, text: string) => ({ openid: 'o_edge', opercode: 2003, text, time, worker: 'kf1@gh_service' });
		emulator.state.addChatRecords([
			at(T0 - 1, 'before start'),
			at(T0, 'first second'),
			at(T0 + DAY - 1, 'last second of day 1'),
			at(T0 + DAY, 'first second of day 2'),
			at(T0 + 2 * DAY - 1, 'last second before end'),
			at(T0 + 2 * DAY, 'at end time'),
		]);
		const result = await records({ startTime: iso(T0), endTime: iso(T0 + 2 * DAY), returnAll: true });
		assert.deepEqual(result.items.map((item) => item.json.text), [
			'first second',
			'last second of day 1',
			'first second of day 2',
			'last second before end',
		]);
		assert.equal(bodies().length, 2);
	});

	test('Start Time and End Time accept Unix seconds, milliseconds and ISO strings with an offset', async () => {
		await records({ startTime: T0, endTime: `${(T0 + 3600) * 1000}`, returnAll: true });
		await records({ startTime: '=2024-05-01T08:00:00+08:00', endTime: '={{ 1714525200 }}', returnAll: true });
		assert.deepEqual(bodies(), [
			{ starttime: T0, endtime: T0 + 3599, msgid: 1, number: 10000 },
			{ starttime: T0, endtime: T0 + 3599, msgid: 1, number: 10000 },
		]);
	});

	test('a date without an offset is read in the workflow\'s time zone', async () => {
		// The harness's workflows have no time zone setting, so n8n's default (America/New_York) applies.
		await records({ startTime: '2024-05-01T00:00:00', endTime: '2024-05-01T01:00:00', returnAll: true });
		const newYorkMidnight = T0 + 4 * 3600; // EDT, UTC−4
		assert.deepEqual(bodies(), [
			{ starttime: newYorkMidnight, endtime: newYorkMidnight + 3599, msgid: 1, number: 10000 },
		]);
	});
});

describe('chatRecord.getAll output', () => {
	test('WeChat\'s fields, timeIso and the opercode label in English and Chinese; unknown codes pass through', async () => {
		emulator.state.addChatRecords([
			{ openid: 'o_u', opercode: 2003, text: '你好', time: T0 + 10, worker: 'kf1@gh_service' },
			{ openid: 'o_u', opercode: 2002, text: '您好，请问有什么可以帮您？', time: T0 + 20, worker: 'kf1@gh_service' },
			{ openid: 'o_u', opercode: 1003, text: '', time: T0 + 30, worker: 'kf2@gh_service' },
			{ openid: 'o_u', opercode: 4242, text: '[image]', time: T0 + 40, worker: 'kf2@gh_service' },
		]);
		const result = await records({ startTime: iso(T0), endTime: iso(T0 + 60), returnAll: true });
		assert.deepEqual(result.items.map((item) => item.json), [
			{
				openid: 'o_u',
				opercode: 2003,
				text: '你好',
				time: T0 + 10,
				worker: 'kf1@gh_service',
				timeIso: '2024-05-01T00:00:10.000Z',
				opercodeLabel: 'Agent received a message',
				opercodeLabelZh: '客服收到消息',
			},
			{
				openid: 'o_u',
				opercode: 2002,
				text: '您好，请问有什么可以帮您？',
				time: T0 + 20,
				worker: 'kf1@gh_service',
				timeIso: '2024-05-01T00:00:20.000Z',
				opercodeLabel: 'Agent sent a message',
				opercodeLabelZh: '客服发送消息',
			},
			{
				openid: 'o_u',
				opercode: 1003,
				text: '',
				time: T0 + 30,
				worker: 'kf2@gh_service',
				timeIso: '2024-05-01T00:00:30.000Z',
				opercodeLabel: 'Session transferred',
				opercodeLabelZh: '转接会话',
			},
			{
				openid: 'o_u',
				opercode: 4242,
				text: '[image]',
				time: T0 + 40,
				worker: 'kf2@gh_service',
				timeIso: '2024-05-01T00:00:40.000Z',
				opercodeLabel: 'unknown',
				opercodeLabelZh: '未知',
			},
		]);
	});

	test('OpenID and worker filters are applied after download and do not shrink the pages asked for', async () => {
		emulator.seedChatRecords({
			start: T0,
			end: T0 + 2 * DAY - 1,
			count: 3000,
			openids: ['o_a', 'o_b', 'o_c'],
			workers: ['kf1@gh_service', 'kf2@gh_service'],
		});
		const byOpenId = await records({
			startTime: iso(T0),
			endTime: iso(T0 + 2 * DAY),
			returnAll: true,
			filters: { openId: 'o_b' },
		});
		const expectedB = emulator.state.chatRecords.filter((r) => r.openid === 'o_b');
		assert.ok(expectedB.length > 0 && expectedB.length < 3000);
		assert.deepEqual(byOpenId.items.map((item) => keyOf(item.json)), expectedB.map(keyOf));

		emulator.clearLog();
		const both = await records({
			startTime: iso(T0),
			endTime: iso(T0 + 2 * DAY),
			returnAll: false,
			limit: 5,
			filters: { openId: 'o_c', worker: 'kf2@gh_service' },
		});
		assert.deepEqual(
			both.items.map((item) => keyOf(item.json)),
			emulator.state.chatRecords.filter((r) => r.openid === 'o_c' && r.worker === 'kf2@gh_service').slice(0, 5).map(keyOf),
		);
		assert.deepEqual(bodies(), [{ starttime: T0, endtime: T0 + DAY - 1, msgid: 1, number: 10000 }]);
	});

	test('an empty range returns no items after one call per window', async () => {
		const result = await records({ startTime: iso(T0), endTime: iso(T0 + 2 * DAY), returnAll: true });
		assert.equal(result.error, undefined);
		assert.deepEqual(result.items, []);
		assert.equal(bodies().length, 2);
	});
});

describe('chatRecord.getAll validation and errors', () => {
	for (const [name, startTime, endTime, message, hint] of [
		['start after end', iso(T0 + 60), iso(T0), `Start Time (${iso(T0 + 60)}) is not before End Time (${iso(T0)})`, /Make End Time later/],
		['start equal to end', iso(T0), iso(T0), `Start Time (${iso(T0)}) is not before End Time (${iso(T0)})`, /Make End Time later/],
		['an unparsable start', '={{ "last tuesday" }}', iso(T0), 'Start Time "last tuesday" is not a date', /ISO 8601/],
		['a date that does not exist', '2024-02-30T00:00:00Z', iso(T0), 'Start Time "2024-02-30T00:00:00Z" is not a date', /ISO 8601/],
		['an empty end', iso(T0), '={{ "" }}', 'End Time is empty', /Unix timestamp/],
		[
			'an End Time of {{ 8640000000000000 }} (the last instant a date can hold)',
			iso(T0),
			'={{ 8640000000000000 }}',
			'End Time (+275760-09-13T00:00:00.000Z) is more than one day in the future',
			/^Chat records \(聊天记录\) exist only up to now\. Set End Time to \S+ \(one day from now\) or earlier, e\.g\. \{\{ \$now \}\}/,
		],
		[
			'an End Time two days from now',
			iso(T0),
			iso(IN_TWO_DAYS),
			`End Time (${iso(IN_TWO_DAYS)}) is more than one day in the future`,
			/one day from now/,
		],
		[
			'a Start Time a second before 2014-01-01 Beijing time',
			'2013-12-31T15:59:59Z',
			iso(T0),
			'Start Time (2013-12-31T15:59:59.000Z) is before 2014-01-01T00:00:00+08:00, earlier than any WeChat chat record',
			/^WeChat keeps customer-service chat records \(客服聊天记录\) from 2014 on\. Set Start Time to 2014-01-01T00:00:00\+08:00 or later/,
		],
		[
			'a Start Time of {{ 0 }} (1970)',
			'={{ 0 }}',
			iso(T0),
			'Start Time (1970-01-01T00:00:00.000Z) is before 2014-01-01T00:00:00+08:00, earlier than any WeChat chat record',
			/from 2014 on/,
		],
		[
			'a Start Time beyond what a date can hold',
			'={{ 9000000000000000 }}',
			iso(T0),
			`Start Time (9000000000000000 ms after 1970-01-01) is not before End Time (${iso(T0)})`,
			/Make End Time later/,
		],
	] as const) {
		test(`${name} is rejected before any request`, async () => {
			const result = await records({ startTime, endTime, returnAll: true });
			assert.equal(result.error?.message, message);
			assert.match(String(result.error?.description), hint);
			assert.equal(emulator.requests.length, 0, 'not even a token request');
		});
	}

	test('with a Limit as well, a far-future End Time is refused before any request', async () => {
		const result = await records({ startTime: iso(T0), endTime: '={{ 8640000000000000 }}', returnAll: false, limit: 5 });
		assert.equal(result.error?.message, 'End Time (+275760-09-13T00:00:00.000Z) is more than one day in the future');
		assert.equal(emulator.requests.length, 0, 'not even a token request');
	});

	test('the bounds themselves are accepted: Start Time 2014-01-01 Beijing time, End Time up to a day ahead', async () => {
		const earliest = await records({
			startTime: '2014-01-01T00:00:00+08:00',
			endTime: '2014-01-02T00:00:00+08:00',
			returnAll: true,
		});
		assert.equal(earliest.error, undefined);
		assert.deepEqual(bodies(), [{ starttime: 1388505600, endtime: 1388505600 + DAY - 1, msgid: 1, number: 10000 }]);

		emulator.clearLog();
		const now = Math.floor(Date.now() / 1000);
		const ahead = await records({ startTime: iso(now - 3600), endTime: iso(now + DAY - 60), returnAll: true });
		assert.equal(ahead.error, undefined);
		assert.equal(bodies().length, 2);
	});

	test('65417 (range too long) is a NodeApiError with the English message, the Chinese term and the fix', async () => {
		emulator.injectFault({ path: PATH, kind: 'errcode', errcode: 65417, errmsg: 'time range exceed limit' });
		const result = await records({ startTime: iso(T0), endTime: iso(T0 + 3600), returnAll: true });
		assert.equal(result.error?.name, 'WeChatApiError');
		assert.equal(result.error?.message, 'WeChat error 65417 (查询时间段超出限制): The chat-record query covers more than 24 hours');
		assert.match(String(result.error?.description), /^Query at most 24 hours at a time/);
		assert.match(String(result.error?.description), /WeChat said: "time range exceed limit"/);
	});

	test('an error on a later page fails the item; with continueOnFail it becomes an error item', async () => {
		emulator.seedChatRecords({ start: T0, end: T0 + 2 * DAY - 1, count: 100 });
		emulator.injectFault({ path: PATH, kind: 'errcode', errcode: -1 });
		emulator.injectFault({ path: PATH, kind: 'errcode', errcode: -1 });
		const result = await harness().runNode({
			parameters: {
				resource: 'chatRecord',
				operation: 'getAll',
				startTime: '={{ $json.from }}',
				endTime: '={{ $json.to }}',
				returnAll: true,
				// Retries of "system busy" are tested in requestPolicy.test.ts; here the failure itself.
				requestOptions: { maxRetries: 0 },
			},
			continueOnFail: true,
			items: [{ json: { from: iso(T0), to: iso(T0 + DAY) } }, { json: { from: 'soon', to: iso(T0) } }],
		});
		assert.deepEqual(result.items.map((item) => item.json.error), [
			'WeChat error -1 (系统繁忙): WeChat was busy; the request may or may not have been carried out',
			'Start Time "soon" is not a date',
		]);
	});
});

describe('chatRecord.getAll with Return All reads windows concurrently', () => {
	test('a failing window fails the export, and the other windows stop before their next page', async () => {
		const { perDay } = emulator.seedChatRecords({
			start: T0,
			end: T0 + 7 * DAY - 1,
			count: 70000,
			distribution: [1, 1, 1, 1, 1, 1, 1],
		});
		const minimal = perDay.reduce((sum, n) => sum + Math.floor(n / 10000) + 1, 0);
		emulator.injectFault({ path: PATH, kind: 'errcode', errcode: 45011 });

		const result = await records({
			startTime: iso(T0),
			endTime: iso(T0 + 7 * DAY),
			returnAll: true,
			requestOptions: { maxRetries: 0 },
		});

		assert.equal(result.error?.message, 'WeChat error 45011 (API 调用太频繁，请稍候再试): API called too often');
		assert.equal(result.items.length, 0);
		// At most the pages already on their way when the first one failed.
		assert.ok(emulator.apiCalls(PATH).length <= 3, `${emulator.apiCalls(PATH).length} calls of ${minimal}`);
	});
});
