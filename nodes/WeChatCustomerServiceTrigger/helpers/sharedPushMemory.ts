/**
 * The push memory every n8n process of a workflow shares, used when the trigger's option Share Push Memory Across
 * Processes is on (docs/wechat-protocol.md §5, "Across n8n processes").
 *
 * In n8n's queue mode several `n8n webhook` processes sit behind a load balancer, and WeChat's retry of a push can land
 * on another process than the first delivery. deduplicate.ts is per process, so that retry would start a second
 * execution. The one store a trigger's `webhook()` may use that every process shares is the workflow's static data:
 * n8n loads it from the database with the workflow for every production webhook request and saves it, when it
 * changed, as the request is done (on n8n 2.x before the answer is sent). This module keeps a bounded copy of the push memory there, layered over the process memory:
 * - recall: the process memory first, then the shared copy;
 * - remember: both. The process memory keeps its rule (when full, nothing live is evicted); the shared copy is bounded
 *   in entries and characters and, when full, drops its oldest entries: a WeChat retry comes within about 15 s and
 *   needs the newest ones, and the process that answered still guards against replays in its own memory.
 *
 * The copy is one string under `pushMemory`, one line per entry, oldest first:
 *   `<key> <expires at, epoch ms in base 36> <content digest or -> [<reply as JSON>]`
 * A string because n8n wraps every object in static data in a change-tracking proxy at each load and serializes the
 * whole of it again; a string is copied as it is, and looking a key up is one `indexOf`, not a parse — the cost per
 * push stays flat however full the copy is (README, "Running in queue mode", has the figures). Keys are cut to their
 * first 24 characters: SHA-256 digests in base64 (144 bits), or for an encrypted request its verified msg_signature
 * in hex (96 bits), beside the full digest of what a plaintext request's body was: nothing of a push is in clear. The plain "success" reply, by far the most common, is not
 * stored.
 *
 * Not atomic: two deliveries of one push handled at the same instant both read the copy before either is saved, so
 * both run. And n8n saves the whole static data, so of two saves at the same time the later wins; RecentlyShared
 * below puts a process's own entries back with its next save.
 */
import type { IDataObject } from 'n8n-workflow';

import { SUCCESS_REPLY } from './buildReply';
import { processPushMemory, type PushMemory, type Remembered, type StoredReply } from './deduplicate';

/** 1,000 entries is 500 pushes (a request entry and a push entry each): 30 pushes a second over WeChat's retries. */
export const SHARED_MAX_ENTRIES = 1000;
/** Entries without a stored reply take 40–80 characters; encrypted transfer replies about 700 more. */
export const SHARED_MAX_CHARS = 128 * 1024;
const STATIC_DATA_FIELD = 'pushMemory';
const HEADER = 'wechat-push-memory 1\n';
const KEY_LENGTH = 24;

const short = (key: string): string => key.slice(0, KEY_LENGTH);

function isPlainSuccess(reply: StoredReply): boolean {
	return reply.status === 200 && reply.contentType === 'text/plain' && reply.body === SUCCESS_REPLY;
}

/**
 * The copy as stored, or an empty one when it is missing or not ours (edited by hand, another format). Every line of
 * ours ends with a newline, which the loops below rely on.
 */
function readCopy(value: unknown): string {
	return typeof value === 'string' &&
		value.startsWith(HEADER) &&
		value.endsWith('\n') &&
		value.length <= SHARED_MAX_CHARS + HEADER.length
		? value
		: HEADER;
}

function parseLine(line: string): { expiresAt: number; remembered: Remembered } | undefined {
	const afterKey = line.indexOf(' ');
	const afterExpiry = line.indexOf(' ', afterKey + 1);
	if (afterKey < 0 || afterExpiry < 0) return undefined;
	const expiresAt = parseInt(line.slice(afterKey + 1, afterExpiry), 36);
	const afterDigest = line.indexOf(' ', afterExpiry + 1);
	const digest = line.slice(afterExpiry + 1, afterDigest < 0 ? undefined : afterDigest);
	if (!Number.isFinite(expiresAt) || digest === '') return undefined;
	let reply: StoredReply = { status: 200, contentType: 'text/plain', body: SUCCESS_REPLY };
	if (afterDigest >= 0) {
		try {
			const [status, contentType, body] = JSON.parse(line.slice(afterDigest + 1)) as unknown[];
			if (typeof status !== 'number' || typeof contentType !== 'string' || typeof body !== 'string') return undefined;
			reply = { status, contentType, body };
		} catch {
			return undefined;
		}
	}
	return { expiresAt, remembered: { reply, contentDigest: digest === '-' ? undefined : digest } };
}

function formatLine(key: string, expiresAt: number, digest: string | undefined, reply: StoredReply): string {
	const stored = isPlainSuccess(reply) ? '' : ` ${JSON.stringify([reply.status, reply.contentType, reply.body])}`;
	return `${short(key)} ${expiresAt.toString(36)} ${digest ?? '-'}${stored}\n`;
}

/**
 * Drops whole lines from the front (the oldest) while one has expired or the copy holds more than SHARED_MAX_ENTRIES
 * lines or SHARED_MAX_CHARS characters.
 */
function trim(copy: string, now: number): string {
	let lines = 0;
	for (let at = copy.indexOf('\n', HEADER.length); at >= 0; at = copy.indexOf('\n', at + 1)) lines++;
	let start = HEADER.length;
	while (start < copy.length) {
		const end = copy.indexOf('\n', start);
		const expired = (parseLine(copy.slice(start, end))?.expiresAt ?? 0) <= now;
		if (!expired && lines <= SHARED_MAX_ENTRIES && copy.length - start <= SHARED_MAX_CHARS) break;
		start = end + 1;
		lines--;
	}
	return HEADER + copy.slice(start);
}

/**
 * The entries this process wrote to the shared copy lately, written again with every later save. n8n saves the whole
 * static data, so of two requests handled at the same time by two processes the later save drops the other's entries;
 * with this, a process's next save puts its own back, and a copy loses another process's entries only until that
 * process saves again. Kept for `RECENT_MS` (WeChat's retries end within about 15 s) and at most SHARED_MAX_ENTRIES.
 */
export class RecentlyShared {
	/** Per trigger (its scope, as in PushSettings): each trigger's copy gets only its own entries back. */
	private byScope = new Map<string, Array<{ at: number; key: string; expiresAt: number; line: string }>>();

	add(scope: string, key: string, expiresAt: number, line: string, now: number): void {
		const entries = this.byScope.get(scope) ?? [];
		entries.push({ at: now, key, expiresAt, line });
		this.byScope.set(scope, entries);
	}

	/** Drops entries of `scope` again (their push was not started after all), so no later save writes them back. */
	forget(scope: string, keys: Set<string>): void {
		const entries = this.byScope.get(scope);
		if (entries) this.byScope.set(scope, entries.filter((entry) => !keys.has(entry.key)));
	}

	/** The lines of `scope` still worth writing again, oldest first, without the keys the copy already holds. */
	missingFrom(scope: string, keysInCopy: Set<string>, now: number): string {
		// Forget what is older than RECENT_MS, for every trigger (a process serves few), so nothing grows unbounded.
		for (const [name, entries] of this.byScope) {
			const from = entries.findIndex((entry) => entry.at > now - RECENT_MS);
			if (from < 0) this.byScope.delete(name);
			else this.byScope.set(name, entries.slice(Math.max(from, entries.length - SHARED_MAX_ENTRIES)));
		}
		return (this.byScope.get(scope) ?? [])
			.filter((entry) => !keysInCopy.has(entry.key) && entry.expiresAt > now)
			.map((entry) => entry.line)
			.join('');
	}

	/** @internal For tests: a fresh n8n process. */
	clear(): void {
		this.byScope.clear();
	}
}

const RECENT_MS = 60 * 1000;
/** This n8n process's entries (module level: one per process, like deduplicate.ts's memory). */
export const processRecentlyShared = new RecentlyShared();

function keysOf(copy: string): Set<string> {
	const keys = new Set<string>();
	for (let start = HEADER.length; start < copy.length; ) {
		const end = copy.indexOf('\n', start);
		keys.add(copy.slice(start, copy.indexOf(' ', start)));
		start = end + 1;
	}
	return keys;
}

/**
 * The process memory with the workflow's static data (`getWorkflowStaticData('node')`) as a copy every process shares.
 * `staticData` is only written when a push is remembered, so a refused request never makes n8n save anything.
 */
export function sharedPushMemory(
	staticData: IDataObject,
	scope: string,
	local: PushMemory = processPushMemory,
	recent: RecentlyShared = processRecentlyShared,
): PushMemory {
	return {
		recall(key: string, now: number): Remembered | undefined {
			const known = local.recall(key, now);
			if (known) return known;
			const copy = readCopy(staticData[STATIC_DATA_FIELD]);
			// The newest entry for the key counts: search from the end.
			const at = copy.lastIndexOf(`\n${short(key)} `);
			if (at < 0) return undefined;
			const entry = parseLine(copy.slice(at + 1, copy.indexOf('\n', at + 1)));
			return entry && entry.expiresAt > now ? entry.remembered : undefined;
		},
		remember(records, reply, expiresAt, now, maxBytes): boolean {
			const stored = local.remember(records, reply, expiresAt, now, maxBytes);
			const copy = readCopy(staticData[STATIC_DATA_FIELD]);
			const again = recent.missingFrom(scope, keysOf(copy), now);
			let lines = '';
			for (const record of records) {
				const line = formatLine(record.key, expiresAt, record.contentDigest, reply);
				recent.add(scope, short(record.key), expiresAt, line, now);
				lines += line;
			}
			staticData[STATIC_DATA_FIELD] = trim(copy + again + lines, now);
			return stored;
		},
		forget(keys: string[]): void {
			local.forget(keys);
			const forgotten = new Set(keys.map(short));
			recent.forget(scope, forgotten);
			const copy = readCopy(staticData[STATIC_DATA_FIELD]);
			let kept = HEADER;
			for (let start = HEADER.length; start < copy.length; ) {
				const end = copy.indexOf('\n', start);
				if (!forgotten.has(copy.slice(start, copy.indexOf(' ', start)))) kept += copy.slice(start, end + 1);
				start = end + 1;
			}
			staticData[STATIC_DATA_FIELD] = kept;
		},
	};
}
