/**
 * WeChat delivers a push up to 3 times when an answer does not arrive within 5 s (spec 3.5). A repeated push must get
 * the same answer and must not start a second execution.
 *
 * The store lives at module level (one per n8n process) and is bounded: entries expire after `DEDUP_TTL_MS`, checked
 * against `Date.now()` whenever the store is used (community nodes may not run timers), and the oldest entries go
 * first beyond `DEDUP_MAX_ENTRIES`. Keys carry the workflow and node, so two triggers (or two accounts) never see
 * each other's pushes. The TTL equals the default `maxTimestampAge`, so within that window a captured push replayed
 * with its valid signature is answered without a new execution too.
 */
import { textField, type PushFields } from './parsePush';

export const DEDUP_TTL_MS = 5 * 60 * 1000;
export const DEDUP_MAX_ENTRIES = 10_000;

export interface StoredReply {
	status: number;
	contentType: string;
	body: string;
}

interface Entry {
	expiresAt: number;
	reply: StoredReply;
}

// A Map iterates in insertion order and every entry gets the same TTL, so the oldest and the first to expire are at
// the front.
const store = new Map<string, Entry>();

function prune(now: number): void {
	for (const [key, entry] of store) {
		if (entry.expiresAt > now && store.size <= DEDUP_MAX_ENTRIES) break;
		store.delete(key);
	}
}

/**
 * What identifies a push (spec 3.5): a message by its MsgId; an event by FromUserName + CreateTime + Event, plus
 * EventKey when present — two menu clicks within the same second differ only there. No key, no de-duplication.
 */
export function deduplicationKey(scope: string, fields: PushFields): string | undefined {
	const from = textField(fields, 'FromUserName') ?? '';
	const msgId = textField(fields, 'MsgId') ?? textField(fields, 'MsgID');
	if (msgId) return JSON.stringify([scope, 'message', from, msgId]);
	const createTime = textField(fields, 'CreateTime');
	if (!createTime) return undefined;
	const kind = textField(fields, 'Event') ?? textField(fields, 'MsgType') ?? '';
	return JSON.stringify([scope, 'event', from, createTime, kind, textField(fields, 'EventKey') ?? '']);
}

/** The answer given the first time, if this push was seen within the TTL. */
export function recallReply(key: string, now: number): StoredReply | undefined {
	prune(now);
	const entry = store.get(key);
	return entry && entry.expiresAt > now ? entry.reply : undefined;
}

export function rememberReply(key: string, reply: StoredReply, now: number): void {
	store.delete(key);
	store.set(key, { expiresAt: now + DEDUP_TTL_MS, reply });
	prune(now);
}

/** For tests: the number of stored pushes, and a way to start from an empty store. */
export function deduplicationStoreSize(): number {
	return store.size;
}

export function clearDeduplicationStore(): void {
	store.clear();
}
