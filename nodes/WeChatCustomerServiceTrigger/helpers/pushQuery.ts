/**
 * The query string of a push or handshake, read strictly. n8n's query parser turns `a=1&a=2` into a list and `a[b]=1`
 * into an object, and a name spelled `Encrypt_Type` is simply another key: each was a way to make the trigger read
 * something other than what WeChat signed. Every parameter WeChat sends must be absent or one string, and a known
 * name in other letter case is refused rather than ignored (docs/wechat-protocol.md §1).
 */
import type { IDataObject } from 'n8n-workflow';

export const PUSH_QUERY_PARAMETERS = [
	'signature',
	'timestamp',
	'nonce',
	'echostr',
	'encrypt_type',
	'msg_signature',
	'openid',
] as const;

export type PushQueryName = (typeof PUSH_QUERY_PARAMETERS)[number];
export type PushQuery = Partial<Record<PushQueryName, string>>;

const KNOWN_NAMES: ReadonlySet<string> = new Set(PUSH_QUERY_PARAMETERS);

/** WeChat's values are short; a longer one is not WeChat's. */
const MAX_VALUE_LENGTH = 256;

export type QueryResult = { ok: true; query: PushQuery } | { ok: false; reason: string };

export function readPushQuery(raw: IDataObject): QueryResult {
	const query: PushQuery = {};
	for (const name of Object.keys(raw)) {
		// WeChat's own names are looked up as they are; only another name is lower-cased, to catch a known one in
		// other letter case (which is refused) without lower-casing every name of every push.
		if (!KNOWN_NAMES.has(name)) {
			const lower = name.toLowerCase();
			if (!KNOWN_NAMES.has(lower)) continue;
			return { ok: false, reason: `query parameter ${lower} must be spelled in lower case` };
		}
		const known = name as PushQueryName;
		const value = raw[known];
		if (value === undefined) continue;
		if (typeof value !== 'string') return { ok: false, reason: `query parameter ${known} is repeated or not text` };
		if (value.length > MAX_VALUE_LENGTH) return { ok: false, reason: `query parameter ${known} is too long` };
		query[known] = value;
	}
	return { ok: true, query };
}
