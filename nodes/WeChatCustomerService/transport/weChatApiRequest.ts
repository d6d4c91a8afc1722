import type {
	IDataObject,
	IExecuteFunctions,
	IExecuteSingleFunctions,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	INode,
} from 'n8n-workflow';

import { normalizeBaseUrl } from '../../shared/accessToken/obtain';
import { isAccessTokenRejection, sendWithAccessToken, tokenSentWith } from '../../shared/accessToken/use';
import { cleanNodeError, CREDENTIAL_NAME, errcodeOf, secretsOfCredential, WeChatApiError } from '../helpers/errors';

interface RequestContext {
	getNode(): INode;
	getCredentials(type: string): Promise<IDataObject>;
}

/**
 * The one path every WeChat call takes, from an operation (helpers/operation.ts) or from anywhere else: `send` makes
 * the HTTP request through n8n (which adds the token); a non-zero errcode in the answer becomes a WeChatApiError; a
 * rejected token is renewed and the request sent once more; and an error leaves without the token the request
 * carried, the AppSecret or any other secret of the credential.
 */
export async function sendToWeChat(
	context: RequestContext,
	requestOptions: IHttpRequestOptions,
	itemIndex: number,
	send: () => Promise<IDataObject>,
): Promise<IDataObject> {
	try {
		return await sendWithAccessToken(requestOptions, async () => {
			const answer = await send();
			const errcode = errcodeOf(answer);
			if (errcode === 0) return answer;
			// Redacted again below, once it is certain which token the request carried.
			throw new WeChatApiError(context.getNode(), errcode, String(answer.errmsg ?? ''), itemIndex);
		});
	} catch (error) {
		// The token this request carried may differ from the stored one (another item may have renewed it), and a
		// proxy may have echoed either, or the AppSecret, in its answer: all of them are removed.
		const secrets = [tokenSentWith(requestOptions), ...(await secretsOfCredential(context))];
		const clean = cleanNodeError(context.getNode(), error, itemIndex, secrets);
		if (isAccessTokenRejection(error)) {
			clean.description = `WeChat rejected a freshly obtained access token as well. ${clean.description ?? ''} If another system uses this AppID with the classic token, switch every system to the stable token or a central token service.`;
		}
		throw clean;
	}
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

