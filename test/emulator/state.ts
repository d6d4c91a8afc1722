/**
 * Everything the emulated Official Account "has": kf accounts, followers, sessions, the waiting queue, chat records,
 * uploaded media, plus the switches tests flip (verified account, kf feature, send quota, IP whitelist) and the clock.
 *
 * The clock is the emulator's own notion of now (Date.now() + an offset tests move with advanceTime), so token expiry,
 * the 48-hour send window and media expiry can be tested without waiting.
 */
import { createHash, randomBytes } from 'node:crypto';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export type MediaType = 'image' | 'voice' | 'video' | 'thumb';
export type MsgidMode = 'next' | 'last';

export interface KfAccount {
	kf_account: string;
	kf_nick: string;
	/** WeChat sends kf_id as a numeric string. */
	kf_id: string;
	kf_headimgurl: string;
	/** The personal WeChat ID bound to the account; unbound accounts cannot take sessions (65402). */
	kf_wx?: string;
	invite_wx?: string;
	/** unix seconds */
	invite_expire_time?: number;
	invite_status?: 'waiting' | 'rejected' | 'expired';
	online: boolean;
	/** getonlinekflist `status`: 0 offline, 1 web online. */
	status: number;
	accepted_case: number;
	/** What uploadheadimg last received (the emulator keeps the facts, not the picture). */
	headimg?: { filename: string; size: number; sha256: string };
}

export interface Follower {
	openid: string;
	subscribed: boolean;
	/** ms on the emulator clock: the user's last message, which opens the send window. */
	lastInteractionAt: number;
	/** Custom messages sent since lastInteractionAt (45047 once it reaches the quota). */
	sentInWindow: number;
	/** ms; the last custom message the OA sent, which also counts as an exchange for typing. */
	lastSentAt?: number;
	/** ms; a typing indicator is showing until then. */
	typingUntil: number;
}

export interface Session {
	openid: string;
	kf_account: string;
	/** unix seconds */
	createtime: number;
}

export interface WaitingCase {
	openid: string;
	/** unix seconds */
	latest_time: number;
}

export interface ChatRecord {
	/** 1-based, in time order (ids are renumbered whenever records are added, see addChatRecords). */
	msgid: number;
	openid: string;
	opercode: number;
	text: string;
	/** unix seconds */
	time: number;
	worker: string;
}

export interface MediaItem {
	media_id: string;
	type: MediaType;
	/** unix seconds */
	created_at: number;
	filename: string;
	contentType: string;
	size: number;
	sha256: string;
	data?: Buffer;
	/** Permanent material never expires; temporary media expire after 3 days. */
	permanent: boolean;
}

export interface SentMessage {
	touser: string;
	msgtype: string;
	/** The whole request body as received. */
	body: Record<string, unknown>;
	kf_account?: string;
	/** ms on the emulator clock */
	at: number;
}

export interface TypingCommand {
	touser: string;
	command: string;
	at: number;
}

export interface AddKfAccountInput {
	kf_account: string;
	kf_nick: string;
	online?: boolean;
	accepted_case?: number;
	kf_wx?: string;
	kf_headimgurl?: string;
	invite_wx?: string;
	invite_expire_time?: number;
	invite_status?: 'waiting' | 'rejected' | 'expired';
}

export interface AddFollowerOptions {
	/** ms on the emulator clock; default now. */
	lastInteractionAt?: number;
	/** default true */
	subscribed?: boolean;
}

export interface SeedChatRecordsOptions {
	/** unix seconds, inclusive */
	start: number;
	/** unix seconds, inclusive */
	end: number;
	count: number;
	/** Relative weight per 24-hour day counted from `start`; days beyond the array get weight 0. Default: even. */
	distribution?: number[];
	/** default: the followers, or generated openids when there are none */
	openids?: string[];
	/** default: the kf accounts, or one made-up worker when there are none */
	workers?: string[];
	/** default [2002, 2003] (the only codes the current getmsglist doc lists) */
	opercodes?: number[];
	/** PRNG seed, so a seeded history is reproducible; default 1 */
	seed?: number;
}

export interface EmulatorSettings {
	accountVerified: boolean;
	kfEnabled: boolean;
	/** Custom messages allowed per user message (current rule 5; 2021 rules said 20). */
	sendQuotaPerWindow: number;
	/** The window a user message opens, ms (48 h). */
	sendWindowMs: number;
	msgidMode: MsgidMode;
	ipWhitelist: { enabled: boolean; callerIp: string };
	/** When set, kfaccount/add requires the part after '@' to equal it (as WeChat does); unset accepts any valid ID. */
	oaWechatId?: string;
	maxKfAccounts: number;
	/** Bytes; text messages above it answer 45002 (community-reported limit). */
	maxTextBytes: number;
}

export function defaultSettings(): EmulatorSettings {
	return {
		accountVerified: true,
		kfEnabled: true,
		sendQuotaPerWindow: 5,
		sendWindowMs: 48 * HOUR,
		msgidMode: 'next',
		ipWhitelist: { enabled: false, callerIp: '203.0.113.7' },
		maxKfAccounts: 100,
		maxTextBytes: 2048,
	};
}

/** A small deterministic PRNG (mulberry32) so seeded chat histories are reproducible. */
export function seededRandom(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const OPENID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Real OA openids are 28 characters starting with 'o'. */
export function makeOpenid(random: () => number = Math.random): string {
	let id = 'o';
	for (let i = 0; i < 27; i++) id += OPENID_ALPHABET[Math.floor(random() * 64)];
	return id;
}

const USER_LINES = [
	'Hello, is anyone there?',
	'When will my order ship?',
	'I would like a refund for order 1024',
	'[image]',
	'How do I change my delivery address?',
	'[voice]',
	'Thanks!',
	'Do you have this in size M?',
	'[video]',
	'我想咨询一下发票的问题',
];
const WORKER_LINES = [
	'Hello, how can I help you?',
	'Your order has shipped and should arrive in 2 days.',
	'Could you send me the order number?',
	'[image]',
	'The refund has been processed.',
	'您好，请问还有什么可以帮您？',
	'You are welcome!',
];

export class EmulatorState {
	readonly kfAccounts = new Map<string, KfAccount>();
	readonly followers = new Map<string, Follower>();
	/** Keyed by openid: a user is served by at most one kf. */
	readonly sessions = new Map<string, Session>();
	readonly waitQueue: WaitingCase[] = [];
	/** Always sorted by time with msgid = index + 1. */
	chatRecords: ChatRecord[] = [];
	readonly media = new Map<string, MediaItem>();
	/** Video download links media/get handed out, by their `vkey`. */
	readonly videoLinks = new Map<string, { mediaId: string; expiresAt: number }>();
	readonly sentMessages: SentMessage[] = [];
	readonly typingCommands: TypingCommand[] = [];
	settings: EmulatorSettings;
	private clockOffset = 0;
	private nextKfId = 1001;

	constructor(settings?: Partial<EmulatorSettings>) {
		this.settings = { ...defaultSettings(), ...settings };
	}

	now(): number {
		return Date.now() + this.clockOffset;
	}

	nowSeconds(): number {
		return Math.floor(this.now() / 1000);
	}

	advanceTime(ms: number): void {
		this.clockOffset += ms;
	}

	/** Back to an empty account; the settings given at start are kept unless `settings` is passed. */
	reset(settings?: Partial<EmulatorSettings>): void {
		this.kfAccounts.clear();
		this.followers.clear();
		this.sessions.clear();
		this.waitQueue.length = 0;
		this.chatRecords = [];
		this.media.clear();
		this.sentMessages.length = 0;
		this.typingCommands.length = 0;
		this.clockOffset = 0;
		this.nextKfId = 1001;
		if (settings) this.settings = { ...defaultSettings(), ...settings };
	}

	// ── kf accounts ────────────────────────────────────────────────────────────────────────────────

	addKfAccount(input: AddKfAccountInput): KfAccount {
		const online = input.online ?? false;
		const account: KfAccount = {
			kf_account: input.kf_account,
			kf_nick: input.kf_nick,
			kf_id: String(this.nextKfId++),
			kf_headimgurl: input.kf_headimgurl ?? '',
			online,
			status: online ? 1 : 0,
			accepted_case: input.accepted_case ?? 0,
		};
		// Online implies someone is logged in, so an online account without kf_wx gets a plausible one.
		const kfWx = input.kf_wx ?? (online ? `worker_${account.kf_id}` : undefined);
		if (kfWx !== undefined) account.kf_wx = kfWx;
		if (input.invite_wx !== undefined) {
			account.invite_wx = input.invite_wx;
			account.invite_expire_time = input.invite_expire_time ?? this.nowSeconds() + 7 * 86400;
			account.invite_status = input.invite_status ?? 'waiting';
		}
		this.kfAccounts.set(account.kf_account, account);
		return account;
	}

	setOnline(kfAccount: string, online: boolean, acceptedCase?: number): void {
		const account = this.requireKfAccount(kfAccount);
		account.online = online;
		account.status = online ? 1 : 0;
		if (online && account.kf_wx === undefined) account.kf_wx = `worker_${account.kf_id}`;
		if (acceptedCase !== undefined) account.accepted_case = acceptedCase;
	}

	/** Simulates the invited worker answering the invitation in their WeChat. */
	resolveInvitation(kfAccount: string, outcome: 'accepted' | 'rejected' | 'expired'): void {
		const account = this.requireKfAccount(kfAccount);
		if (account.invite_wx === undefined) throw new Error(`${kfAccount} has no pending invitation`);
		if (outcome === 'accepted') {
			account.kf_wx = account.invite_wx;
			delete account.invite_wx;
			delete account.invite_expire_time;
			delete account.invite_status;
		} else {
			account.invite_status = outcome;
		}
	}

	/** 'expired' is derived from the clock, as WeChat reports it without anyone acting. */
	inviteStatus(account: KfAccount): KfAccount['invite_status'] {
		if (account.invite_status === 'waiting' && (account.invite_expire_time ?? Infinity) <= this.nowSeconds()) {
			return 'expired';
		}
		return account.invite_status;
	}

	requireKfAccount(kfAccount: string): KfAccount {
		const account = this.kfAccounts.get(kfAccount);
		if (!account) throw new Error(`unknown kf account ${kfAccount}`);
		return account;
	}

	// ── followers ──────────────────────────────────────────────────────────────────────────────────

	addFollower(openid: string, options: AddFollowerOptions = {}): Follower {
		const follower: Follower = {
			openid,
			subscribed: options.subscribed ?? true,
			lastInteractionAt: options.lastInteractionAt ?? this.now(),
			sentInWindow: 0,
			typingUntil: 0,
		};
		this.followers.set(openid, follower);
		return follower;
	}

	/** The user sent a message: a new send window opens and the per-window count starts again. */
	recordUserMessage(openid: string, at: number = this.now()): void {
		const follower = this.followers.get(openid) ?? this.addFollower(openid, { lastInteractionAt: at });
		follower.lastInteractionAt = at;
		follower.sentInWindow = 0;
	}

	// ── sessions and the waiting queue ─────────────────────────────────────────────────────────────

	/** latestTime in unix seconds; default now. Re-adding a waiting user updates the time. */
	addWaiting(openid: string, latestTime: number = this.nowSeconds()): void {
		if (!this.followers.has(openid)) this.addFollower(openid);
		const existing = this.waitQueue.find((c) => c.openid === openid);
		if (existing) existing.latest_time = latestTime;
		else this.waitQueue.push({ openid, latest_time: latestTime });
	}

	removeWaiting(openid: string): void {
		const index = this.waitQueue.findIndex((c) => c.openid === openid);
		if (index >= 0) this.waitQueue.splice(index, 1);
	}

	/** Earliest first, as getwaitcase lists them. */
	waitingEarliestFirst(): WaitingCase[] {
		return [...this.waitQueue].sort((a, b) => a.latest_time - b.latest_time);
	}

	openSession(kfAccount: string, openid: string, createtime: number = this.nowSeconds()): Session {
		const account = this.requireKfAccount(kfAccount);
		const session: Session = { openid, kf_account: kfAccount, createtime };
		this.sessions.set(openid, session);
		this.removeWaiting(openid);
		account.accepted_case += 1;
		return session;
	}

	closeSession(openid: string): void {
		const session = this.sessions.get(openid);
		if (!session) return;
		this.sessions.delete(openid);
		const account = this.kfAccounts.get(session.kf_account);
		if (account) account.accepted_case = Math.max(0, account.accepted_case - 1);
	}

	// ── chat records ───────────────────────────────────────────────────────────────────────────────

	/** Adds records (any order) and renumbers msgid 1…N in time order, so msgid order is time order. */
	addChatRecords(records: Omit<ChatRecord, 'msgid'>[]): void {
		this.mergeChatRecords(
			records.map((r) => ({ msgid: 0, openid: r.openid, opercode: r.opercode, text: r.text, time: r.time, worker: r.worker })),
		);
	}

	private mergeChatRecords(records: ChatRecord[]): void {
		const merged = this.chatRecords.length === 0 ? records : this.chatRecords.concat(records);
		let sorted = true;
		for (let i = 1; i < merged.length && sorted; i++) sorted = merged[i - 1].time <= merged[i].time;
		if (!sorted) merged.sort((a, b) => a.time - b.time); // stable: equal times keep insertion order
		for (let i = 0; i < merged.length; i++) merged[i].msgid = i + 1;
		this.chatRecords = merged;
	}

	/**
	 * Spreads `count` records over [start, end] with per-day weights. Built for volume: 100,000 records take a
	 * few tens of milliseconds. Returns the count per 24-hour day counted from `start` (day i covers
	 * [start + i·86400, start + (i+1)·86400 − 1], clipped to `end`).
	 */
	seedChatRecords(options: SeedChatRecordsOptions): { perDay: number[] } {
		const { start, end, count } = options;
		if (!(Number.isInteger(start) && Number.isInteger(end) && end >= start)) {
			throw new Error('seedChatRecords: start and end must be unix seconds with end >= start');
		}
		if (!(Number.isInteger(count) && count >= 0)) throw new Error('seedChatRecords: count must be >= 0');
		const random = seededRandom(options.seed ?? 1);
		const days = Math.ceil((end - start + 1) / 86400);
		const weights = Array.from({ length: days }, (_, i) =>
			options.distribution ? Math.max(0, options.distribution[i] ?? 0) : 1,
		);
		const perDay = allocate(count, weights);

		const openids =
			options.openids ??
			(this.followers.size > 0
				? [...this.followers.keys()]
				: Array.from({ length: 20 }, () => makeOpenid(random)));
		const workers =
			options.workers ?? (this.kfAccounts.size > 0 ? [...this.kfAccounts.keys()] : ['kf2001@emulator_oa']);
		const opercodes = options.opercodes ?? [2002, 2003];

		const times = new Float64Array(count);
		let k = 0;
		for (let day = 0; day < days; day++) {
			const dayStart = start + day * 86400;
			const span = Math.min(end, dayStart + 86399) - dayStart + 1;
			for (let j = 0; j < perDay[day]; j++) times[k++] = dayStart + Math.floor(random() * span);
		}
		times.sort();
		const records: ChatRecord[] = new Array(count);
		for (let i = 0; i < count; i++) {
			const opercode = opercodes[Math.floor(random() * opercodes.length)];
			const lines = opercode === 2002 ? WORKER_LINES : USER_LINES;
			records[i] = {
				msgid: 0,
				openid: openids[Math.floor(random() * openids.length)],
				opercode,
				text: lines[Math.floor(random() * lines.length)],
				time: times[i],
				worker: workers[Math.floor(random() * workers.length)],
			};
		}
		this.mergeChatRecords(records);
		return { perDay };
	}

	/** Index range [from, to) of records with start <= time <= end (binary search: records are time-sorted). */
	chatRecordRange(start: number, end: number): [number, number] {
		return [lowerBound(this.chatRecords, start), lowerBound(this.chatRecords, end + 1)];
	}

	// ── media ──────────────────────────────────────────────────────────────────────────────────────

	addMedia(input: {
		type: MediaType;
		data?: Buffer;
		filename?: string;
		contentType?: string;
		media_id?: string;
		permanent?: boolean;
		created_at?: number;
	}): MediaItem {
		const data = input.data ?? Buffer.alloc(0);
		const item: MediaItem = {
			media_id: input.media_id ?? makeMediaId(),
			type: input.type,
			created_at: input.created_at ?? this.nowSeconds(),
			filename: input.filename ?? '',
			contentType: input.contentType ?? 'application/octet-stream',
			size: data.length,
			sha256: createHash('sha256').update(data).digest('hex'),
			data,
			permanent: input.permanent ?? false,
		};
		this.media.set(item.media_id, item);
		return item;
	}

	/** Temporary media live 3 days. */
	findUsableMedia(mediaId: string): MediaItem | undefined {
		const item = this.media.get(mediaId);
		if (!item) return undefined;
		if (!item.permanent && item.created_at + 3 * 86400 <= this.nowSeconds()) return undefined;
		return item;
	}

	/** A plain-JSON view for the admin endpoint and for debugging. */
	snapshot(): Record<string, unknown> {
		return {
			now: this.now(),
			settings: this.settings,
			kfAccounts: [...this.kfAccounts.values()],
			followers: [...this.followers.values()],
			sessions: [...this.sessions.values()],
			waitQueue: this.waitQueue,
			chatRecordCount: this.chatRecords.length,
			media: [...this.media.values()].map(({ data: _data, ...rest }) => rest),
			sentMessages: this.sentMessages,
			typingCommands: this.typingCommands,
		};
	}
}

/** Largest-remainder split of `total` by `weights` (all-zero weights fall back to even). */
function allocate(total: number, weights: number[]): number[] {
	const sum = weights.reduce((a, b) => a + b, 0);
	const w = sum > 0 ? weights : weights.map(() => 1);
	const wSum = sum > 0 ? sum : w.length;
	const exact = w.map((x) => (total * x) / wSum);
	const counts = exact.map(Math.floor);
	let rest = total - counts.reduce((a, b) => a + b, 0);
	const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
	for (let i = 0; rest > 0; i = (i + 1) % order.length, rest--) counts[order[i][1]]++;
	return counts;
}

function lowerBound(records: ChatRecord[], time: number): number {
	let lo = 0;
	let hi = records.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (records[mid].time < time) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

/** Temporary media ids are 64 URL-safe characters starting with a letter or digit. */
export function makeMediaId(): string {
	return randomBytes(48).toString('base64url').replace(/^[-_]/, 'M');
}
