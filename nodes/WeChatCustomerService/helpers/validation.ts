import { NodeOperationError, type IExecuteSingleFunctions } from 'n8n-workflow';

/**
 * Checks that run before any request is sent. Each error says what was wrong and how to fix it, because WeChat's own
 * answers for these cases (65404, 40003, 65416 …) do not.
 */

/** `prefix@公众号微信号`: prefix 1–10 letters, digits or underscores; the Official Account's WeChat ID after the @. */
export const KF_ACCOUNT_PATTERN = /^[A-Za-z0-9_]{1,10}@[A-Za-z0-9_-]{1,30}$/;
export const KF_ACCOUNT_HINT =
	'A customer-service account (客服账号) looks like prefix@WeChatID: a prefix of 1–10 English letters, digits or underscores, then @ and the Official Account\'s WeChat ID (公众号微信号), e.g. kf2001@gh_service.';
export const NICKNAME_MAX_LENGTH = 16;

function fail(context: IExecuteSingleFunctions, message: string, description: string): never {
	throw new NodeOperationError(context.getNode(), message, {
		description,
		itemIndex: context.getItemIndex(),
	});
}

export function requireKfAccount(
	context: IExecuteSingleFunctions,
	value: unknown,
	fieldLabel = 'Customer Service Account',
): string {
	const kfAccount = String(value ?? '').trim();
	if (!kfAccount) fail(context, `${fieldLabel} is empty`, KF_ACCOUNT_HINT);
	if (!KF_ACCOUNT_PATTERN.test(kfAccount)) {
		fail(context, `"${kfAccount}" is not a valid customer-service account`, KF_ACCOUNT_HINT);
	}
	return kfAccount;
}

export function requireNickname(context: IExecuteSingleFunctions, value: unknown): string {
	const nickname = String(value ?? '').trim();
	if (!nickname) {
		fail(context, 'Nickname is empty', 'Enter the nickname (客服昵称) users see, at most 16 characters.');
	}
	const length = [...nickname].length;
	if (length > NICKNAME_MAX_LENGTH) {
		fail(
			context,
			`Nickname is ${length} characters long; WeChat allows at most ${NICKNAME_MAX_LENGTH}`,
			'Shorten the nickname (客服昵称) to 16 characters or fewer.',
		);
	}
	return nickname;
}

export function requireOpenId(context: IExecuteSingleFunctions, value: unknown): string {
	const openId = String(value ?? '').trim();
	if (!openId) {
		fail(
			context,
			'OpenID is empty',
			'Map the user\'s OpenID, e.g. {{ $json.FromUserName }} from the WeChat Customer Service Trigger. It identifies the follower within this Official Account.',
		);
	}
	return openId;
}

/** `={{ $json.name }}`, the mapping n8n's editor writes when a field is dragged in: `name` is the field. */
const PLAIN_FIELD_MAPPING = /^=\{\{\s*\$json\.([A-Za-z_$][A-Za-z0-9_$]*)\s*\}\}$/;

/**
 * The value of a parameter written as `{{ $json.name }}` when the input item has a string in that field: exactly what
 * n8n's evaluation would give, without an expression evaluation. n8n's declarative engine has evaluated every set
 * parameter twice for each item before the node runs and keeps neither result; a third evaluation, in an isolate of
 * its own in n8n 2.x, is the largest per-item cost of a large send (BENCHMARKS.md, bulk-send-n8n). Anything else
 * (another expression, a missing field, a value that is not a string) is left to n8n: undefined.
 */
function mappedStringField(context: IExecuteSingleFunctions, raw: unknown): string | undefined {
	if (typeof raw !== 'string') return undefined;
	const field = PLAIN_FIELD_MAPPING.exec(raw)?.[1];
	if (field === undefined) return undefined;
	const json = context.getInputData().json;
	const value = Object.prototype.hasOwnProperty.call(json, field) ? json[field] : undefined;
	return typeof value === 'string' ? value : undefined;
}

/**
 * The OpenID an operation is about: the User OpenID parameter, or (messages, Recipient = Input Item Field) the named
 * field of the input item, read without evaluating any expression.
 */
export function requireRecipient(context: IExecuteSingleFunctions): string {
	if (context.getNodeParameter('openIdSource', 'parameter') !== 'inputField') {
		const mapped = mappedStringField(context, context.getNode().parameters.openId);
		return requireOpenId(context, mapped ?? context.getNodeParameter('openId', ''));
	}
	const field = String(context.getNodeParameter('openIdInputField', 'openid')).trim();
	const json = context.getInputData().json;
	const value = Object.prototype.hasOwnProperty.call(json, field) ? json[field] : undefined;
	if (typeof value !== 'string' || value.trim() === '') {
		fail(
			context,
			`The input item has no OpenID in its field "${field}"`,
			'Set OpenID Field Name to the field that holds the follower\'s OpenID (e.g. FromUserName from the WeChat Customer Service Trigger), or choose Recipient: User OpenID and map it.',
		);
	}
	return requireOpenId(context, value);
}

export function requireText(
	context: IExecuteSingleFunctions,
	value: unknown,
	fieldLabel: string,
	hint: string,
): string {
	const text = String(value ?? '').trim();
	if (!text) fail(context, `${fieldLabel} is empty`, hint);
	return text;
}

/** The account picked in a `kfAccount` resource locator (list or typed), validated. */
export function selectedKfAccount(context: IExecuteSingleFunctions, parameterName = 'kfAccount'): string {
	return requireKfAccount(context, context.getNodeParameter(parameterName, undefined, { extractValue: true }));
}
