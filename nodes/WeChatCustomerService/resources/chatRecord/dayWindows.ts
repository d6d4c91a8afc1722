/** WeChat's getmsglist rejects a query longer than 24 hours with 65417. */
export const SECONDS_PER_WINDOW = 24 * 60 * 60;

/** One getmsglist query range, unix seconds, both ends inclusive (as WeChat reads `starttime` and `endtime`). */
export interface DayWindow {
	start: number;
	end: number;
}

function* windowsFrom(first: number, last: number): Generator<DayWindow, void, undefined> {
	for (let start = first; start <= last; start += SECONDS_PER_WINDOW) {
		yield { start, end: Math.min(last, start + SECONDS_PER_WINDOW - 1) };
	}
}

/**
 * Splits the seconds `first` … `last` (both inclusive) into consecutive windows of at most 86,400 distinct seconds:
 * [s, s + 86399], [s + 86400, s + 172799], … , the last one clipped to `last`.
 *
 * Why 86399 and not 86400: WeChat reads both ends as inclusive, so windows that shared their boundary second would
 * return a record stamped exactly on it twice. A window of 86,399 s is also safe whether WeChat's "at most 24 hours"
 * means `endtime − starttime ≤ 86400` or `< 86400` (undocumented).
 *
 * The windows are made one at a time, as they are read: an export that stops at its limit never makes the rest, and
 * however long the range, only the windows being read exist at once.
 */
export function splitIntoDayWindows(first: number, last: number): Generator<DayWindow, void, undefined> {
	// Checked here, not inside the generator, so that a wrong call fails where it is made.
	if (!Number.isInteger(first) || !Number.isInteger(last)) {
		throw new RangeError('splitIntoDayWindows expects whole unix seconds');
	}
	return windowsFrom(first, last);
}
