import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { splitIntoDayWindows } from '../../nodes/WeChatCustomerService/resources/chatRecord/dayWindows';

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
