/**
 * Using the access token: the credential's `authenticate`, and the one retry when WeChat rejects a token.
 *
 * Why a retry at all: n8n refreshes a credential's token only when a request fails with HTTP 401, but WeChat answers a
 * bad or expired token with HTTP 200 and errcode 40001 / 40014 / 42001. So the package tracks the token's lifetime
 * and turns a rejected token into exactly one refresh and one resend. It relies on two things n8n does, each behind
 * one function below and checked against the installed n8n-core by test/engine/n8nTokenRenewal.test.ts:
 * - `askN8nForNewToken`: an error shaped like an HTTP 401 thrown from `authenticate` makes n8n's
 *   `httpRequestWithAuthentication` call `preAuthentication` (obtain.ts), save its answer and send again;
 * - `tokenSentWith`: `authenticate` receives the very request-options object the node holds, so after a request the
 *   node can read which token it carried — even when other items have renewed the token since.
 */
import type { ICredentialDataDecryptedObject, IDataObject, IHttpRequestOptions } from 'n8n-workflow';

import { ACCESS_TOKEN_ERROR_CODES } from '../errorCodes';
import { webSchemeLength } from '../webUrl';
import { isRejected, markAccessTokenRejected, normalizeBaseUrl, readTokenSettings, tokenSettingsFingerprint } from './obtain';

/** Thrown by `authenticate`; n8n renews a credential only after an HTTP 401, so it carries that status. */
export class AccessTokenRenewalNeeded extends Error {
	readonly response = { status: 401 };

	constructor() {
		super('The WeChat access token needs renewing');
		this.name = 'AccessTokenRenewalNeeded';
	}
}

/** Makes n8n run `preAuthentication`, store the new token and send the request again (see the file comment). */
function askN8nForNewToken(): never {
	throw new AccessTokenRenewalNeeded();
}

/** The token a request was sent with: `authenticate` writes it into the options object the node holds. */
export function tokenSentWith(requestOptions: IHttpRequestOptions): string | undefined {
	const token = (requestOptions.qs as IDataObject | undefined)?.access_token;
	return typeof token === 'string' ? token : undefined;
}

/** The credential's `authenticate`: adds `access_token` to the query, or asks n8n for a new token first. */
export async function authenticateWithAccessToken(
	credentials: ICredentialDataDecryptedObject,
	requestOptions: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	const token = typeof credentials.accessToken === 'string' ? credentials.accessToken : '';
	const renewAt = Number(credentials.renewAt ?? 0);
	if (
		!token ||
		isRejected(token) ||
		!(Date.now() < renewAt) ||
		credentials.issuedFor !== tokenSettingsFingerprint(readTokenSettings(credentials))
	) {
		askN8nForNewToken();
	}
	// Mutated in place: see tokenSentWith.
	requestOptions.qs = { ...(requestOptions.qs ?? {}), access_token: token };
	// The API host belongs to the credential. Setting it here rather than through an expression in the node's
	// requestDefaults spares n8n two expression evaluations per item, which dominate large runs. n8n's HTTP Request
	// node, given this credential as a Predefined Credential Type, passes the older request-library options, whose
	// address is `uri` and which have no `url`.
	const address = requestOptions.url ?? (requestOptions as { uri?: unknown }).uri;
	if (!requestOptions.baseURL && (typeof address !== 'string' || webSchemeLength(address) === 0)) {
		requestOptions.baseURL = normalizeBaseUrl(credentials.baseUrl);
	}
	return requestOptions;
}

/** An error that says WeChat rejected the token: anything with a numeric `errcode` of 40001, 40014 or 42001. */
export function isAccessTokenRejection(error: unknown): boolean {
	const errcode = (error as { errcode?: unknown } | null)?.errcode;
	return typeof errcode === 'number' && ACCESS_TOKEN_ERROR_CODES.includes(errcode);
}

/**
 * Sends a request through `send`, which must throw an error with WeChat's `errcode` for a non-zero errcode. If WeChat
 * rejects the token the request carried, that token is remembered as rejected and the request is sent once more:
 * `authenticate` then refuses it and n8n fetches a new one (one token request per process, however many items fail
 * at once). A second rejection is thrown to the caller, never retried: nothing loops, and a request WeChat accepted is
 * never sent twice.
 */
export async function sendWithAccessToken<T>(requestOptions: IHttpRequestOptions, send: () => Promise<T>): Promise<T> {
	const first = await send().then(
		(value) => ({ ok: true as const, value }),
		(error: unknown) => ({ ok: false as const, error }),
	);
	if (first.ok) return first.value;
	const sentToken = tokenSentWith(requestOptions);
	// The caller turns every error into a clean node error; this layer only decides whether to send again.
	if (!isAccessTokenRejection(first.error) || sentToken === undefined) return await Promise.reject(first.error);
	markAccessTokenRejected(sentToken);
	return await send();
}
