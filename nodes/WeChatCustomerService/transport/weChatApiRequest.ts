import {
	NodeOperationError,
	type NodeApiError,
	type IDataObject,
	type IExecuteFunctions,
	type IExecuteSingleFunctions,
	type IHttpRequestOptions,
	type ILoadOptionsFunctions,
	type IN8nHttpFullResponse,
	type INode,
} from 'n8n-workflow';

import { normalizeBaseUrl } from '../../shared/accessToken/obtain';
import { isAccessTokenRejection, sendWithAccessToken, tokenSentWith } from '../../shared/accessToken/use';
import { webUrlProblem } from '../../shared/webUrl';
import { DownloadTooLarge, readBodyAtMost } from '../helpers/binaryMedia';
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

/** A file WeChat answered with, and the headers that describe it. */
export interface DownloadedFile {
	buffer: Buffer;
	contentType: string;
	contentDisposition: string;
}

/** WeChat's JSON answers (an error, a video link) are small; anything longer is not one. */
const MAX_JSON_ANSWER_BYTES = 64 * 1024;

/** Whether WeChat answered JSON rather than a file: its errors are JSON, sometimes labelled text/plain. */
function isJsonAnswer(contentType: string): boolean {
	return /json|^text\/plain/i.test(contentType);
}

/**
 * A GET that WeChat answers with a file or with JSON (`/cgi-bin/media/get`). The body is streamed and read up to
 * `maxBytes`; a JSON answer goes through the usual errcode check and token retry and comes back as `{ json }`, a file
 * as `{ file }`. Errors leave without the access token the URL carried, like every other call (sendToWeChat).
 */
export async function weChatApiDownload(
	this: IExecuteSingleFunctions,
	request: Omit<WeChatRequest, 'method' | 'body'>,
	itemIndex: number,
	maxBytes: number,
): Promise<{ json: IDataObject } | { file: DownloadedFile }> {
	const credentials = await this.getCredentials(CREDENTIAL_NAME);
	const requestOptions: IHttpRequestOptions = {
		baseURL: normalizeBaseUrl(credentials.baseUrl),
		url: request.url,
		method: 'GET',
		qs: { ...(request.qs ?? {}) },
		encoding: 'stream',
		returnFullResponse: true,
		json: false,
	};
	const answer = await sendToWeChat(this, requestOptions, itemIndex, async () => {
		const response = (await this.helpers.httpRequestWithAuthentication.call(
			this,
			CREDENTIAL_NAME,
			requestOptions,
		)) as IN8nHttpFullResponse;
		const contentType = String(response.headers['content-type'] ?? '');
		if (isJsonAnswer(contentType)) {
			const body = await readBodyAtMost(response.body, MAX_JSON_ANSWER_BYTES, response.headers['content-length']).catch(
				(error: unknown) => {
					if (!(error instanceof DownloadTooLarge)) throw error;
					throw new NodeOperationError(this.getNode(), `WeChat answered more than 64 KB of ${contentType}`, {
						itemIndex,
						description:
							'WeChat answers a file, or a short JSON. Check that the credential\'s API base URL points at WeChat (or a proxy that passes its answers through unchanged).',
					});
				},
			);
			const text = body.toString('utf8');
			let json: IDataObject;
			try {
				json = JSON.parse(text) as IDataObject;
			} catch {
				throw new NodeOperationError(this.getNode(), `WeChat answered ${contentType} that is not JSON`, {
					itemIndex,
					description:
						'Check that the credential\'s API base URL points at WeChat (or a proxy that passes its answers through unchanged).',
				});
			}
			// errcode and errmsg where sendToWeChat looks for them.
			return { json, errcode: json?.errcode, errmsg: json?.errmsg };
		}
		const buffer = await readBodyAtMost(response.body, maxBytes, response.headers['content-length']).catch(
			(error: unknown) => {
				if (error instanceof DownloadTooLarge) throw tooLargeError(this, itemIndex, error);
				throw error;
			},
		);
		const contentDisposition = String(response.headers['content-disposition'] ?? '');
		return { file: { buffer, contentType, contentDisposition } as unknown as IDataObject };
	});
	return answer.file === undefined
		? { json: answer.json as IDataObject }
		: { file: answer.file as unknown as DownloadedFile };
}

/** What the user reads when a download is over the limit. */
export function tooLargeError(
	context: IExecuteSingleFunctions,
	itemIndex: number,
	error: DownloadTooLarge,
): NodeOperationError {
	// In the option's own unit, as typed: formatBytes would round a limit of 0.004 MB up to "5 KB".
	const limitMb = Number((error.maxBytes / (1024 * 1024)).toFixed(3));
	return new NodeOperationError(context.getNode(), `The media file is larger than the ${limitMb} MB limit (Max Size)`, {
		itemIndex,
		description:
			'Nothing more was read. WeChat\'s temporary images and videos are at most 10 MB and voice at most 2 MB; if this file is expected, raise Max Size (MB) in the node\'s options.',
	});
}
