import type {
	DeclarativeRestApiSettings,
	IDataObject,
	IExecutePaginationFunctions,
	IExecuteSingleFunctions,
	INodeExecutionData,
	IHttpRequestOptions,
	INodePropertyRouting,
	PostReceiveAction,
	PreSendAction,
} from 'n8n-workflow';

import { throwOnWeChatError } from './errors';
import { withAccessTokenRetry } from './tokenRetry';

export type Pagination = (
	this: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
) => Promise<INodeExecutionData[]>;

interface OperationRoutingOptions {
	preSend?: PreSendAction[];
	/** Runs after the errcode check, on the successful answer. */
	postReceive?: PostReceiveAction[];
	/** Replaces the plain "one request, token retry" behaviour, e.g. for chat-record windows. */
	pagination?: Pagination;
}

/**
 * The routing of one operation. Every operation goes through a pagination function (n8n calls it only when
 * `send.paginate` is set): that is the one place a declarative node can send a request again, which the access-token
 * retry needs. And every answer is checked for a WeChat `errcode` before anything else sees it.
 */
export function weChatRouting(
	request: DeclarativeRestApiSettings.HttpRequestOptions,
	options: OperationRoutingOptions = {},
): INodePropertyRouting {
	return {
		request,
		send: { paginate: true, preSend: options.preSend ?? [] },
		output: { postReceive: [throwOnWeChatError, ...(options.postReceive ?? [])] },
		operations: { pagination: options.pagination ?? sendWithTokenRetry },
	};
}

/** The default pagination: one request, retried once with a new token if WeChat rejected the token. */
export async function sendWithTokenRetry(
	this: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
): Promise<INodeExecutionData[]> {
	return await makeWeChatRoutingRequest(this, requestData);
}

/** Sends the operation's request (with its postReceive chain) through the access-token retry. */
export async function makeWeChatRoutingRequest(
	context: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
): Promise<INodeExecutionData[]> {
	return await withAccessTokenRetry(
		context,
		requestData.options as IHttpRequestOptions,
		context.getItemIndex(), async () =>
		await context.makeRoutingRequest(requestData),
	);
}

/**
 * The routing of an operation whose WeChat answer is only `{ errcode: 0 }`: the JSON body is built from validated
 * parameters before anything is sent, and the output item repeats that body with what happened (`{ ...body, closed:
 * true }`), so the next node has the account and user at hand.
 */
export function echoingJsonRouting(
	request: DeclarativeRestApiSettings.HttpRequestOptions,
	bodyOf: (context: IExecuteSingleFunctions) => IDataObject,
	outcome: IDataObject,
): INodePropertyRouting {
	return weChatRouting(request, {
		preSend: [
			async function buildBody(this: IExecuteSingleFunctions, requestOptions: IHttpRequestOptions) {
				requestOptions.body = bodyOf(this);
				return requestOptions;
			},
		],
		postReceive: [
			async function echoBody(this: IExecuteSingleFunctions): Promise<INodeExecutionData[]> {
				return [{ json: { ...bodyOf(this), ...outcome } }];
			},
		],
	});
}
