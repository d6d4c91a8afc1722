import type {
	IDataObject,
	IExecuteFunctions,
	IExecuteSingleFunctions,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
} from 'n8n-workflow';

import { accessTokenOf, credentialSecrets, normalizeBaseUrl } from '../../shared/accessToken';
import { CREDENTIAL_NAME, errcodeOf, WeChatApiError } from '../helpers/errors';
import { withAccessTokenRetry } from '../helpers/tokenRetry';

type RequestContext = IExecuteSingleFunctions | ILoadOptionsFunctions | IExecuteFunctions;

export interface WeChatRequest {
	method: 'GET' | 'POST';
	/** Path below the API base URL, e.g. `/cgi-bin/customservice/getonlinekflist`. */
	url: string;
	qs?: IDataObject;
	/** A JSON object, or a `FormData` for multipart uploads. */
	body?: IDataObject | FormData;
}

/**
 * The one place that calls WeChat outside an operation's own routing: resource-locator lists, the least-loaded agent
 * look-up and media uploads that happen before a message is sent. Same guarantees as the routed requests: errcode
 * checked, token retried once, errors free of secrets.
 */
export async function weChatApiRequest(
	this: RequestContext,
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
	return await withAccessTokenRetry(this, requestOptions, itemIndex, async () => {
		const response = (await this.helpers.httpRequestWithAuthentication.call(
			this,
			CREDENTIAL_NAME,
			requestOptions,
		)) as IDataObject;
		const errcode = errcodeOf(response);
		if (errcode !== 0) {
			throw new WeChatApiError(this.getNode(), errcode, String(response.errmsg ?? ''), itemIndex, [
				accessTokenOf(requestOptions),
				...credentialSecrets(credentials),
			]);
		}
		return response;
	});
}
