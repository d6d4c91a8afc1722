import { NodeOperationError, type IExecuteSingleFunctions } from 'n8n-workflow';

/**
 * Reading the Start Time / End Time parameters. n8n's date picker stores a wall-clock time without an offset
 * ("2024-05-01T08:00:00"), which n8n means in the workflow's time zone; expressions may instead yield ISO strings
 * with an offset, Luxon DateTimes, JS Dates or Unix timestamps. All of them end up as epoch milliseconds.
 */

/** Below this a number is taken as Unix seconds, above as milliseconds (1e11 s is the year 5138, 1e11 ms is 1973). */
const SECONDS_MILLISECONDS_BOUNDARY = 1e11;

const ISO_PATTERN =
	/^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

function offsetMinutes(zone: string): number {
	if (zone.toUpperCase() === 'Z') return 0;
	const sign = zone.startsWith('-') ? -1 : 1;
	const digits = zone.slice(1).replace(':', '');
	return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
}

/** How far `timeZone`'s wall clock is ahead of UTC at the instant `utcMs`. */
export function zoneOffsetMs(utcMs: number, timeZone: string): number {
	const parts = new Intl.DateTimeFormat('en-US', {
		timeZone,
		hourCycle: 'h23',
		year: 'numeric',
		month: 'numeric',
		day: 'numeric',
		hour: 'numeric',
		minute: 'numeric',
		second: 'numeric',
	}).formatToParts(new Date(utcMs));
	const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? 0);
	const wallAsUtc = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
	return wallAsUtc - (utcMs - (((utcMs % 1000) + 1000) % 1000));
}

/** The instant at which `timeZone`'s clocks show the wall time `wallMs` (given as if it were UTC). */
export function wallTimeToEpoch(wallMs: number, timeZone: string): number {
	try {
		const firstGuess = wallMs - zoneOffsetMs(wallMs, timeZone);
		// Near a daylight-saving change the offset at the first guess can differ from the one at the answer.
		return wallMs - zoneOffsetMs(firstGuess, timeZone);
	} catch {
		// An unknown zone name: UTC is the only reading that does not guess.
		return wallMs;
	}
}

function parseIso(text: string, timeZone: string): number | undefined {
	const match = ISO_PATTERN.exec(text);
	if (!match) return undefined;
	const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', zone] = match;
	const wallMs = Date.UTC(
		Number(year),
		Number(month) - 1,
		Number(day),
		Number(hour),
		Number(minute),
		Number(second),
		Number(fraction.padEnd(3, '0').slice(0, 3)),
	);
	// Date.UTC rolls 2024-02-30 over into March; a date that does not exist is an input error instead.
	const check = new Date(wallMs);
	if (
		check.getUTCFullYear() !== Number(year) ||
		check.getUTCMonth() !== Number(month) - 1 ||
		check.getUTCDate() !== Number(day) ||
		Number(hour) > 23 ||
		Number(minute) > 59 ||
		Number(second) > 59
	) {
		return undefined;
	}
	return zone === undefined ? wallTimeToEpoch(wallMs, timeZone) : wallMs - offsetMinutes(zone) * 60_000;
}

function fromNumber(value: number): number | undefined {
	if (!Number.isFinite(value) || value < 0) return undefined;
	return value < SECONDS_MILLISECONDS_BOUNDARY ? value * 1000 : value;
}

/**
 * Epoch milliseconds of a date parameter's value, or undefined when it is not a date. Strings without an offset are
 * read in `timeZone`; numbers below 1e11 are Unix seconds, larger ones milliseconds.
 */
export function parseDateTimeValue(value: unknown, timeZone: string): number | undefined {
	if (typeof value === 'number') return fromNumber(value);
	if (value instanceof Date) return fromNumber(value.getTime());
	if (typeof value === 'object' && value !== null) {
		// A Luxon DateTime from an expression such as {{ $now.minus({ days: 7 }) }}.
		const candidate = value as { toMillis?: unknown; isValid?: unknown };
		if (typeof candidate.toMillis === 'function' && candidate.isValid !== false) {
			return fromNumber(Number((candidate.toMillis as () => number).call(value)));
		}
		return undefined;
	}
	if (typeof value !== 'string') return undefined;
	const text = value.trim();
	if (text === '') return undefined;
	if (/^\d+(\.\d+)?$/.test(text)) return fromNumber(Number(text));
	// An ISO-shaped string is judged by parseIso alone: Date.parse would roll 2024-02-30 over into March.
	if (ISO_PATTERN.test(text)) return parseIso(text, timeZone);
	// Anything else JavaScript reads unambiguously, e.g. RFC 2822 "Wed, 01 May 2024 08:00:00 GMT".
	if (!/(GMT|UTC|Z|[+-]\d{2}:?\d{2})\s*$/i.test(text)) return undefined;
	const parsed = Date.parse(text);
	return Number.isNaN(parsed) ? undefined : parsed;
}

export interface ChatRecordRange {
	/** First second to query, inclusive. */
	first: number;
	/** Last second to query, inclusive (End Time itself is excluded). */
	last: number;
}

const DATE_HINT =
	'Pick a date, or use an expression that yields an ISO 8601 date such as 2024-05-01T08:00:00+08:00 (a date without an offset is read in the workflow\'s time zone), a Luxon DateTime such as {{ $now.minus({ days: 1 }) }}, or a Unix timestamp in seconds or milliseconds.';

export function readDate(context: IExecuteSingleFunctions, name: string, label: string): number {
	const raw = context.getNodeParameter(name, '') as unknown;
	const epochMs = parseDateTimeValue(raw, context.getTimezone());
	if (epochMs === undefined) {
		const shown = typeof raw === 'string' ? raw : JSON.stringify(raw);
		throw new NodeOperationError(
			context.getNode(),
			shown === '' || shown === undefined ? `${label} is empty` : `${label} "${shown}" is not a date`,
			{ itemIndex: context.getItemIndex(), description: DATE_HINT },
		);
	}
	return epochMs;
}

/**
 * The earliest Start Time: 2014-01-01 00:00 Beijing time. WeChat's customer-service chat records (多客服 and its record
 * API, the predecessor of getmsglist) date from 2014, so no Official Account has older ones. An earlier Start Time is
 * a mistake (a typo in the year, a timestamp in the wrong unit) that would only walk thousands of empty 24-hour
 * windows, one query each.
 */
export const EARLIEST_RECORD_MS = Date.parse('2014-01-01T00:00:00+08:00');
export const EARLIEST_RECORD_TEXT = '2014-01-01T00:00:00+08:00';

/**
 * How far End Time may lie in the future. No record is younger than now; a day of slack lets "tomorrow 00:00" in any
 * time zone through, and stops a far-future End Time (such as {{ 8640000000000000 }}) from making the node walk
 * millions of windows.
 */
export const MAX_END_AHEAD_MS = 24 * 60 * 60 * 1000;

/** An instant as ISO 8601; beyond what a Date can hold (±8.64e15 ms), the number itself. */
export function describeInstant(epochMs: number): string {
	const date = new Date(epochMs);
	return Number.isNaN(date.getTime()) ? `${epochMs} ms after 1970-01-01` : date.toISOString();
}

/**
 * The range [Start Time, End Time) in whole seconds. End Time is exclusive so that consecutive exports (yesterday
 * 00:00 → today 00:00, then today 00:00 → tomorrow 00:00) neither miss nor repeat a record stamped exactly at
 * midnight; chat records carry whole seconds, so a record counts when its second starts inside the range.
 */
export function readChatRecordRange(context: IExecuteSingleFunctions): ChatRecordRange {
	const startMs = readDate(context, 'startTime', 'Start Time');
	const endMs = readDate(context, 'endTime', 'End Time');
	const fail = (message: string, description: string): never => {
		throw new NodeOperationError(context.getNode(), message, { itemIndex: context.getItemIndex(), description });
	};
	if (startMs >= endMs) {
		fail(
			`Start Time (${describeInstant(startMs)}) is not before End Time (${describeInstant(endMs)})`,
			'Chat records are read from Start Time (included) up to End Time (excluded). Make End Time later than Start Time; the range may span any number of days.',
		);
	}
	if (startMs < EARLIEST_RECORD_MS) {
		fail(
			`Start Time (${describeInstant(startMs)}) is before ${EARLIEST_RECORD_TEXT}, earlier than any WeChat chat record`,
			`WeChat keeps customer-service chat records (客服聊天记录) from 2014 on. Set Start Time to ${EARLIEST_RECORD_TEXT} or later; a Unix timestamp must count seconds or milliseconds since 1970.`,
		);
	}
	const latestEndMs = Date.now() + MAX_END_AHEAD_MS;
	if (endMs > latestEndMs) {
		fail(
			`End Time (${describeInstant(endMs)}) is more than one day in the future`,
			`Chat records (聊天记录) exist only up to now. Set End Time to ${describeInstant(latestEndMs)} (one day from now) or earlier, e.g. {{ $now }} to export everything until this moment; a Unix timestamp must count seconds or milliseconds since 1970.`,
		);
	}
	return { first: Math.ceil(startMs / 1000), last: Math.ceil(endMs / 1000) - 1 };
}
