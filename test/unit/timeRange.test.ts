import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { parseDateTimeValue } from '../../nodes/WeChatCustomerService/resources/chatRecord/timeRange';

const T0 = 1714521600; // 2024-05-01T00:00:00Z

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
