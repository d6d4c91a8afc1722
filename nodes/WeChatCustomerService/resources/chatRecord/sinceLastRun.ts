import { NodeOperationError, type IDataObject, type IExecuteSingleFunctions } from 'n8n-workflow';

import {
	describeInstant,
	EARLIEST_RECORD_MS,
	EARLIEST_RECORD_TEXT,
	readDate,
	wallTimeToEpoch,
	zoneOffsetMs,
} from './timeRange';

/**
 * Range "Since Last Run": each production run exports [where the previous successful run stopped, now − lag), and
 * remembers the end in n8n's workflow static data (docs/incremental-export.md says why each rule is what it is).
 *
 * - The cursor is the first second NOT yet exported; ranges are half-open in whole seconds, so a record stamped on
 *   the boundary second belongs to exactly one run.
 * - It is written only after the whole export succeeded. n8n saves changed static data at the end of every
 *   non-manual execution, failed ones included, so a cursor written before a failure would skip records.
 * - A manual run never writes it: n8n does not save static data after manual executions anyway, and a run that looks
 *   like it moved the cursor but did not would mislead. The output says `cursorMoved: false`.
 */

/** Key in the node's static data (n8n keys node static data by the node's name). */
export const CURSOR_KEY = 'chatRecordCursor';

const SECONDS_PER_DAY = 86400;

export type EndAlignment = 'none' | 'hour' | 'day';

export interface StoredCursor {
	/** The first second (unix) the next run exports: everything before it has been exported. */
	exportedUntil: number;
	exportedUntilIso: string;
	savedAt: string;
	executionId: string;
}

export interface SinceLastRunRange {
	/** First second to query, inclusive. */
	first: number;
	/** Last second to query, inclusive. */
	last: number;
	/** What the output reports; also what the cursor becomes. */
	report: ExportRangeReport;
}

/** Added to every output item of a since-last-run export, so the workflow can name files after the range. */
export interface ExportRangeReport extends IDataObject {
	/** Records from this instant on (included). */
	start: string;
	/** Records before this instant (excluded); the cursor after this run. */
	end: string;
	/** Where the start came from: the previous run's cursor, or First Run Start. */
	startedFrom: 'previousRun' | 'firstRunStart';
	/** False when Max Days per Run cut the range short: the next run continues from `end`. */
	caughtUp: boolean;
	/** False for a manual run, which never moves the cursor. */
	cursorMoved: boolean;
}

function storedCursor(context: IExecuteSingleFunctions): StoredCursor | undefined {
	const cursor = context.getWorkflowStaticData('node')[CURSOR_KEY] as StoredCursor | undefined;
	if (cursor === undefined) return undefined;
	if (typeof cursor !== 'object' || cursor === null || !Number.isSafeInteger(cursor.exportedUntil)) {
		// Never guessed over: a wrong cursor would skip or repeat records.
		throw new NodeOperationError(context.getNode(), 'The saved chat-record cursor is unreadable', {
			itemIndex: context.getItemIndex(),
			description:
				'The workflow\'s static data holds something this node did not write. Export the missing range once with Range Type "Custom", then rename this node (its cursor is kept under its name) so that it starts afresh at First Run Start.',
		});
	}
	return cursor;
}

function readNumberOption(
	context: IExecuteSingleFunctions,
	options: IDataObject,
	name: string,
	label: string,
	fallback: number,
	min: number,
): number {
	const value = options[name] === undefined ? fallback : Number(options[name]);
	if (!Number.isFinite(value) || value < min) {
		throw new NodeOperationError(context.getNode(), `${label} must be a number of at least ${min}, not ${String(options[name])}`, {
			itemIndex: context.getItemIndex(),
			description: `Set ${label} in the node's Since Last Run options, or remove the option to use ${fallback}.`,
		});
	}
	return value;
}

/** The start of the hour or day (in `timeZone`) that `epochMs` falls in. */
export function alignDown(epochMs: number, alignment: EndAlignment, timeZone: string): number {
	if (alignment === 'none') return epochMs;
	let offset: number;
	try {
		offset = zoneOffsetMs(epochMs, timeZone);
	} catch {
		offset = 0;
	}
	const wallMs = epochMs + offset;
	const unit = alignment === 'hour' ? 3_600_000 : SECONDS_PER_DAY * 1000;
	return wallTimeToEpoch(wallMs - (((wallMs % unit) + unit) % unit), timeZone);
}

/**
 * n8n hands every input item to the operation; a since-last-run export is one per execution. A second item would
 * export the (empty) rest, and if it failed the first item's records would be dropped with the cursor already moved.
 */
function requireSingleInputItem(context: IExecuteSingleFunctions): void {
	// With Execute Once n8n hands the node only the first item, but the execute data still lists them all.
	if (context.getNode().executeOnce === true) return;
	const count = context.getExecuteData().data.main?.[0]?.length ?? 1;
	if (count > 1) {
		throw new NodeOperationError(
			context.getNode(),
			`Since Last Run exports once per execution, but this node received ${count} input items`,
			{
				itemIndex: context.getItemIndex(),
				description:
					'Turn on the node\'s Settings → Execute Once, or connect it straight to the Schedule Trigger. Nothing was exported and the cursor did not move.',
			},
		);
	}
}

/** Reads the cursor and options and works out this run's range; nothing is sent or saved here. */
export function readSinceLastRunRange(context: IExecuteSingleFunctions, nowMs = Date.now()): SinceLastRunRange {
	requireSingleInputItem(context);
	const options = context.getNodeParameter('sinceLastRunOptions', {}) as IDataObject;
	const lagMinutes = readNumberOption(context, options, 'lagMinutes', 'Lag (Minutes)', 5, 0);
	const maxDays = readNumberOption(context, options, 'maxDaysPerRun', 'Max Days per Run', 31, 1);
	const alignment = String(options.endAlignment ?? 'none') as EndAlignment;

	const cursor = storedCursor(context);
	let start: number;
	if (cursor) {
		start = cursor.exportedUntil;
	} else {
		const firstMs = readDate(context, 'firstRunStart', 'First Run Start');
		if (firstMs < EARLIEST_RECORD_MS) {
			throw new NodeOperationError(
				context.getNode(),
				`First Run Start (${describeInstant(firstMs)}) is before ${EARLIEST_RECORD_TEXT}, earlier than any WeChat chat record`,
				{
					itemIndex: context.getItemIndex(),
					description: `Set First Run Start to ${EARLIEST_RECORD_TEXT} or later, usually the moment the previous export method stopped.`,
				},
			);
		}
		start = Math.ceil(firstMs / 1000);
	}

	const safeEndMs = alignDown(nowMs - lagMinutes * 60_000, alignment, context.getTimezone());
	let end = Math.floor(safeEndMs / 1000);
	const limit = start + Math.round(maxDays * SECONDS_PER_DAY);
	const caughtUp = end <= limit;
	if (!caughtUp) end = limit;
	// Nothing new yet (a run within the lag of the previous one): an empty range, the cursor stays.
	if (end < start) end = start;

	return {
		first: start,
		last: end - 1,
		report: {
			start: new Date(start * 1000).toISOString(),
			end: new Date(end * 1000).toISOString(),
			startedFrom: cursor ? 'previousRun' : 'firstRunStart',
			caughtUp,
			cursorMoved: context.getMode() !== 'manual' && end > start,
		},
	};
}

/** Called only after every record of the range was read: from now on the next run starts at `report.end`. */
export function saveCursor(context: IExecuteSingleFunctions, range: SinceLastRunRange): void {
	const { report } = range;
	context.logger.info(
		`WeChat chat records since last run: ${report.start} until ${report.end} exported; ${
			report.cursorMoved ? 'the cursor moved to the end' : 'the cursor did not move (manual run or empty range)'
		}${report.caughtUp ? '' : '; Max Days per Run reached, the next run continues'}`,
	);
	if (!report.cursorMoved) return;
	const cursor: StoredCursor = {
		exportedUntil: range.last + 1,
		exportedUntilIso: report.end,
		savedAt: new Date().toISOString(),
		executionId: context.getExecutionId(),
	};
	context.getWorkflowStaticData('node')[CURSOR_KEY] = cursor;
}
