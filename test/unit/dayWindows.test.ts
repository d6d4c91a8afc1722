import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { splitIntoDayWindows } from '../../nodes/WeChatCustomerService/resources/chatRecord/dayWindows';
import { labelOpercode } from '../../nodes/WeChatCustomerService/resources/chatRecord/opercodes';
import { parseDateTimeValue } from '../../nodes/WeChatCustomerService/resources/chatRecord/timeRange';
import { pickLeastLoadedAgent } from '../../nodes/WeChatCustomerService/resources/session/pickLeastLoadedAgent';

const DAY = 86400;
const T0 = 1714521600; // 2024-05-01T00:00:00Z

describe('splitIntoDayWindows', () => {
	const windowsOf = (first: number, last: number) => [...splitIntoDayWindows(first, last)];

	test('one second and anything up to 86,400 seconds is one window', () => {
		assert.deepEqual(windowsOf(T0, T0), [{ start: T0, end: T0 }]);
		assert.deepEqual(windowsOf(T0, T0 + DAY - 1), [{ start: T0, end: T0 + DAY - 1 }]);
	});

	test('consecutive windows neither overlap nor leave a gap, each at most 86,400 distinct seconds', () => {
		const last = T0 + 7 * DAY + 12345;
		const windows = windowsOf(T0, last);
		assert.equal(windows.length, 8);
		assert.equal(windows[0].start, T0);
		assert.equal(windows.at(-1)?.end, last);
		for (const [index, window] of windows.entries()) {
			assert.ok(window.end - window.start <= DAY - 1);
			if (index > 0) assert.equal(window.start, windows[index - 1].end + 1);
		}
		assert.deepEqual(windows[7], { start: T0 + 7 * DAY, end: last });
	});

	test('86,401 seconds make a second window of one second; an empty range makes none', () => {
		assert.deepEqual(windowsOf(T0, T0 + DAY), [
			{ start: T0, end: T0 + DAY - 1 },
			{ start: T0 + DAY, end: T0 + DAY },
		]);
		assert.deepEqual(windowsOf(T0 + 1, T0), []);
	});

	test('windows are made one at a time: a range of 100 million windows hands out its first at once', () => {
		// 8,640,000,000,000 s is the last second a Date can hold; as an array these windows would not fit in memory.
		const windows = splitIntoDayWindows(T0, 8_640_000_000_000);
		assert.deepEqual(windows.next().value, { start: T0, end: T0 + DAY - 1 });
		assert.deepEqual(windows.next().value, { start: T0 + DAY, end: T0 + 2 * DAY - 1 });
		assert.deepEqual(windows.return(undefined), { value: undefined, done: true });
	});

	test('fractional seconds are a programming error, reported at the call', () => {
		assert.throws(() => splitIntoDayWindows(T0 + 0.5, T0 + 10), RangeError);
	});
});

describe('parseDateTimeValue', () => {
	const ms = T0 * 1000;

	test('Unix seconds and milliseconds, as numbers or numeric strings', () => {
		assert.equal(parseDateTimeValue(T0, 'UTC'), ms);
		assert.equal(parseDateTimeValue(ms, 'UTC'), ms);
		assert.equal(parseDateTimeValue(`${T0}`, 'UTC'), ms);
		assert.equal(parseDateTimeValue(` ${ms} `, 'UTC'), ms);
	});

	test('ISO strings with an offset ignore the time zone', () => {
		assert.equal(parseDateTimeValue('2024-05-01T08:00:00+08:00', 'America/New_York'), ms);
		assert.equal(parseDateTimeValue('2024-05-01T00:00:00Z', 'Asia/Shanghai'), ms);
		assert.equal(parseDateTimeValue('2024-05-01T00:00:00.250Z', 'UTC'), ms + 250);
		assert.equal(parseDateTimeValue('2024-05-01 08:00:00 +0800', 'UTC'), ms);
	});

	test('wall-clock strings (the date picker) are read in the given time zone, daylight saving included', () => {
		assert.equal(parseDateTimeValue('2024-05-01T08:00:00', 'Asia/Shanghai'), ms);
		assert.equal(parseDateTimeValue('2024-05-01', 'Asia/Shanghai'), ms - 8 * 3600 * 1000);
		assert.equal(parseDateTimeValue('2024-05-01T00:00:00', 'America/New_York'), ms + 4 * 3600 * 1000);
		assert.equal(parseDateTimeValue('2024-01-15T00:00:00', 'America/New_York'), Date.UTC(2024, 0, 15, 5));
		assert.equal(parseDateTimeValue('2024-05-01T00:00:00', 'UTC'), ms);
		assert.equal(parseDateTimeValue('2024-05-01T00:00:00', 'Not/A_Zone'), ms, 'an unknown zone reads as UTC');
	});

	test('Dates, Luxon-like DateTimes and RFC 2822 strings', () => {
		assert.equal(parseDateTimeValue(new Date(ms), 'UTC'), ms);
		assert.equal(parseDateTimeValue({ isValid: true, toMillis: () => ms }, 'UTC'), ms);
		assert.equal(parseDateTimeValue({ isValid: false, toMillis: () => NaN }, 'UTC'), undefined);
		assert.equal(parseDateTimeValue('Wed, 01 May 2024 00:00:00 GMT', 'UTC'), ms);
	});

	test('anything else is not a date', () => {
		for (const value of ['', '  ', 'yesterday', '2024-02-30', '2024-13-01T00:00:00Z', '2024-05-01T24:00:00', 'May 1', -5, NaN, null, undefined, {}, []]) {
			assert.equal(parseDateTimeValue(value, 'UTC'), undefined, JSON.stringify(value));
		}
	});
});

describe('labelOpercode', () => {
	test('known codes in English and Chinese; unknown ones "unknown"', () => {
		assert.deepEqual(labelOpercode(2002), { en: 'Agent sent a message', zh: '客服发送消息' });
		assert.deepEqual(labelOpercode('2003'), { en: 'Agent received a message', zh: '客服收到消息' });
		assert.deepEqual(labelOpercode(1000), { en: 'Session created, waiting to be accepted', zh: '创建未接入会话' });
		assert.deepEqual(labelOpercode(9999), { en: 'unknown', zh: '未知' });
		assert.deepEqual(labelOpercode(undefined), { en: 'unknown', zh: '未知' });
	});
});

describe('pickLeastLoadedAgent', () => {
	test('fewest accepted_case among status ≠ 0, first listed on a tie', () => {
		assert.deepEqual(
			pickLeastLoadedAgent([
				{ kf_account: 'a@oa', status: 1, accepted_case: 4 },
				{ kf_account: 'b@oa', status: 0, accepted_case: 0 },
				{ kf_account: 'c@oa', status: 3, accepted_case: 2 },
				{ kf_account: 'd@oa', status: 1, accepted_case: 2 },
			]),
			{ kf_account: 'c@oa', accepted_case: 2 },
		);
	});

	test('nobody online, an empty list or no list: undefined', () => {
		assert.equal(pickLeastLoadedAgent([{ kf_account: 'b@oa', status: 0, accepted_case: 0 }]), undefined);
		assert.equal(pickLeastLoadedAgent([]), undefined);
		assert.equal(pickLeastLoadedAgent(undefined), undefined);
	});
});
