/**
 * `/__emulator/*`: the programmatic controls over HTTP, for end-to-end scripts that drive an emulator running in
 * another process (n8n calls the emulator; the script seeds state, injects faults and reads the request log).
 * JSON in, JSON out; a bad admin request answers HTTP 400 `{error}`. Admin requests are never logged.
 */
import { seedDemoData } from './demoData';
import type { FaultSpec } from './faults';
import { type DeliverOptions, deliverPush } from './pushSender';
import type { EmulatorServer } from './server';
import type { AddKfAccountInput, MediaType, MsgidMode, SeedChatRecordsOptions } from './state';

export interface AdminAnswer {
	status: number;
	json: unknown;
}

type Body = Record<string, unknown>;
type AdminHandler = (emulator: EmulatorServer, body: Body, query: Record<string, string>) => unknown;

class AdminError extends Error {}

function need<T>(value: T | undefined, what: string): T {
	if (value === undefined || value === null) throw new AdminError(`missing ${what}`);
	return value;
}

function asOpenidEntry(entry: unknown): { openid: string } & Body {
	return typeof entry === 'string' ? { openid: entry } : (entry as { openid: string } & Body);
}

const POST: Record<string, AdminHandler> = {
	reset(emulator) {
		emulator.reset();
		return { ok: true };
	},
	/**
	 * { demo?: true, accounts?: AddKfAccountInput[], followers?: (openid | {openid, lastInteractionAt?, subscribed?})[],
	 *   waiting?: (openid | {openid, latestTime?})[], chatRecords?: SeedChatRecordsOptions,
	 *   records?: {openid, opercode, text, time, worker}[], media?: {type, media_id?, filename?, contentType?, dataBase64?}[] }
	 */
	seed(emulator, body) {
		const answer: Record<string, unknown> = { ok: true };
		if (body.demo === true) answer.demo = seedDemoData(emulator.state);
		for (const account of (body.accounts as AddKfAccountInput[] | undefined) ?? []) emulator.addKfAccount(account);
		for (const entry of (body.followers as unknown[] | undefined) ?? []) {
			const f = asOpenidEntry(entry);
			emulator.addFollower(f.openid, {
				lastInteractionAt: f.lastInteractionAt as number | undefined,
				subscribed: f.subscribed as boolean | undefined,
			});
		}
		for (const entry of (body.waiting as unknown[] | undefined) ?? []) {
			const w = asOpenidEntry(entry);
			emulator.addWaiting(w.openid, w.latestTime as number | undefined);
		}
		if (body.chatRecords) {
			answer.perDay = emulator.seedChatRecords(body.chatRecords as SeedChatRecordsOptions).perDay;
		}
		if (Array.isArray(body.records)) emulator.state.addChatRecords(body.records);
		if (Array.isArray(body.media)) {
			answer.media = (body.media as Body[]).map((m) => {
				const item = emulator.state.addMedia({
					type: need(m.type as MediaType | undefined, 'media[].type'),
					media_id: m.media_id as string | undefined,
					filename: m.filename as string | undefined,
					contentType: m.contentType as string | undefined,
					data: typeof m.dataBase64 === 'string' ? Buffer.from(m.dataBase64, 'base64') : undefined,
					permanent: m.permanent as boolean | undefined,
				});
				return { media_id: item.media_id, type: item.type, created_at: item.created_at };
			});
		}
		return answer;
	},
	'set-online'(emulator, body) {
		emulator.setOnline(
			need(body.kfAccount as string | undefined, 'kfAccount'),
			need(body.online as boolean | undefined, 'online'),
			body.acceptedCase as number | undefined,
		);
		return { ok: true };
	},
	'user-message'(emulator, body) {
		emulator.userMessage(need(body.openid as string | undefined, 'openid'), body.at as number | undefined);
		return { ok: true };
	},
	'resolve-invitation'(emulator, body) {
		emulator.state.resolveInvitation(
			need(body.kfAccount as string | undefined, 'kfAccount'),
			need(body.outcome as 'accepted' | 'rejected' | 'expired' | undefined, 'outcome'),
		);
		return { ok: true };
	},
	'revoke-token'(emulator, body) {
		emulator.revokeCurrentToken({ stableKeepsReturningIt: body.stableKeepsReturningIt === true });
		return { ok: true };
	},
	'expire-token'(emulator) {
		emulator.expireCurrentToken();
		return { ok: true };
	},
	fault(emulator, body) {
		emulator.injectFault(body as unknown as FaultSpec);
		return { ok: true, pending: emulator.faults.pending() };
	},
	'clear-faults'(emulator) {
		emulator.clearFaults();
		return { ok: true };
	},
	'ip-whitelist'(emulator, body) {
		emulator.setIpWhitelist({
			enabled: need(body.enabled as boolean | undefined, 'enabled'),
			callerIp: body.callerIp as string | undefined,
		});
		return { ok: true };
	},
	/** { accountVerified?, kfEnabled?, sendQuotaPerWindow?, msgidMode?, oaWechatId? } */
	settings(emulator, body) {
		if (typeof body.accountVerified === 'boolean') emulator.setAccountVerified(body.accountVerified);
		if (typeof body.kfEnabled === 'boolean') emulator.setKfEnabled(body.kfEnabled);
		if (typeof body.sendQuotaPerWindow === 'number') emulator.setSendQuota(body.sendQuotaPerWindow);
		if (body.msgidMode === 'next' || body.msgidMode === 'last') emulator.setMsgidMode(body.msgidMode as MsgidMode);
		if (typeof body.oaWechatId === 'string') emulator.state.settings.oaWechatId = body.oaWechatId;
		return { ok: true, settings: emulator.state.settings };
	},
	'daily-quota'(emulator, body) {
		emulator.setDailyQuota(need(body.path as string | undefined, 'path'), body.perDay as number | undefined);
		return { ok: true };
	},
	'advance-time'(emulator, body) {
		emulator.advanceTime(need(body.ms as number | undefined, 'ms'));
		return { ok: true, now: emulator.now() };
	},
	/** Starts the peaks of GET stats afresh. */
	'reset-stats'(emulator) {
		emulator.resetPeaks();
		return { ok: true };
	},
	'clear-log'(emulator) {
		emulator.clearLog();
		return { ok: true };
	},
	/** { url, ...PushOptions, timeoutMs?, maxDeliveries?, forceDeliveries? } → { built, deliveries } */
	async push(_emulator, body) {
		const { url, ...options } = body;
		return deliverPush(need(url as string | undefined, 'url'), options as unknown as DeliverOptions);
	},
};

const GET: Record<string, AdminHandler> = {
	health: (emulator) => ({ ok: true, baseUrl: emulator.baseUrl, appId: emulator.appId }),
	/** ?path= only that path; ?kind=token|api */
	log(emulator, _body, query) {
		let requests =
			query.kind === 'token' ? emulator.tokenCalls() : query.kind === 'api' ? emulator.apiCalls() : emulator.requests;
		if (query.path) requests = requests.filter((r) => r.path === query.path);
		return { requests };
	},
	state: (emulator) => emulator.state.snapshot(),
	tokens: (emulator) => ({
		classic: emulator.tokens.currentClassic(),
		stable: emulator.tokens.currentStable(),
		issued: [...emulator.tokens.issued.values()].map((t) => {
			const check = emulator.tokens.check(t.value);
			return { ...t, answers: check.ok ? 0 : check.errcode };
		}),
	}),
	faults: (emulator) => ({ pending: emulator.faults.pending() }),
	/** Peaks since the start or the last POST reset-stats: API requests being answered, TCP connections open. */
	stats: (emulator) => ({
		peakInFlight: emulator.peakInFlight,
		peakConnections: emulator.peakConnections,
		connectionsAccepted: emulator.connectionsAccepted,
		connectionsOpenAtReset: emulator.connectionsOpenAtReset,
	}),
};

export async function handleAdmin(
	emulator: EmulatorServer,
	method: string,
	path: string,
	query: Record<string, string>,
	rawBody: Buffer,
): Promise<AdminAnswer> {
	const name = path.slice('/__emulator/'.length);
	const handler = method === 'GET' ? GET[name] : method === 'POST' ? POST[name] : undefined;
	if (!handler || !Object.prototype.hasOwnProperty.call(method === 'GET' ? GET : POST, name)) {
		return { status: 404, json: { error: `no admin endpoint ${method} ${path}` } };
	}
	let body: Body = {};
	try {
		if (rawBody.length > 0) body = JSON.parse(rawBody.toString('utf8')) as Body;
	} catch {
		return { status: 400, json: { error: 'admin body must be JSON' } };
	}
	try {
		return { status: 200, json: await handler(emulator, body, query) };
	} catch (error) {
		return { status: 400, json: { error: error instanceof Error ? error.message : String(error) } };
	}
}
