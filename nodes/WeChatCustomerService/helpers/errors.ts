import {
	NodeApiError,
	NodeOperationError,
	type IDataObject,
	type IExecuteSingleFunctions,
	type IN8nHttpFullResponse,
	type INode,
	type INodeExecutionData,
	type JsonObject,
} from 'n8n-workflow';

import { explainWeChatError, weChatErrorMessage } from '../../shared/errorCodes';
import { redactSecrets } from '../../shared/redact';

/** A non-zero `errcode` from WeChat, explained. Built only from WeChat's answer, so it holds no secret. */
export class WeChatApiError extends NodeApiError {
	readonly errcode: number;

	constructor(node: INode, errcode: number, errmsg: string, itemIndex?: number) {
		const { fix } = explainWeChatError(errcode, errmsg);
		const message = weChatErrorMessage(errcode, errmsg);
		// WeChat's errmsg ends with a request id ("rid: …") that WeChat's support asks for, so keep it.
		const description = `${fix}${errmsg ? ` WeChat said: "${redactSecrets(errmsg)}"` : ''}`;
		super(node, { errcode, errmsg: redactSecrets(errmsg) } as JsonObject, {
			message,
			description,
			itemIndex,
		});
		this.errcode = errcode;
	}
}

/** The errcode of a WeChat answer body, 0 when it is a success. */
export function errcodeOf(body: unknown): number {
	if (typeof body !== 'object' || body === null) return 0;
	const errcode = (body as IDataObject).errcode;
	return errcode === undefined || errcode === null ? 0 : Number(errcode);
}

/**
 * First step of every operation's output: WeChat reports failures inside HTTP 200 answers, and n8n would otherwise
 * hand `{ errcode, errmsg }` to the next node as if it were data.
 */
export async function throwOnWeChatError(
	this: IExecuteSingleFunctions,
	items: INodeExecutionData[],
	response: IN8nHttpFullResponse,
): Promise<INodeExecutionData[]> {
	const errcode = errcodeOf(response.body);
	if (errcode !== 0) {
		const errmsg = String((response.body as IDataObject).errmsg ?? '');
		throw new WeChatApiError(this.getNode(), errcode, errmsg, this.getItemIndex());
	}
	return items;
}

/**
 * n8n copies the failed request (URL with `?access_token=`, options, the axios error) into the errors it builds.
 * Errors that leave this node are rebuilt from their message, description and HTTP status alone, redacted.
 */
export function cleanNodeError(
	node: INode,
	error: unknown,
	itemIndex: number,
	knownSecrets: Array<string | undefined> = [],
): NodeApiError | NodeOperationError {
	if (error instanceof WeChatApiError) return error;
	const source = (error ?? {}) as {
		message?: unknown;
		description?: unknown;
		httpCode?: unknown;
		response?: { status?: number };
	};
	const message = redactSecrets(String(source.message ?? 'The request to WeChat failed'), knownSecrets);
	const description =
		source.description === undefined || source.description === null
			? undefined
			: redactSecrets(String(source.description), knownSecrets);
	if (error instanceof NodeOperationError) {
		return new NodeOperationError(node, message, { description, itemIndex });
	}
	const status = source.httpCode ?? source.response?.status;
	const httpCode = status === undefined || status === null ? undefined : String(status);
	return new NodeApiError(node, { message, description: description ?? '' } as JsonObject, {
		message,
		description,
		httpCode,
		itemIndex,
	});
}
