/**
 * The trigger's memory of pushes it has answered, for two jobs (docs/wechat-protocol.md §5):
 * - replay guard, always on: the same request again gets the same answer and starts nothing. In plaintext mode a
 *   request's (timestamp, nonce) may carry one body only, and another body is refused: without that, anyone who saw
 *   one push URL could send any body under its valid `signature`. (In the encrypted modes `msg_signature` covers
 *   the body, and the request is known by it.)
 * - de-duplication (option `deduplicate`): WeChat delivers a push up to 3 times when no answer arrives within 5 s; a
 *   push already answered (same MsgId, or same sender, CreateTime, Event and EventKey) gets the same answer again.
 *
 * Keys are SHA-256 digests of their parts, so an entry's size does not depend on what a sender put in the push. An
 * entry lives until its timestamp has left the accepted window (so a captured push cannot be replayed after its entry
 * is gone), at least `MIN_RETENTION_MS`. The store lives at module level (one per n8n process) and is bounded in
 * bytes: when full, nothing live is evicted — a flood cannot push out the entries that stop a replay — and a new push
 * is answered without being remembered (the caller logs that). Expiry is checked against the clock whenever the store
 * is used: community nodes may not run timers.
 */
import { hash } from 'crypto';

import type { PushFields } from './parsePush';
import { textField } from './parsePush';

/** WeChat's retries end within about 15 s; five minutes also covers the default timestamp window. */
export const MIN_RETENTION_MS = 5 * 60 * 1000;
/**
 * About 40,000 pushes (two entries each, about 830 bytes with a `success` answer): a sustained 130 pushes a second
 * over the default 5-minute window.
 */
export const DEFAULT_MEMORY_BYTES = 32 * 1024 * 1024;
/** A generous estimate of one entry's memory besides its reply and key: the Map slot, the heap slot, the object. */
const ENTRY_OVERHEAD_BYTES = 256;

export interface StoredReply {
	status: number;
	contentType: string;
	body: string;
}

interface Entry {
	expiresAt: number;
	bytes: number;
	/** For the replay guard: the digest of what the request's signature covered. */
	contentDigest?: string;
	reply: StoredReply;
}

const entries = new Map<string, Entry>();
/** A binary min-heap of expiry times; an item whose entry has since gone or changed is skipped when popped. */
const expiryHeap: Array<{ expiresAt: number; key: string }> = [];
let storedBytes = 0;

function heapPush(item: { expiresAt: number; key: string }): void {
	expiryHeap.push(item);
	let i = expiryHeap.length - 1;
	while (i > 0) {
		const parent = (i - 1) >> 1;
		if (expiryHeap[parent].expiresAt <= expiryHeap[i].expiresAt) break;
		[expiryHeap[parent], expiryHeap[i]] = [expiryHeap[i], expiryHeap[parent]];
		i = parent;
	}
}

function heapPop(): void {
	const last = expiryHeap.pop();
	if (!last || expiryHeap.length === 0) return;
	expiryHeap[0] = last;
	let i = 0;
	for (;;) {
		const left = 2 * i + 1;
		const right = left + 1;
		let smallest = i;
		if (left < expiryHeap.length && expiryHeap[left].expiresAt < expiryHeap[smallest].expiresAt) smallest = left;
		if (right < expiryHeap.length && expiryHeap[right].expiresAt < expiryHeap[smallest].expiresAt) smallest = right;
		if (smallest === i) return;
		[expiryHeap[smallest], expiryHeap[i]] = [expiryHeap[i], expiryHeap[smallest]];
		i = smallest;
	}
}

function prune(now: number): void {
	while (expiryHeap.length > 0 && expiryHeap[0].expiresAt <= now) {
		const { key, expiresAt } = expiryHeap[0];
		heapPop();
		const entry = entries.get(key);
		if (entry && entry.expiresAt === expiresAt) {
			entries.delete(key);
			storedBytes -= entry.bytes;
		}
	}
}

/** A fixed-size key for any parts; JSON keeps ["a", "bc"] and ["ab", "c"] apart. */
export function memoryKey(parts: string[]): string {
	return hash('sha256', JSON.stringify(parts), 'base64');
}

/**
 * A digest of a plaintext push's body, which no signature covers. (In the encrypted modes the verified
 * `msg_signature` already is a digest of `Encrypt` bound to the timestamp and nonce, and serves instead.)
 */
export function contentDigest(content: Buffer | string): string {
	return hash('sha256', content, 'base64');
}

export interface Remembered {
	reply: StoredReply;
	contentDigest?: string;
}

export function recall(key: string, now: number): Remembered | undefined {
	prune(now);
	const entry = entries.get(key);
	return entry && entry.expiresAt > now ? entry : undefined;
}

/** An entry's estimated memory: its overhead, and its reply and key at two bytes a character. */
function entryBytes(reply: StoredReply, key: string): number {
	return ENTRY_OVERHEAD_BYTES + 2 * (reply.body.length + key.length);
}

/**
 * Remembers the answer under every key given (they share one entry's reply). Returns false, remembering nothing,
 * when that would take the store beyond `maxBytes`.
 */
export function remember(
	records: Array<{ key: string; contentDigest?: string }>,
	reply: StoredReply,
	expiresAt: number,
	now: number,
	maxBytes: number,
): boolean {
	prune(now);
	const fresh = records.filter((record) => !entries.has(record.key));
	const adding = fresh.reduce((sum, record) => sum + entryBytes(reply, record.key), 0);
	if (storedBytes + adding > maxBytes) return false;
	for (const record of fresh) {
		const bytes = entryBytes(reply, record.key);
		entries.set(record.key, { expiresAt, bytes, contentDigest: record.contentDigest, reply });
		heapPush({ expiresAt, key: record.key });
		storedBytes += bytes;
	}
	return true;
}

/**
 * Forgets entries again: a push whose execution n8n could not create was answered with an error, so WeChat's next
 * delivery must run it rather than get the stored answer. Their heap items are skipped when they come up.
 */
export function forget(keys: string[]): void {
	for (const key of keys) {
		const entry = entries.get(key);
		if (!entry) continue;
		entries.delete(key);
		storedBytes -= entry.bytes;
	}
}

/** What receivePush asks of a push memory: this process's (below) or one shared by processes (sharedPushMemory.ts). */
export interface PushMemory {
	recall(key: string, now: number): Remembered | undefined;
	remember(
		records: Array<{ key: string; contentDigest?: string }>,
		reply: StoredReply,
		expiresAt: number,
		now: number,
		maxBytes: number,
	): boolean;
	/** Drops what a request remembered whose push n8n then failed to start (webhook()). */
	forget(keys: string[]): void;
}

export const processPushMemory: PushMemory = { recall, remember, forget };

/** Field shapes WeChat uses; anything else is not a genuine push and must not reach the store. */
const OPENID = /^[A-Za-z0-9_-]{1,64}$/;
const DIGITS = /^[0-9]{1,20}$/;
const EVENT = /^[A-Za-z0-9_]{1,64}$/;
const MAX_EVENT_KEY_LENGTH = 1024;

/** `key` hashes on demand: with Ignore Retried Pushes off only the shape checks are needed, not the digest. */
export type PushIdentity = { ok: true; key: () => string } | { ok: false; reason: string };

/**
 * What identifies a push (docs/wechat-protocol.md §5): a message by sender and MsgId; an event by sender, CreateTime,
 * Event and EventKey — two menu clicks within the same second differ only there. The fields are shape-checked first;
 * a push that fails is refused by the caller.
 */
export function pushIdentity(scope: string, fields: PushFields): PushIdentity {
	const from = textField(fields, 'FromUserName') ?? '';
	if (!OPENID.test(from)) return { ok: false, reason: 'FromUserName is not an OpenID' };
	const createTime = textField(fields, 'CreateTime');
	if (createTime === undefined || !DIGITS.test(createTime)) {
		return { ok: false, reason: 'CreateTime is not a Unix time' };
	}
	const msgId = textField(fields, 'MsgId') ?? textField(fields, 'MsgID');
	if (msgId !== undefined) {
		if (!DIGITS.test(msgId)) return { ok: false, reason: 'MsgId is not a number' };
		return { ok: true, key: () => memoryKey([scope, 'message', from, msgId]) };
	}
	const kind = textField(fields, 'Event') ?? textField(fields, 'MsgType') ?? '';
	if (!EVENT.test(kind)) return { ok: false, reason: 'Event is not an event name' };
	const eventKey = textField(fields, 'EventKey') ?? '';
	if (eventKey.length > MAX_EVENT_KEY_LENGTH) return { ok: false, reason: 'EventKey is too long' };
	return { ok: true, key: () => memoryKey([scope, 'event', from, createTime, kind, eventKey]) };
}

/** @internal For tests and the benchmark: the number of entries. Left out of the published type declarations. */
export function deduplicationStoreSize(): number {
	return entries.size;
}

/** @internal For tests: the estimated bytes of every entry. */
export function deduplicationStoreBytes(): number {
	return storedBytes;
}

/** @internal For tests and the benchmark: start as a fresh n8n process would, with nothing remembered. */
export function clearDeduplicationStore(): void {
	entries.clear();
	expiryHeap.length = 0;
	storedBytes = 0;
}
