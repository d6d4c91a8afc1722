import {
	NodeOperationError,
	updateDisplayOptions,
	type IDataObject,
	type IExecuteSingleFunctions,
	type INodeProperties,
	type INodePropertyOptions,
} from 'n8n-workflow';

import { getManyFields } from '../../descriptions/getManyFields';
import { weChatOperation, type SendToEndpoint } from '../../helpers/operation';
import { splitIntoDayWindows, type DayWindow } from './dayWindows';
import { labelOpercode } from './opercodes';
import { readSinceLastRunRange, saveCursor, type SinceLastRunRange } from './sinceLastRun';
import { readChatRecordRange } from './timeRange';

/** getmsglist returns at most 10,000 records per call. */
export const MAX_RECORDS_PER_PAGE = 10000;

interface ChatRecordFilters {
	openId: string;
	worker: string;
}

function readFilters(context: IExecuteSingleFunctions): ChatRecordFilters {
	const filters = context.getNodeParameter('filters', {}) as IDataObject;
	return {
		openId: String(filters.openId ?? '').trim(),
		worker: String(filters.worker ?? '').trim(),
	};
}

function readLimit(context: IExecuteSingleFunctions): number {
	if (context.getNodeParameter('returnAll', false) as boolean) return Infinity;
	const limit = Number(context.getNodeParameter('limit', 50));
	if (!Number.isInteger(limit) || limit < 1) {
		throw new NodeOperationError(context.getNode(), `Limit must be a whole number of at least 1, not ${limit}`, {
			itemIndex: context.getItemIndex(),
			description: 'Set Limit to how many chat records to return, or switch on Return All.',
		});
	}
	return limit;
}

/**
 * WeChat does not document whether the `msgid` it returns is the last record it sent (so the next page starts with
 * that record again) or the one after it. Either way at most the first record of a page can repeat the last one of
 * the page before, so that is the only place compared, on every field a record has.
 */
function sameRecord(a: IDataObject, b: IDataObject): boolean {
	return (
		a.openid === b.openid &&
		a.time === b.time &&
		a.opercode === b.opercode &&
		a.text === b.text &&
		a.worker === b.worker
	);
}

const WECHAT_RECORD_FIELDS = new Set(['openid', 'opercode', 'text', 'time', 'worker']);

/**
 * Turns WeChat records into n8n items. Built field by field rather than with `{ ...record }`: on 100,000 records the
 * spread was seven times slower and dominated the export. Fields WeChat may add later are still copied. Records come
 * in time order, many within the same second, so the ISO time of the last second is reused.
 */
function recordToItemConverter(): (record: IDataObject) => IDataObject {
	let lastSeconds: number | undefined;
	let lastIso: string | null = null;
	return (record) => {
		const seconds = Number(record.time);
		if (seconds !== lastSeconds) {
			lastSeconds = seconds;
			lastIso = Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : null;
		}
		const label = labelOpercode(record.opercode);
		const json: IDataObject = {
			openid: record.openid,
			opercode: record.opercode,
			text: record.text,
			time: record.time,
			worker: record.worker,
			timeIso: lastIso,
			opercodeLabel: label.en,
			opercodeLabelZh: label.zh,
		};
		for (const key in record) {
			if (!WECHAT_RECORD_FIELDS.has(key)) json[key] = record[key];
		}
		return json;
	};
}

interface Page {
	records: IDataObject[];
	nextMsgid: number;
}

function readPage(body: IDataObject): Page {
	const records = Array.isArray(body.recordlist) ? (body.recordlist as IDataObject[]) : [];
	return { records, nextMsgid: Number(body.msgid) };
}

/** What one export covers, read and checked before the first request. */
interface ExportRequest {
	first: number;
	last: number;
	limit: number;
	filters: ChatRecordFilters;
	/** Set for Range Type "Since Last Run": the cursor to save once every record was read. */
	sinceLastRun?: SinceLastRunRange;
}

function readExportRequest(context: IExecuteSingleFunctions): ExportRequest {
	if (context.getNodeParameter('rangeType', 'custom') === 'sinceLastRun') {
		const sinceLastRun = readSinceLastRunRange(context);
		// Every record of the range, whatever Limit says: a cut-off export could not say where the next one starts.
		const { first, last } = sinceLastRun;
		return { first, last, limit: Infinity, filters: readFilters(context), sinceLastRun };
	}
	return { ...readChatRecordRange(context), limit: readLimit(context), filters: readFilters(context) };
}

/** Exports, then (since last run) moves the cursor: only an export that read every window gets this far. */
async function runExport(
	context: IExecuteSingleFunctions,
	send: SendToEndpoint,
	request: ExportRequest,
): Promise<IDataObject[]> {
	const items = await exportRecords(context, send, request);
	if (request.sinceLastRun === undefined) return items;
	saveCursor(context, request.sinceLastRun);
	// One object for every item rather than a copy per record.
	const exportRange = request.sinceLastRun.report;
	for (const item of items) item.exportRange = exportRange;
	return items;
}

/** Which records become items, and how. */
interface RecordSelection {
	filtering: boolean;
	matches: (record: IDataObject) => boolean;
	toItem: (record: IDataObject) => IDataObject;
}

/**
 * Pages through one window of at most 24 hours into `output`, by `msgid` while pages come back full, and stops the
 * moment `output` holds `limit` items or `stopped()` says another window failed.
 */
async function exportWindow(
	context: IExecuteSingleFunctions,
	send: SendToEndpoint,
	window: DayWindow,
	output: IDataObject[],
	limit: number,
	selection: RecordSelection,
	stopped: () => boolean = () => false,
): Promise<void> {
	let msgid = 1;
	let previousLast: IDataObject | undefined;
	// Set once a page began with the previous page's last record: from then on one extra record is asked for.
	let pagesOverlap = false;
	while (!stopped()) {
		const remaining = limit - output.length;
		// With a filter, how many records yield the remaining matches is unknown: ask for full pages.
		const number = selection.filtering
			? MAX_RECORDS_PER_PAGE
			: Math.min(MAX_RECORDS_PER_PAGE, remaining + (pagesOverlap ? 1 : 0));
		const page = readPage(await send({ body: { starttime: window.start, endtime: window.end, msgid, number } }));

		let records = page.records;
		// Records carry no id, and one user can send two identical "[image]" records within a second, so equal
		// fields alone could drop a real record. When the ids are consecutive, a page that moved msgid on by exactly
		// its length started after the previous page's last record and cannot repeat it.
		const startedAfterPrevious = page.nextMsgid - msgid === page.records.length;
		if (
			previousLast !== undefined &&
			records.length > 0 &&
			!startedAfterPrevious &&
			sameRecord(records[0], previousLast)
		) {
			records = records.slice(1);
			pagesOverlap = true;
		}
		for (const record of records) {
			if (!selection.matches(record)) continue;
			output.push(selection.toItem(record));
			if (output.length >= limit) return;
		}

		// A page shorter than asked for is the window's last one.
		if (page.records.length < number) return;
		if (!(page.nextMsgid > msgid) && number > 1) {
			// Asking again with the same msgid would return the same page forever.
			throw new NodeOperationError(
				context.getNode(),
				`WeChat's chat-record answer did not move on to a next page (msgid ${String(page.nextMsgid)} after ${msgid})`,
				{
					itemIndex: context.getItemIndex(),
					description:
						'The export stopped instead of repeating the same records. Try a shorter time range, or try again later.',
				},
			);
		}
		previousLast = page.records[page.records.length - 1];
		msgid = page.nextMsgid;
	}
}

/** Windows fetched at the same time when every record is wanted; WeChat's per-minute limits leave room for this. */
const CONCURRENT_WINDOWS = 3;

/**
 * Reads any range: one query per window of at most 24 hours (WeChat answers 65417 for longer ones). With a limit,
 * windows are read in order and reading stops the moment the limit is reached, so no page or window is fetched that
 * the output does not need. With Return All every page of every window is needed anyway, and windows do not depend
 * on each other, so a few are read at once; the items still come out in time order.
 */
async function exportRecords(
	context: IExecuteSingleFunctions,
	send: SendToEndpoint,
	{ first, last, limit, filters }: ExportRequest,
): Promise<IDataObject[]> {
	const selection = (): RecordSelection => ({
		filtering: filters.openId !== '' || filters.worker !== '',
		matches: (record) =>
			(filters.openId === '' || record.openid === filters.openId) &&
			(filters.worker === '' || record.worker === filters.worker),
		toItem: recordToItemConverter(),
	});
	const windows = splitIntoDayWindows(first, last);

	if (limit !== Infinity) {
		const output: IDataObject[] = [];
		const inOrder = selection();
		for (const window of windows) {
			await exportWindow(context, send, window, output, limit, inOrder);
			if (output.length >= limit) break;
		}
		return output;
	}

	// One list per window, in the order the windows were taken, which is time order: items come out in time order
	// even though windows finish in any order.
	const outputs: IDataObject[][] = [];
	let failed = false;
	const reader = async () => {
		while (!failed) {
			const next = windows.next();
			if (next.done === true) return;
			const items: IDataObject[] = [];
			outputs.push(items);
			await exportWindow(context, send, next.value, items, Infinity, selection(), () => failed).catch(
				async (error: unknown) => {
					// The other readers stop before their next page: the execution fails anyway.
					failed = true;
					return await Promise.reject(error);
				},
			);
		}
	};
	// A range with fewer windows leaves the extra readers nothing to take: they end at once.
	await Promise.all(Array.from({ length: CONCURRENT_WINDOWS }, reader));
	const output: IDataObject[] = [];
	for (const items of outputs) for (const item of items) output.push(item);
	return output;
}

export const option: INodePropertyOptions = {
	name: 'Get Many',
	value: 'getAll',
	action: 'Get many chat records',
	description:
		'Export the chat records (聊天记录) of any time range; the node splits it into 24-hour queries and pages through each',
	routing: weChatOperation({
		method: 'POST',
		url: '/customservice/msgrecord/getmsglist',
		reads: true,
		// Everything is checked before the first request.
		read: readExportRequest,
		run: async (request, send, context) => await runExport(context, send, request),
	}),
};

const CUSTOM = { show: { rangeType: ['custom'] } };
const SINCE_LAST_RUN = { show: { rangeType: ['sinceLastRun'] } };

const properties: INodeProperties[] = [
	{
		displayName: 'Range Type',
		name: 'rangeType',
		type: 'options',
		noDataExpression: true,
		default: 'custom',
		options: [
			{
				name: 'Custom',
				value: 'custom',
				description: 'Records between Start Time and End Time',
			},
			{
				name: 'Since Last Run',
				value: 'sinceLastRun',
				description:
					'Records from where the previous production run of this workflow stopped, up to now minus a lag: scheduled exports with no gap and no repeat',
			},
		],
	},
	{
		displayName:
			'Each production run (Schedule Trigger, active workflow) exports every record since the previous successful run and remembers where it stopped. A run that fails moves nothing: the next one exports its range too. Manual runs show what the next run would export but never move the cursor. The cursor belongs to this node\'s name: renaming the node starts again at First Run Start.',
		name: 'sinceLastRunNotice',
		type: 'notice',
		default: '',
		displayOptions: SINCE_LAST_RUN,
	},
	{
		displayName: 'First Run Start',
		name: 'firstRunStart',
		type: 'dateTime',
		default: '',
		required: true,
		displayOptions: SINCE_LAST_RUN,
		description:
			'Where the very first run starts (included); later runs continue from where the previous one stopped and ignore this. Usually the moment your previous export method stopped. A date without an offset is read in the workflow\'s time zone.',
	},
	{
		displayName: 'Since Last Run Options',
		name: 'sinceLastRunOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: SINCE_LAST_RUN,
		options: [
			{
				displayName: 'End Alignment',
				name: 'endAlignment',
				type: 'options',
				default: 'none',
				options: [
					{ name: 'None', value: 'none', description: 'End at now minus the lag' },
					{
						name: 'Start of Hour',
						value: 'hour',
						description: 'End at the last full hour before now minus the lag',
					},
					{
						name: 'Start of Day',
						value: 'day',
						description:
							'End at the last midnight (workflow time zone) before now minus the lag: one export per calendar day',
					},
				],
				description: 'Whether to end each run on a round time, so that exports cover whole hours or days',
			},
			{
				displayName: 'Lag (Minutes)',
				name: 'lagMinutes',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 5,
				description:
					'How far behind now each run ends. WeChat may store a record a little after it happened; a record stamped within the lag is left for the next run instead of being missed.',
			},
			{
				displayName: 'Max Days per Run',
				name: 'maxDaysPerRun',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 31,
				description:
					'After a long pause, a run exports at most this many days and the next run continues (the output\'s exportRange.caughtUp is then false). Keeps one execution\'s memory bounded.',
			},
		],
	},
	{
		displayName: 'Start Time',
		name: 'startTime',
		type: 'dateTime',
		default: '',
		required: true,
		displayOptions: CUSTOM,
		description:
			'Records from this moment on (included), at the earliest 2014-01-01 (WeChat keeps no older chat records). Also accepts an expression yielding an ISO 8601 date or a Unix timestamp in seconds or milliseconds; a date without an offset is read in the workflow\'s time zone.',
	},
	{
		displayName: 'End Time',
		name: 'endTime',
		type: 'dateTime',
		default: '',
		required: true,
		displayOptions: CUSTOM,
		description:
			'Records before this moment (excluded), so consecutive exports neither overlap nor leave a gap; at most one day from now. Any range works: the node queries WeChat 24 hours at a time.',
	},
	...getManyFields.map((field) => ({
		...field,
		displayOptions: { show: { ...field.displayOptions?.show, ...CUSTOM.show } },
	})),
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		options: [
			{
				displayName: 'OpenID',
				name: 'openId',
				type: 'string',
				default: '',
				placeholder: 'oABC123…',
				description:
					'Only records of this user. Applied by the node after download, because WeChat cannot filter: every record in the range is still fetched, so it does not reduce API calls.',
			},
			{
				displayName: 'Worker',
				name: 'worker',
				type: 'string',
				default: '',
				placeholder: 'kf2001@gh_service',
				description:
					'Only records handled by this customer-service account (the record\'s worker). Applied by the node after download, because WeChat cannot filter: every record in the range is still fetched, so it does not reduce API calls.',
			},
		],
	},
];

export const fields = updateDisplayOptions(
	{ show: { resource: ['chatRecord'], operation: ['getAll'] } },
	properties,
);
