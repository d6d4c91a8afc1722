/**
 * msgrecord/getmsglist: `{starttime, endtime, msgid, number}` → `{recordlist, number, msgid}`.
 *
 * Records with starttime <= time <= endtime (both inclusive), in msgid order, starting at the request's msgid.
 * Parameter checks: any of the four not an integer, number outside 1…10000, msgid < 1 or endtime < starttime → 65416;
 * endtime − starttime > 86400 → 65417 (exactly 86400 is accepted).
 *
 * The returned msgid depends on EmulatorSettings.msgidMode, because WeChat does not document it:
 * 'next' — the id to ask for next (last returned + 1); 'last' — the last returned id, so asking with it returns that
 * record again and clients must de-duplicate. With no records returned, the request's msgid comes back.
 */
import { wechatError } from '../wechatErrors';
import { type Endpoint, jsonBody } from './types';

export const MAX_RECORDS_PER_CALL = 10000;
export const MAX_RANGE_SECONDS = 86400;

export const chatRecordEndpoints: Endpoint[] = [
	{
		path: '/customservice/msgrecord/getmsglist',
		methods: ['POST'],
		guard: 'kf',
		body: 'json',
		handle(request, { state }) {
			const body = jsonBody(request);
			const { starttime, endtime, msgid, number } = body;
			if (![starttime, endtime, msgid, number].every((v) => Number.isInteger(v))) return wechatError(65416);
			const [start, end, fromId, count] = [starttime, endtime, msgid, number] as number[];
			if (count < 1 || count > MAX_RECORDS_PER_CALL || fromId < 1 || end < start) return wechatError(65416);
			if (end - start > MAX_RANGE_SECONDS) return wechatError(65417);

			const [from, to] = state.chatRecordRange(start, end);
			// msgid = index + 1, so the first record at or after the requested id is at index fromId - 1.
			const first = Math.max(from, fromId - 1);
			const page = state.chatRecords.slice(first, Math.min(to, first + count));
			const lastId = page.length > 0 ? page[page.length - 1].msgid : undefined;
			const nextMsgid = lastId === undefined ? fromId : state.settings.msgidMode === 'next' ? lastId + 1 : lastId;
			return {
				recordlist: page.map((r) => ({
					openid: r.openid,
					opercode: r.opercode,
					text: r.text,
					time: r.time,
					worker: r.worker,
				})),
				number: page.length,
				msgid: nextMsgid,
			};
		},
	},
];
