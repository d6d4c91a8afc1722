/**
 * The WeChat API emulator: an HTTP server on loopback that answers like api.weixin.qq.com for the token, kf account,
 * message, session, chat-record and media APIs, logs every request it received, and lets tests script state and
 * failures — in-process through the returned object, or from another process through `/__emulator/*`.
 *
 * Every API answer is HTTP 200 with `{errcode, errmsg}` on error, as WeChat does; only injected `http` faults,
 * unknown paths (404) and wrong methods (405) use other statuses, the last two so a wrong URL fails loudly.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleAdmin } from './admin';
import { accountEndpoints } from './endpoints/account';
import { chatRecordEndpoints } from './endpoints/chatRecord';
import { mediaEndpoints, VIDEO_CDN_PATH, videoDownload } from './endpoints/media';
import { messageEndpoints } from './endpoints/message';
import { sessionEndpoints } from './endpoints/session';
import { tokenEndpoints } from './endpoints/token';
import {
	type ApiRequest,
	type Endpoint,
	type EndpointAnswer,
	type EndpointContext,
	isBinaryAnswer,
} from './endpoints/types';
import { echoRequestSecrets, type FaultSpec, FaultQueue, TOKEN_PATHS } from './faults';
import { multipartBoundary, type MultipartBody, parseMultipart } from './multipart';
import { DailyQuotas } from './quotas';
import {
	type AddFollowerOptions,
	type AddKfAccountInput,
	type EmulatorSettings,
	EmulatorState,
	type MsgidMode,
	type SeedChatRecordsOptions,
} from './state';
import { TokenService } from './tokens';
import { type WeChatErrorBody, wechatError, withRid } from './wechatErrors';

export interface EmulatorOptions {
	/** default 'wx_emulator_appid' */
	appId?: string;
	/** default 'emulator_app_secret' */
	appSecret?: string;
	/** default 0 (an ephemeral port) */
	port?: number;
	/** default 127.0.0.1 */
	host?: string;
	/** getmsglist's returned msgid: 'next' (default, last + 1) or 'last' (last returned, inclusive). */
	msgidMode?: MsgidMode;
	/** Custom messages per user message; default 5. */
	sendQuotaPerWindow?: number;
	/** When set, kfaccount/add requires `prefix@<oaWechatId>`; default: any valid suffix. */
	oaWechatId?: string;
	/** Append WeChat's " rid: …" to errmsg values; default true. */
	errmsgRid?: boolean;
}

export interface LoggedFile {
	field: string;
	filename: string;
	contentType: string;
	size: number;
	sha256: string;
}

export interface LoggedRequest {
	method: string;
	path: string;
	query: Record<string, string>;
	/** lower-cased names */
	headers: Record<string, string>;
	json?: unknown;
	multipart?: { fields: Record<string, string>; files: LoggedFile[] };
	/** The body as text when it was neither JSON nor multipart. */
	rawBody?: string;
	/** ms on the emulator clock */
	at: number;
	/**
	 * What was answered. Binary answers are logged as `{ binary: true, contentType, size, sha256 }`; a dropped
	 * connection as status 0 with body 'dropped'.
	 */
	response: { status: number; body: unknown };
	/**
	 * An injected `processed` errcode fault: what the call would have answered. It took effect (`errcode` 0: the
	 * message was delivered) although `response` carries the injected error.
	 */
	processedAs?: unknown;
}

export type { FaultSpec } from './faults';

export interface Emulator {
	/** e.g. http://127.0.0.1:40123 (no trailing slash) */
	baseUrl: string;
	appId: string;
	appSecret: string;
	/** Every API request in arrival order (admin requests excluded). The array object stays the same across clearLog. */
	requests: LoggedRequest[];
	clearLog(): void;
	/** Requests to /cgi-bin/token and /cgi-bin/stable_token. */
	tokenCalls(): LoggedRequest[];
	/** Non-token requests, optionally only those to one path. */
	apiCalls(path?: string): LoggedRequest[];
	/** The emulator's now in ms: Date.now() + an offset that advanceTime moves. */
	now(): number;
	advanceTime(ms: number): void;
	/** All scriptable state; see state.ts for the field documentation. */
	state: EmulatorState;
	addKfAccount(account: AddKfAccountInput): void;
	setOnline(kfAccount: string, online: boolean, acceptedCase?: number): void;
	addFollower(openid: string, options?: AddFollowerOptions): void;
	/** The user sends a message: opens a new send window and resets the per-window count. */
	userMessage(openid: string, at?: number): void;
	addWaiting(openid: string, latestTime?: number): void;
	seedChatRecords(options: SeedChatRecordsOptions): { perDay: number[] };
	/** The current token(s) answer 42001 from now on. */
	expireCurrentToken(): void;
	/**
	 * The current token(s) answer 40001 from now on. stable_token in normal mode then issues a new token, unless
	 * `stableKeepsReturningIt`, in which case it keeps returning the revoked one until a force_refresh.
	 */
	revokeCurrentToken(options?: { stableKeepsReturningIt?: boolean }): void;
	injectFault(fault: FaultSpec): void;
	clearFaults(): void;
	/** enabled → both token endpoints answer 40164 naming callerIp (default '203.0.113.7'). */
	setIpWhitelist(options: { enabled: boolean; callerIp?: string }): void;
	/** false → every kf API (account, session, record, message) answers 48001. */
	setAccountVerified(verified: boolean): void;
	/** false → every customservice API (account, session, record) answers 65400. */
	setKfEnabled(enabled: boolean): void;
	setSendQuota(perWindow: number): void;
	setMsgidMode(mode: MsgidMode): void;
	/** Daily limit for a path (45009 beyond it); undefined removes the limit. */
	setDailyQuota(path: string, perDay: number | undefined): void;
	/** Empty state, no tokens, no faults, empty log, clock back to real time; appId/appSecret and options kept. */
	reset(): void;
	close(): Promise<void>;
	/** The most API requests that were being answered at the same moment since the start or the last reset. */
	readonly peakInFlight: number;
	/** The most TCP connections open at the same moment (admin ones included) since the start or the last reset. */
	readonly peakConnections: number;
	/** TCP connections accepted since the start or the last reset. */
	readonly connectionsAccepted: number;
	/** TCP connections open at the last resetPeaks (e.g. the admin call's own): peakConnections starts from them. */
	readonly connectionsOpenAtReset: number;
	/** Starts peakInFlight, peakConnections and connectionsAccepted afresh (from what is open now). */
	resetPeaks(): void;
}

const ALL_ENDPOINTS: Endpoint[] = [
	...tokenEndpoints,
	...accountEndpoints,
	...messageEndpoints,
	...sessionEndpoints,
	...chatRecordEndpoints,
	...mediaEndpoints,
];
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const WECHAT_JSON = 'application/json; encoding=utf-8';

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
	const flat: Record<string, string> = {};
	for (const [name, value] of Object.entries(headers)) {
		if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
	}
	return flat;
}

function readBody(request: http.IncomingMessage): Promise<Buffer | undefined> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		request.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > MAX_BODY_BYTES) {
				resolve(undefined);
				request.destroy();
				return;
			}
			chunks.push(chunk);
		});
		request.on('end', () => resolve(Buffer.concat(chunks)));
		request.on('error', reject);
	});
}

function withoutData(body: MultipartBody): LoggedRequest['multipart'] {
	return {
		fields: body.fields,
		files: body.files.map(({ field, filename, contentType, size, sha256 }) => ({
			field,
			filename,
			contentType,
			size,
			sha256,
		})),
	};
}

/** Not a WeChat answer: the emulator's own 404/405 for a path or method WeChat does not serve. */
class RoutingFailure {
	readonly body: { errcode: number; errmsg: string };
	constructor(readonly status: number, errmsg: string) {
		this.body = { errcode: status, errmsg };
	}
}

export class EmulatorServer implements Emulator {
	baseUrl = '';
	readonly appId: string;
	readonly appSecret: string;
	readonly requests: LoggedRequest[] = [];
	readonly state: EmulatorState;
	readonly tokens: TokenService;
	readonly quotas: DailyQuotas;
	readonly faults = new FaultQueue();
	private readonly initialSettings: Partial<EmulatorSettings>;
	private readonly errmsgRid: boolean;
	private readonly routes = new Map(ALL_ENDPOINTS.map((e) => [e.path, e]));
	private readonly timers = new Set<NodeJS.Timeout>();
	private readonly server: http.Server;

	constructor(options: EmulatorOptions) {
		this.appId = options.appId ?? 'wx_emulator_appid';
		this.appSecret = options.appSecret ?? 'emulator_app_secret';
		this.errmsgRid = options.errmsgRid ?? true;
		this.initialSettings = {};
		if (options.msgidMode !== undefined) this.initialSettings.msgidMode = options.msgidMode;
		if (options.sendQuotaPerWindow !== undefined) this.initialSettings.sendQuotaPerWindow = options.sendQuotaPerWindow;
		if (options.oaWechatId !== undefined) this.initialSettings.oaWechatId = options.oaWechatId;
		this.state = new EmulatorState(this.initialSettings);
		this.tokens = new TokenService(() => this.state.now());
		this.quotas = new DailyQuotas(() => this.state.now());
		this.server = http.createServer((req, res) => {
			// API requests being answered right now, and the most there ever were (admin calls do not count).
			const counted = !(req.url ?? '').startsWith('/__emulator/');
			if (counted) {
				this.inFlight++;
				this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
				res.once('close', () => this.inFlight--);
			}
			this.handle(req, res).catch((error: unknown) => {
				if (!res.headersSent) {
					res.writeHead(500, { 'content-type': 'text/plain' });
					res.end(`emulator error: ${String(error)}`);
				}
			});
		});
		this.countConnections();
	}

	private countConnections(): void {
		this.server.on('connection', (socket) => {
			this.connectionsAccepted++;
			this.openConnections++;
			this.peakConnections = Math.max(this.peakConnections, this.openConnections);
			socket.once('close', () => this.openConnections--);
		});
	}

	async listen(host: string, port: number): Promise<void> {
		await new Promise<void>((resolve, reject) => {
			this.server.once('error', reject);
			this.server.listen(port, host, () => {
				this.server.off('error', reject);
				resolve();
			});
		});
		const address = this.server.address() as AddressInfo;
		this.baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
	}

	// ── request pipeline ───────────────────────────────────────────────────────────────────────────

	private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
		const url = new URL(req.url ?? '/', 'http://emulator.invalid');
		const path = url.pathname;
		const query: Record<string, string> = {};
		for (const [k, v] of url.searchParams) query[k] = v;
		const method = (req.method ?? 'GET').toUpperCase();
		const rawBody = await readBody(req);
		if (rawBody === undefined) {
			res.writeHead(413).end();
			return;
		}

		if (path.startsWith('/__emulator/')) {
			const answer = await handleAdmin(this, method, path, query, rawBody);
			const text = JSON.stringify(answer.json);
			res.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
			return;
		}

		const headers = flattenHeaders(req.headers);
		const apiRequest: ApiRequest = { method, path, query, headers, rawBody };
		const entry: LoggedRequest = { method, path, query, headers, at: this.state.now(), response: { status: 0, body: null } };
		const boundary = multipartBoundary(headers['content-type']);
		if (boundary !== undefined) {
			const multipart = parseMultipart(rawBody, boundary);
			if (multipart) {
				apiRequest.multipart = multipart;
				entry.multipart = withoutData(multipart);
			} else {
				entry.rawBody = rawBody.toString('utf8');
			}
		} else if (rawBody.length > 0) {
			const text = rawBody.toString('utf8');
			try {
				apiRequest.json = JSON.parse(text);
				entry.json = apiRequest.json;
			} catch {
				entry.rawBody = text;
			}
		}
		this.requests.push(entry);

		const fault = this.faults.take(path);
		if (fault?.kind === 'drop') {
			entry.response = { status: 0, body: 'dropped' };
			req.socket.destroy();
			return;
		}
		if (fault?.kind === 'http') {
			const body = fault.body ?? `<html><body><h1>${fault.status} ${http.STATUS_CODES[fault.status] ?? ''}</h1></body></html>`;
			entry.response = { status: fault.status, body };
			res.writeHead(fault.status, { 'content-type': 'text/html' }).end(body);
			return;
		}
		if (fault?.kind === 'slow') await this.delay(fault.delayMs);
		let answer: EndpointAnswer | RoutingFailure;
		if (fault?.kind === 'errcode') {
			if (fault.processed) {
				const processed = this.dispatch(apiRequest);
				entry.processedAs = processed instanceof RoutingFailure ? processed.body : processed;
			}
			answer = wechatError(fault.errcode, echoRequestSecrets(fault.errmsg, apiRequest));
		} else {
			answer = this.dispatch(apiRequest);
		}
		if (answer instanceof RoutingFailure) {
			entry.response = { status: answer.status, body: answer.body };
			res.writeHead(answer.status, { 'content-type': WECHAT_JSON }).end(JSON.stringify(answer.body));
			return;
		}
		if (isBinaryAnswer(answer)) {
			const sha256 = createHash('sha256').update(answer.binary).digest('hex');
			entry.response = {
				status: 200,
				body: { binary: true, contentType: answer.contentType, size: answer.binary.length, sha256 },
			};
			res.writeHead(200, { 'content-type': answer.contentType, ...answer.headers }).end(answer.binary);
			return;
		}
		const body = this.finishErrmsg(answer);
		entry.response = { status: 200, body };
		res.writeHead(200, { 'content-type': WECHAT_JSON }).end(JSON.stringify(body));
	}

	/** WeChat's common checks, in its order, then the endpoint's own handler. */
	private dispatch(request: ApiRequest): EndpointAnswer | RoutingFailure {
		if (request.path === VIDEO_CDN_PATH) {
			if (request.method !== 'GET') return new RoutingFailure(405, 'emulator: video links expect GET');
			return videoDownload(request.query, this.state) ?? new RoutingFailure(404, 'emulator: unknown or expired video link');
		}
		const endpoint = this.routes.get(request.path);
		if (!endpoint) return new RoutingFailure(404, `emulator: no WeChat API at ${request.path}`);
		if (!endpoint.methods.includes(request.method as 'GET' | 'POST')) {
			return new RoutingFailure(405, `emulator: ${request.path} expects ${endpoint.methods.join(' or ')}`);
		}
		if (endpoint.guard !== 'token') {
			const token = request.query.access_token;
			if (!token) return wechatError(41001);
			const check = this.tokens.check(token);
			if (!check.ok) return wechatError(check.errcode);
			if ((endpoint.guard === 'verified' || endpoint.guard === 'kf') && !this.state.settings.accountVerified) {
				return wechatError(48001);
			}
			if (endpoint.guard === 'kf' && !this.state.settings.kfEnabled) return wechatError(65400);
			if (!this.quotas.take(request.path)) return wechatError(45009);
		}
		if (endpoint.body === 'json') {
			if (request.rawBody.length === 0) return wechatError(44002);
			const json = request.json;
			if (typeof json !== 'object' || json === null || Array.isArray(json)) return wechatError(47001);
		}
		return endpoint.handle(request, this.context());
	}

	private finishErrmsg(answer: WeChatErrorBody | Record<string, unknown>): Record<string, unknown> {
		const body = answer as Record<string, unknown>;
		if (typeof body.errcode === 'number' && body.errcode !== 0 && typeof body.errmsg === 'string') {
			return { ...body, errmsg: withRid(body.errmsg, this.errmsgRid) };
		}
		return body;
	}

	private context(): EndpointContext {
		return {
			state: this.state,
			tokens: this.tokens,
			quotas: this.quotas,
			appId: this.appId,
			appSecret: this.appSecret,
			baseUrl: this.baseUrl,
		};
	}

	private delay(ms: number): Promise<void> {
		return new Promise((resolve) => {
			const timer = setTimeout(() => {
				this.timers.delete(timer);
				resolve();
			}, ms);
			this.timers.add(timer);
		});
	}

	// ── programmatic API ───────────────────────────────────────────────────────────────────────────

	clearLog(): void {
		this.requests.length = 0;
	}

	tokenCalls(): LoggedRequest[] {
		return this.requests.filter((r) => TOKEN_PATHS.includes(r.path));
	}

	apiCalls(path?: string): LoggedRequest[] {
		return this.requests.filter((r) => !TOKEN_PATHS.includes(r.path) && (path === undefined || r.path === path));
	}

	now(): number {
		return this.state.now();
	}

	advanceTime(ms: number): void {
		this.state.advanceTime(ms);
	}

	addKfAccount(account: AddKfAccountInput): void {
		this.state.addKfAccount(account);
	}

	setOnline(kfAccount: string, online: boolean, acceptedCase?: number): void {
		this.state.setOnline(kfAccount, online, acceptedCase);
	}

	addFollower(openid: string, options?: AddFollowerOptions): void {
		this.state.addFollower(openid, options);
	}

	userMessage(openid: string, at?: number): void {
		this.state.recordUserMessage(openid, at);
	}

	addWaiting(openid: string, latestTime?: number): void {
		this.state.addWaiting(openid, latestTime);
	}

	seedChatRecords(options: SeedChatRecordsOptions): { perDay: number[] } {
		return this.state.seedChatRecords(options);
	}

	expireCurrentToken(): void {
		this.tokens.expireAllValid();
	}

	revokeCurrentToken(options?: { stableKeepsReturningIt?: boolean }): void {
		this.tokens.revokeAllValid(options);
	}

	injectFault(fault: FaultSpec): void {
		this.faults.add(fault);
	}

	clearFaults(): void {
		this.faults.clear();
	}

	setIpWhitelist(options: { enabled: boolean; callerIp?: string }): void {
		this.state.settings.ipWhitelist = {
			enabled: options.enabled,
			callerIp: options.callerIp ?? this.state.settings.ipWhitelist.callerIp,
		};
	}

	setAccountVerified(verified: boolean): void {
		this.state.settings.accountVerified = verified;
	}

	setKfEnabled(enabled: boolean): void {
		this.state.settings.kfEnabled = enabled;
	}

	setSendQuota(perWindow: number): void {
		this.state.settings.sendQuotaPerWindow = perWindow;
	}

	setMsgidMode(mode: MsgidMode): void {
		this.state.settings.msgidMode = mode;
	}

	setDailyQuota(path: string, perDay: number | undefined): void {
		this.quotas.setLimit(path, perDay);
	}

	/** The most API requests that were being answered at the same moment since the start or the last reset. */
	peakInFlight = 0;

	private inFlight = 0;

	peakConnections = 0;
	connectionsAccepted = 0;
	connectionsOpenAtReset = 0;
	private openConnections = 0;

	resetPeaks(): void {
		this.peakInFlight = this.inFlight;
		this.peakConnections = this.openConnections;
		this.connectionsOpenAtReset = this.openConnections;
		this.connectionsAccepted = 0;
	}

	reset(): void {
		this.peakInFlight = 0;
		this.state.reset(this.initialSettings);
		this.tokens.reset();
		this.quotas.reset();
		this.faults.clear();
		this.clearLog();
	}

	async close(): Promise<void> {
		for (const timer of this.timers) clearTimeout(timer);
		this.timers.clear();
		const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
		this.server.closeAllConnections();
		await closed;
	}
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
	const emulator = new EmulatorServer(options);
	await emulator.listen(options.host ?? '127.0.0.1', options.port ?? 0);
	return emulator;
}
