import type {
	NodeApiError,
	NodeOperationError,
	IDataObject,
	IExecuteFunctions,
	IExecuteSingleFunctions,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	INode,
} from 'n8n-workflow';

import { normalizeBaseUrl } from '../../shared/accessToken/obtain';
import { isAccessTokenRejection, sendWithAccessToken, tokenSentWith } from '../../shared/accessToken/use';
import { webUrlProblem } from '../../shared/webUrl';
import { cleanNodeError, CREDENTIAL_NAME, errcodeOf, secretsOfCredential, WeChatApiError } from '../helpers/errors';
import { backOff, readRequestPolicy, retryReason, withInFlightLimit, type RequestPolicy } from './requestPolicy';

interface RequestContext {
	getNode(): INode;
	getCredentials(type: string): Promise<IDataObject>;
	logger: { warn(message: string): void };
}

/**
 * Calls outside an operation's own request — account lists, the least-loaded-agent look-up, media uploads — may be
 * retried after "system busy": none of them reaches a user (an upload repeated only makes another temporary media_id).
 * See requestPolicy.ts.
 */
const CALL_POLICY = readRequestPolicy({}, true);

/**
 * The one path every WeChat call takes, from an operation (helpers/operation.ts) or from anywhere else: it waits for
 * a free slot (requestPolicy.ts); `send` makes the HTTP request through n8n (which adds the token); a non-zero
 * errcode in the answer becomes a WeChatApiError; a rejected token is renewed and the request sent once more; a
 * frequency limit, a connection that never opened (then to the credential's backup host, if it names one) and, where
 * safe, "system busy" are retried with backoff; and an error leaves without the token the request carried, the
 * AppSecret or any other secret of the credential.
 */
export async function sendToWeChat(
	context: RequestContext,
	requestOptions: IHttpRequestOptions,
	itemIndex: number,
	send: () => Promise<IDataObject>,
	policy: RequestPolicy = CALL_POLICY,
): Promise<IDataObject> {
	const credentialKey = context.getNode().credentials?.[CREDENTIAL_NAME]?.id ?? CREDENTIAL_NAME;
	return await withInFlightLimit(credentialKey, policy.maxInFlight, async () => {
		for (let attempt = 0; ; attempt++) {
			try {
				return await sendWithAccessToken(requestOptions, async () => {
					const answer = await send();
					const errcode = errcodeOf(answer);
					if (errcode === 0) return answer;
					// Redacted again below, once it is certain which token the request carried.
					throw new WeChatApiError(context.getNode(), errcode, String(answer.errmsg ?? ''), itemIndex);
				});
			} catch (error) {
				const reason = attempt < policy.maxRetries ? retryReason(error, policy) : undefined;
				if (reason === undefined) throw await cleanError(context, requestOptions, itemIndex, error);
				const backup = reason === 'connection failed before sending' ? await backupHostOf(context) : '';
				if (backup) requestOptions.baseURL = backup;
				context.logger.warn(
					`WeChat ${requestOptions.url}: ${reason}; retry ${attempt + 1} of ${policy.maxRetries}${backup ? ' on the backup host' : ''} (item ${itemIndex})`,
				);
				await backOff(attempt);
			}
		}
	});
}

/** The credential's backup API host, for a connection that failed before anything was sent; '' when none is set. */
async function backupHostOf(context: RequestContext): Promise<string> {
	const credentials = await context.getCredentials(CREDENTIAL_NAME);
	const backup = String(credentials.backupBaseUrl ?? '').trim();
	return backup && webUrlProblem(backup) === undefined ? normalizeBaseUrl(backup) : '';
}

/**
 * The token this request carried may differ from the stored one (another item may have renewed it), and a proxy may
 * have echoed either, or the AppSecret, in its answer: all of them are removed.
 */
async function cleanError(
	context: RequestContext,
	requestOptions: IHttpRequestOptions,
	itemIndex: number,
	error: unknown,
): Promise<NodeApiError | NodeOperationError> {
	const secrets = [tokenSentWith(requestOptions), ...(await secretsOfCredential(context))];
	const clean = cleanNodeError(context.getNode(), error, itemIndex, secrets);
	if (isAccessTokenRejection(error)) {
		clean.description = `WeChat rejected a freshly obtained access token as well. ${clean.description ?? ''} If another system uses this AppID with the classic token, switch every system to the stable token or a central token service.`;
	}
	return clean;
}

type CallerContext = IExecuteSingleFunctions | ILoadOptionsFunctions | IExecuteFunctions;

export interface WeChatRequest {
	method: 'GET' | 'POST';
	/** Path below the API base URL, e.g. `/cgi-bin/customservice/getonlinekflist`. */
	url: string;
	qs?: IDataObject;
	/** A JSON object, or a `FormData` for multipart uploads. */
	body?: IDataObject | FormData;
}

/**
 * A WeChat call outside an operation's own request: resource-locator lists, the least-loaded agent look-up and media
 * uploads that happen before a message is sent.
 */
export async function weChatApiRequest(
	this: CallerContext,
	request: WeChatRequest,
	itemIndex = 0,
): Promise<IDataObject> {
	const credentials = await this.getCredentials(CREDENTIAL_NAME);
	const requestOptions: IHttpRequestOptions = {
		baseURL: normalizeBaseUrl(credentials.baseUrl),
		url: request.url,
		method: request.method,
		qs: { ...(request.qs ?? {}) },
		body: request.body,
		json: true,
	};
	return await sendToWeChat(
		this,
		requestOptions,
		itemIndex,
		async () =>
			(await this.helpers.httpRequestWithAuthentication.call(this, CREDENTIAL_NAME, requestOptions)) as IDataObject,
	);
}

