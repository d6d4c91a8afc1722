import type { IDataObject, IHttpRequestOptions, INode } from 'n8n-workflow';

import { accessTokenOf, markAccessTokenRejected } from '../../shared/accessToken';
import { ACCESS_TOKEN_ERROR_CODES } from '../../shared/errorCodes';
import { cleanNodeError, CREDENTIAL_NAME, secretsOfCredential, WeChatApiError } from './errors';

interface TokenRetryContext {
	getNode(): INode;
	getCredentials(type: string): Promise<IDataObject>;
}

function isAccessTokenError(error: unknown): error is WeChatApiError {
	return error instanceof WeChatApiError && ACCESS_TOKEN_ERROR_CODES.includes(error.errcode);
}

/**
 * Sends a request through `send`, which must throw a `WeChatApiError` for a non-zero errcode. If WeChat answers
 * 40001 / 40014 / 42001, the token the request carried is marked as rejected and the request is sent once more: the
 * credential's `authenticate` then refuses the rejected token, n8n runs `preAuthentication` (one token request per
 * process, however many items fail at once) and resends. A second token error is reported, never retried: nothing
 * loops, and a request WeChat accepted is never sent twice.
 *
 * `requestOptions` is the object the credential's `authenticate` writes the token into, so the token that failed is
 * known exactly even when other items have already renewed it.
 */
export async function withAccessTokenRetry<T>(
	context: TokenRetryContext,
	requestOptions: IHttpRequestOptions,
	itemIndex: number,
	send: () => Promise<T>,
): Promise<T> {
	let retriedAfterTokenError = false;
	for (;;) {
		try {
			return await send();
		} catch (error) {
			const sentToken = accessTokenOf(requestOptions);
			if (isAccessTokenError(error) && !retriedAfterTokenError) {
				retriedAfterTokenError = true;
				await markTokenRejected(context, sentToken);
				continue;
			}
			// The token this request carried may differ from the stored one (another item may have renewed it), and
			// a proxy may have echoed either, or the AppSecret, in its answer: all of them are removed.
			const secrets = [sentToken, ...(await secretsOfCredential(context))];
			const clean = cleanNodeError(context.getNode(), error, itemIndex, secrets);
			if (isAccessTokenError(error)) {
				clean.description = `WeChat rejected a freshly obtained access token as well. ${clean.description ?? ''} If another system uses this AppID with the classic token, switch every system to the stable token or a central token service.`;
			}
			throw clean;
		} finally {
			// The token must not travel any further: n8n keeps request options in some of its error objects.
			delete (requestOptions.qs as IDataObject | undefined)?.access_token;
		}
	}
}

async function markTokenRejected(context: TokenRetryContext, sentToken: string | undefined) {
	if (sentToken) {
		markAccessTokenRejected(sentToken);
		return;
	}
	// authenticate records the token on the request; should it not have, the stored token is the one that failed.
	const credentials = await context.getCredentials(CREDENTIAL_NAME);
	if (typeof credentials.accessToken === 'string' && credentials.accessToken) {
		markAccessTokenRejected(credentials.accessToken);
	}
}
