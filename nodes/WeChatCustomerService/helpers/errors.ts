import {
	NodeApiError,
	NodeOperationError,
	type IDataObject,
	type INode,
	type JsonObject,
} from 'n8n-workflow';

import { credentialSecrets } from '../../shared/accessToken/obtain';
import { explainWeChatError, weChatErrorMessage } from '../../shared/errorCodes';
import { redactSecrets } from '../../shared/redact';

export const CREDENTIAL_NAME = 'weChatOfficialAccountApi';

/**
 * A non-zero `errcode` from WeChat, explained. WeChat's `errmsg` is not trusted to be free of secrets: a proxy in
 * front of WeChat may echo the request's access token or the AppSecret in it, so it is redacted by pattern and by the
 * secrets known where the error is built, and again (`withoutSecrets`) once the token the request carried is known
 * (transport/weChatApiRequest.ts).
 */
export class WeChatApiError extends NodeApiError {
	readonly errcode: number;

	/** WeChat's errmsg, without the secrets known when this error was built. */
	readonly errmsg: string;

	constructor(
		node: INode,
		errcode: number,
		errmsg: string,
		itemIndex?: number,
		knownSecrets: Array<string | undefined> = [],
	) {
		const safeErrmsg = redactSecrets(errmsg, knownSecrets);
		const { fix } = explainWeChatError(errcode, safeErrmsg);
		const message = weChatErrorMessage(errcode, safeErrmsg);
		// WeChat's errmsg ends with a request id ("rid: …") that WeChat's support asks for, so keep it.
		const description = `${fix}${safeErrmsg ? ` WeChat said: "${safeErrmsg}"` : ''}`;
		super(node, { errcode, errmsg: safeErrmsg } as JsonObject, {
			message,
			description,
			itemIndex,
		});
		this.errcode = errcode;
		this.errmsg = safeErrmsg;
	}

	/** The same error built afresh with these secrets removed as well; nothing of this one is kept. */
	withoutSecrets(knownSecrets: Array<string | undefined>, itemIndex?: number): WeChatApiError {
		return new WeChatApiError(this.node, this.errcode, this.errmsg, itemIndex, knownSecrets);
	}
}

/**
 * The credential's secrets, to redact an error with. When the credential cannot be read the error is still redacted
 * by pattern and with the secrets the caller knows.
 */
export async function secretsOfCredential(context: {
	getCredentials(type: string): Promise<IDataObject>;
}): Promise<string[]> {
	try {
		return credentialSecrets(await context.getCredentials(CREDENTIAL_NAME));
	} catch {
		return [];
	}
}

/** The errcode of a WeChat answer body, 0 when it is a success. */
export function errcodeOf(body: unknown): number {
	if (typeof body !== 'object' || body === null) return 0;
	const errcode = (body as IDataObject).errcode;
	return errcode === undefined || errcode === null ? 0 : Number(errcode);
}

/**
 * n8n copies the failed request (URL with `?access_token=`, options, the axios error) into the errors it builds.
 * Errors that leave this node are rebuilt from their message, description and HTTP status alone (a WeChat error from
 * its errcode and errmsg), redacted with `knownSecrets`, which must hold the token the request carried and the
 * credential's secrets.
 */
export function cleanNodeError(
	node: INode,
	error: unknown,
	itemIndex: number,
	knownSecrets: Array<string | undefined> = [],
): NodeApiError | NodeOperationError {
	if (error instanceof WeChatApiError) return error.withoutSecrets(knownSecrets, itemIndex);
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
