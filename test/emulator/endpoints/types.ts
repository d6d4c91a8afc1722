/**
 * What every emulated API endpoint declares, so the server can apply WeChat's common checks in WeChat's order
 * (access_token → account verified → kf feature enabled → body present and parseable) before the handler runs.
 */
import type { MultipartBody } from '../multipart';
import type { DailyQuotas } from '../quotas';
import type { EmulatorState } from '../state';
import type { TokenService } from '../tokens';
import type { WeChatErrorBody } from '../wechatErrors';

export interface ApiRequest {
	method: string;
	path: string;
	query: Record<string, string>;
	headers: Record<string, string>;
	/** The parsed JSON body when the body was JSON (endpoints with `body: 'json'` always get an object here). */
	json?: unknown;
	multipart?: MultipartBody;
	rawBody: Buffer;
}

export interface EndpointContext {
	state: EmulatorState;
	tokens: TokenService;
	quotas: DailyQuotas;
	appId: string;
	appSecret: string;
	/** Where this emulator listens, for links it hands out (video downloads). */
	baseUrl: string;
}

export interface BinaryAnswer {
	binary: Buffer;
	contentType: string;
	headers?: Record<string, string>;
}

export type EndpointAnswer = WeChatErrorBody | Record<string, unknown> | BinaryAnswer;

/**
 * - `token`: the token endpoints themselves (no access_token).
 * - `basic`: needs a valid access_token only (media, clear_quota).
 * - `verified`: also needs a verified account (48001) — message/custom/send and typing.
 * - `kf`: also needs the new kf feature enabled (65400) — customservice account, session and record APIs.
 */
export type Guard = 'token' | 'basic' | 'verified' | 'kf';

export interface Endpoint {
	path: string;
	methods: readonly ('GET' | 'POST')[];
	guard: Guard;
	/** `json`: empty body → 44002, unparseable or not an object → 47001, before the handler runs. */
	body: 'json' | 'multipart' | 'none';
	handle(request: ApiRequest, context: EndpointContext): EndpointAnswer;
}

export function isBinaryAnswer(answer: EndpointAnswer): answer is BinaryAnswer {
	return Buffer.isBuffer((answer as BinaryAnswer).binary);
}

export function jsonBody(request: ApiRequest): Record<string, unknown> {
	return (request.json ?? {}) as Record<string, unknown>;
}

/** A non-empty string field, or undefined. */
export function stringField(source: Record<string, unknown> | undefined, key: string): string | undefined {
	const value = source?.[key];
	return typeof value === 'string' && value !== '' ? value : undefined;
}

export function objectField(source: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
	const value = source[key];
	return typeof value === 'object' && value !== null && !Array.isArray(value)
		? (value as Record<string, unknown>)
		: undefined;
}
