import { createHash } from 'crypto';
import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IHttpRequestHelper,
	IHttpRequestOptions,
} from 'n8n-workflow';

import { explainWeChatError, ipFromWhitelistError, weChatErrorMessage } from '../errorCodes';
import { redactSecrets } from '../redact';
import { failedBeforeSending } from '../neverSent';
import { hostOf, tooLongUrlText, urlUserInfoSecrets, webUrlProblem } from '../webUrl';

/**
 * Getting an access token: the credential's `preAuthentication`, which n8n calls when the credential has no token
 * and when `authenticate` asks for a new one (use.ts). What it keeps in memory, and why each is needed:
 * - `pendingTokenRequests`: single-flight per AppID and settings — 50 items that start with an empty credential cause
 *   one token request, and a classic token fetched by one item is not invalidated by the next item's fetch;
 * - `issuedTokens`: the last token fetched, handed to an execution that read the credential before n8n saved that
 *   token (it would otherwise fetch again, and with the classic endpoint log out the token just issued);
 * - `rejectedTokenHashes`: tokens WeChat answered 40001 / 40014 / 42001 for, never sent again;
 * - `lastForcedRefreshAt`: the stable token's `force_refresh` at most once per 30 s.
 * All of it is per n8n process; what every process shares is the token n8n saves in the credential.
 */

export type TokenIssuer = 'stable' | 'classic' | 'external';

export interface TokenSettings {
	appId: string;
	appSecret: string;
	issuer: TokenIssuer;
	externalTokenUrl: string;
	baseUrl: string;
	/** Where a token request goes again when the base URL could not be reached at all; '' for none. */
	backupBaseUrl: string;
}

/** The hidden credential fields n8n saves after `preAuthentication`. */
export interface StoredAccessToken extends IDataObject {
	accessToken: string;
	/** Epoch ms after which the token is renewed before use (at least 5 minutes before WeChat expires it). */
	renewAt: number;
	/** Which settings the token was issued for, so editing the AppID, secret or source discards it. */
	issuedFor: string;
}

export const DEFAULT_BASE_URL = 'https://api.weixin.qq.com';
const RENEW_EARLY_MS = 5 * 60 * 1000;
/** WeChat allows `force_refresh` of the stable token at most 20 times a day and 30 s apart. */
const FORCE_REFRESH_MIN_INTERVAL_MS = 30 * 1000;
/**
 * A central token service that does not say how long its token lives: its token is taken to live this long, so (by
 * the renewal rule below, half of a short life) it is asked again after 150 s.
 */
const EXTERNAL_DEFAULT_LIFETIME_S = 300;
const TOKEN_REQUEST_TIMEOUT_MS = 15 * 1000;
const MAX_REMEMBERED_REJECTIONS = 200;

interface IssuedToken {
	token: string;
	renewAt: number;
}

const issuedTokens = new Map<string, IssuedToken>();
const pendingTokenRequests = new Map<string, Promise<IssuedToken>>();
/** Hashes of tokens WeChat rejected in this process (kept as hashes: no reason to hold more secrets in memory). */
const rejectedTokenHashes = new Set<string>();
const lastForcedRefreshAt = new Map<string, number>();

/** A token could not be obtained. Its message and description never contain the AppSecret or a token. */
export class AccessTokenError extends Error {
	readonly description: string;

	readonly errcode?: number;

	constructor(message: string, description: string, errcode?: number) {
		super(message);
		this.name = 'AccessTokenError';
		this.description = description;
		this.errcode = errcode;
	}
}

export function readTokenSettings(credentials: ICredentialDataDecryptedObject): TokenSettings {
	const issuer = (credentials.issuer as TokenIssuer | undefined) ?? 'stable';
	return {
		appId: String(credentials.appId ?? '').trim(),
		appSecret: String(credentials.appSecret ?? '').trim(),
		issuer,
		externalTokenUrl: String(credentials.externalTokenUrl ?? '').trim(),
		baseUrl: normalizeBaseUrl(credentials.baseUrl),
		backupBaseUrl: String(credentials.backupBaseUrl ?? '').trim() ? normalizeBaseUrl(credentials.backupBaseUrl) : '',
	};
}

export function normalizeBaseUrl(baseUrl: unknown): string {
	const url = String(baseUrl ?? '').trim() || DEFAULT_BASE_URL;
	// A loop rather than /\/+$/, which is quadratic on a long run of slashes that does not end the text.
	let end = url.length;
	while (end > 0 && url[end - 1] === '/') end--;
	return url.slice(0, end);
}

/**
 * Every secret a credential holds, for redaction: the AppSecret, the stored access token, the push secrets, and a
 * user:password written into the token service URL or the API base URL (which n8n would otherwise show wherever it
 * shows the URL). Short values are left out by redactSecrets itself.
 */
export function credentialSecrets(credentials: { [key: string]: unknown } | undefined): string[] {
	if (!credentials) return [];
	const text = (name: string) => (typeof credentials[name] === 'string' ? (credentials[name] as string) : '');
	return [
		text('appSecret').trim(),
		text('accessToken'),
		text('token'),
		text('encodingAESKey'),
		text('previousEncodingAESKey'),
		...urlUserInfoSecrets(text('externalTokenUrl').trim()),
		...urlUserInfoSecrets(text('baseUrl').trim()),
	].filter((secret) => secret !== '');
}

function settingsSecrets(settings: TokenSettings): string[] {
	return [
		settings.appSecret,
		...urlUserInfoSecrets(settings.externalTokenUrl),
		...urlUserInfoSecrets(settings.baseUrl),
	];
}

function hash(value: string): string {
	return createHash('sha256').update(value).digest('hex').slice(0, 24);
}

/** Identifies the settings a token belongs to without storing anything reversible. */
export function tokenSettingsFingerprint(settings: TokenSettings): string {
	const { issuer, appId, appSecret, baseUrl, externalTokenUrl } = settings;
	return hash([issuer, appId, appSecret, baseUrl, issuer === 'external' ? externalTokenUrl : ''].join('\n'));
}

/** Remembers that WeChat answered 40001 / 40014 / 42001 for this token, so it is never sent again. */
export function markAccessTokenRejected(token: string): void {
	if (rejectedTokenHashes.size >= MAX_REMEMBERED_REJECTIONS) rejectedTokenHashes.clear();
	rejectedTokenHashes.add(hash(token));
}

export function isRejected(token: string): boolean {
	return rejectedTokenHashes.has(hash(token));
}

/** The credential's `preAuthentication`: a token for these settings, fetched at most once at a time per process. */
export async function obtainAccessToken(
	this: IHttpRequestHelper,
	credentials: ICredentialDataDecryptedObject,
): Promise<StoredAccessToken> {
	const settings = readTokenSettings(credentials);
	validateTokenSettings(settings);
	const key = tokenSettingsFingerprint(settings);

	const issued = issuedTokens.get(key);
	if (issued && !isRejected(issued.token) && Date.now() < issued.renewAt) {
		return { accessToken: issued.token, renewAt: issued.renewAt, issuedFor: key };
	}

	let pending = pendingTokenRequests.get(key);
	if (!pending) {
		pending = requestNewToken(this, settings, key)
			.then((fresh) => {
				issuedTokens.set(key, fresh);
				return fresh;
			})
			.finally(() => pendingTokenRequests.delete(key));
		pendingTokenRequests.set(key, pending);
	}
	const fresh = await pending;
	return { accessToken: fresh.token, renewAt: fresh.renewAt, issuedFor: key };
}

function validateTokenSettings(settings: TokenSettings): void {
	if (!settings.appId) {
		throw new AccessTokenError(
			'The credential has no AppID',
			'Copy the AppID (开发者ID) from the WeChat admin console → 设置与开发 → 基本配置 into the credential.',
		);
	}
	if (settings.issuer === 'external') {
		checkCredentialUrl(
			settings.externalTokenUrl,
			'token service URL',
			'Enter the URL of your central token service (中控服务器), e.g. https://token.example.com/wechat/access_token.',
		);
	} else if (!settings.appSecret) {
		throw new AccessTokenError(
			'The credential has no AppSecret',
			'Copy the AppSecret (开发者密码) from the WeChat admin console → 设置与开发 → 基本配置, or choose "Central Token Service" as the token source.',
		);
	}
	checkCredentialUrl(
		settings.baseUrl,
		'API base URL',
		`Leave the API base URL empty for ${DEFAULT_BASE_URL}, or enter a regional host, your proxy or an emulator, e.g. https://sh.api.weixin.qq.com.`,
	);
}

/** The URL itself is never repeated: it may hold a user:password. */
function checkCredentialUrl(url: string, label: string, fix: string): void {
	const problem = webUrlProblem(url);
	if (problem === 'tooLong') {
		throw new AccessTokenError(
			`The credential's ${label} ${tooLongUrlText(url.length)}`,
			fix,
		);
	}
	if (problem === 'notWebAddress') {
		throw new AccessTokenError(`The credential's ${label} is missing or not an http(s) URL`, fix);
	}
}

async function requestNewToken(
	context: IHttpRequestHelper,
	settings: TokenSettings,
	key: string,
): Promise<IssuedToken> {
	if (settings.issuer === 'classic') {
		return await callTokenEndpoint(context, settings, {
			method: 'GET',
			url: `${settings.baseUrl}/cgi-bin/token`,
			qs: { grant_type: 'client_credential', appid: settings.appId, secret: settings.appSecret },
		});
	}

	if (settings.issuer === 'external') {
		const issued = await callTokenEndpoint(
			context,
			settings,
			{ method: 'GET', url: settings.externalTokenUrl },
			EXTERNAL_DEFAULT_LIFETIME_S,
		);
		if (isRejected(issued.token)) {
			throw new AccessTokenError(
				'The central token service returned an access token that WeChat has already rejected',
				'Make the token service fetch a new token (it may be holding an expired or reset one); this package never asks WeChat directly in this mode.',
			);
		}
		return issued;
	}

	const stableRequest = (forceRefresh: boolean): IHttpRequestOptions => ({
		method: 'POST',
		url: `${settings.baseUrl}/cgi-bin/stable_token`,
		body: {
			grant_type: 'client_credential',
			appid: settings.appId,
			secret: settings.appSecret,
			...(forceRefresh ? { force_refresh: true } : {}),
		},
	});
	const issued = await callTokenEndpoint(context, settings, stableRequest(false));
	if (!isRejected(issued.token)) return issued;

	// The stable endpoint handed back a token WeChat has just rejected. Only now is force_refresh justified, and never
	// more than once per 30 s: WeChat allows 20 a day, and each one logs out every other system using this AppID.
	const lastForced = lastForcedRefreshAt.get(key) ?? 0;
	if (Date.now() - lastForced < FORCE_REFRESH_MIN_INTERVAL_MS) {
		throw new AccessTokenError(
			'WeChat keeps rejecting the stable access token',
			'A forced refresh (force_refresh) was made less than 30 seconds ago and WeChat still rejects the token. Check that the AppSecret was not reset and that no other system forces refreshes, then run the workflow again.',
		);
	}
	lastForcedRefreshAt.set(key, Date.now());
	return await callTokenEndpoint(context, settings, stableRequest(true));
}

async function callTokenEndpoint(
	context: IHttpRequestHelper,
	settings: TokenSettings,
	request: IHttpRequestOptions,
	defaultLifetimeS?: number,
): Promise<IssuedToken> {
	const host = hostOf(request.url) ?? 'the token service';
	const send = async (options: IHttpRequestOptions) =>
		await context.helpers.httpRequest({ ...options, json: true, timeout: TOKEN_REQUEST_TIMEOUT_MS });
	// WeChat's own hosts only: a central token service has no backup host.
	const backupUrl =
		settings.backupBaseUrl && request.url.startsWith(settings.baseUrl)
			? settings.backupBaseUrl + request.url.slice(settings.baseUrl.length)
			: '';
	const response = (await send(request).catch(async (error: unknown) =>
		backupUrl && failedBeforeSending(error)
			? await send({ ...request, url: backupUrl }).catch(
					async (backupError: unknown) =>
						await Promise.reject(unreachable(backupError, hostOf(backupUrl) ?? 'the backup host', settings)),
				)
			: await Promise.reject(unreachable(error, host, settings)),
	)) as IDataObject;

	if (typeof response !== 'object' || response === null) {
		throw new AccessTokenError(
			`The token answer from ${host} is not JSON`,
			'The token service must answer JSON such as {"access_token": "…", "expires_in": 7200}.',
		);
	}
	const errcode = Number(response.errcode ?? 0);
	if (errcode !== 0) throw tokenErrorFor(errcode, String(response.errmsg ?? ''), settings);

	const token = response.access_token;
	if (typeof token !== 'string' || token === '') {
		throw new AccessTokenError(
			`The token answer from ${host} has no access_token`,
			'The token service must answer JSON such as {"access_token": "…", "expires_in": 7200}.',
		);
	}
	const expiresIn = Number(response.expires_in);
	const lifetimeS = expiresIn > 0 ? expiresIn : (defaultLifetimeS ?? 7200);
	const lifetimeMs = lifetimeS * 1000;
	// Renew 5 minutes early; a token issued with less than 10 minutes left is used for half of what remains, so a
	// freshly fetched token is never already "due" (which would loop).
	const renewAt = Date.now() + Math.max(lifetimeMs - RENEW_EARLY_MS, lifetimeMs / 2);
	return { token, renewAt };
}

/**
 * The request failed before WeChat answered: report the host it went to, never the URL (it holds the AppSecret, and
 * may hold a user:password).
 */
function unreachable(error: unknown, host: string, settings: TokenSettings): AccessTokenError {
	const status = (error as { response?: { status?: number } }).response?.status;
	const reason = status ? `HTTP ${status}` : String((error as Error).message);
	return new AccessTokenError(
		redactSecrets(`Could not get a WeChat access token from ${host}: ${reason}`, settingsSecrets(settings)),
		settings.issuer === 'external'
			? 'Check that the central token service is running and reachable from n8n.'
			: 'Check the API base URL in the credential and that n8n can reach it.',
	);
}

function tokenErrorFor(errcode: number, errmsg: string, settings: TokenSettings): AccessTokenError {
	const { fix } = explainWeChatError(errcode, errmsg);
	let message = weChatErrorMessage(errcode, errmsg);
	if (errcode === 40164) {
		const ip = ipFromWhitelistError(errmsg);
		message = `WeChat error 40164 (调用接口的 IP 地址不在白名单中): WeChat saw this n8n call from IP ${ip ?? 'unknown'}, which is not in the Official Account's API IP whitelist`;
	} else if (errcode === 40001 || errcode === 40125) {
		message = `WeChat error ${errcode} (AppSecret 错误): WeChat rejected the AppID / AppSecret pair`;
	}
	const secrets = settingsSecrets(settings);
	return new AccessTokenError(redactSecrets(message, secrets), redactSecrets(fix, secrets), errcode);
}

/**
 * Forgets everything this process knows about tokens, so that each test starts as a fresh n8n process would.
 * @internal Not part of the package's API: left out of the published type declarations.
 */
export function resetAccessTokenCacheForTests(): void {
	issuedTokens.clear();
	pendingTokenRequests.clear();
	rejectedTokenHashes.clear();
	lastForcedRefreshAt.clear();
}
