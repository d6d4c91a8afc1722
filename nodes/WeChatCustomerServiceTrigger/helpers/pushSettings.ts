/**
 * The trigger's settings from its credential and parameters, and the set-up check that activation runs.
 */
import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';

import { DEFAULT_MEMORY_BYTES } from './deduplicate';
import type { FormatSetting } from './parsePush';
import { isValidEncodingAESKey } from './pushCrypto';

/** `fromWorkflow`: the workflow's Message → Reply decides, within `replyDeadlineMs` (replyFromWorkflow.ts). */
export type ReplySetting = 'success' | 'transferToCustomerService' | 'fromWorkflow';
/** What WeChat gets when the workflow does not reply in time, fails, or ends without a reply. */
export type FallbackReplySetting = 'success' | 'transferToCustomerService';

/**
 * WeChat waits 5 s for an answer, then closes the connection and delivers the push again. The trigger answers the
 * fallback at 4 s by default, leaving a second for the network; never later than 4.8 s, never before 0.5 s.
 */
export const DEFAULT_REPLY_DEADLINE_MS = 4000;
export const MIN_REPLY_DEADLINE_MS = 500;
export const MAX_REPLY_DEADLINE_MS = 4800;

/**
 * The 消息加解密方式 of 服务器配置. `auto` follows the credential: with an EncodingAESKey only encrypted pushes
 * (compatible or safe mode) are accepted, since WeChat sends ciphertext in both; without one, plaintext.
 */
export type EncryptionSetting = 'auto' | 'plaintext' | 'compatible' | 'safe';

/** What a push must be to be accepted: `encrypted` needs `msg_signature` and ciphertext. */
export type AcceptedPushes = 'plaintext' | 'encrypted';

export interface PushSettings {
	token: string;
	accepts: AcceptedPushes;
	appId: string;
	/** Current key first, then the previous one; empty in plaintext-only set-ups. */
	encodingAESKeys: string[];
	events: string[];
	reply: ReplySetting;
	kfAccount: string;
	/** Reply From Workflow only: the answer when the workflow is late, fails or gives none. */
	fallbackReply: FallbackReplySetting;
	/** Reply From Workflow only: how long the workflow has to reply, in milliseconds. */
	replyDeadlineMs: number;
	maxTimestampAge: number;
	deduplicate: boolean;
	format: FormatSetting;
	/** Separates this trigger's de-duplication entries from every other trigger's. */
	scope: string;
	/** The bound of the process-wide push memory (see deduplicate.ts). */
	memoryBytes: number;
	/** Whether the push memory is also kept in the workflow's static data for every n8n process (sharedPushMemory.ts). */
	sharePushMemory: boolean;
}

export const DEFAULT_MAX_TIMESTAMP_AGE = 300;

function credentialText(credentials: ICredentialDataDecryptedObject, name: string): string {
	const value = credentials[name];
	return typeof value === 'string' ? value : '';
}

/**
 * What is wrong with the push settings of a credential, in words a user can act on; undefined when nothing is.
 * Never quotes a secret, only says which field is wrong.
 */
export function findCredentialProblem(
	credentials: ICredentialDataDecryptedObject,
	encryption: EncryptionSetting = 'auto',
): string | undefined {
	const token = credentialText(credentials, 'token');
	const key = credentialText(credentials, 'encodingAESKey');
	const previousKey = credentialText(credentials, 'previousEncodingAESKey');
	if (!token) {
		return 'The credential has no Push Token (令牌). Enter the Token from the WeChat admin console → 设置与开发 → 基本配置 → 服务器配置.';
	}
	if (token !== token.trim()) {
		return 'The Push Token (令牌) of the credential starts or ends with a space; WeChat would never match it.';
	}
	if (key && !isValidEncodingAESKey(key)) {
		return 'The EncodingAESKey (消息加解密密钥) of the credential must be exactly 43 letters and digits, as generated in 服务器配置.';
	}
	if (previousKey && !isValidEncodingAESKey(previousKey)) {
		return 'The Previous EncodingAESKey of the credential must be exactly 43 letters and digits (or empty).';
	}
	if (previousKey && !key) {
		return 'The credential has a Previous EncodingAESKey but no EncodingAESKey: enter the current key too.';
	}
	if ((encryption === 'compatible' || encryption === 'safe') && !key) {
		return `Encryption is set to ${encryption} mode, but the credential has no EncodingAESKey (消息加解密密钥): copy it from 服务器配置.`;
	}
	if (key && !credentialText(credentials, 'appId')) {
		return 'The credential has no AppID (开发者ID); encrypted pushes are checked against it.';
	}
	return undefined;
}

export function readEncryptionSetting(value: unknown): EncryptionSetting {
	return value === 'plaintext' || value === 'compatible' || value === 'safe' ? value : 'auto';
}

function readReplySetting(value: unknown): ReplySetting {
	return value === 'transferToCustomerService' || value === 'fromWorkflow' ? value : 'success';
}

/** Inside WeChat's 5 s whatever an expression gives: out-of-range values are clamped, anything else is the default. */
function readReplyDeadline(value: unknown): number {
	const deadline = Number(value ?? DEFAULT_REPLY_DEADLINE_MS);
	if (!Number.isFinite(deadline)) return DEFAULT_REPLY_DEADLINE_MS;
	return Math.min(MAX_REPLY_DEADLINE_MS, Math.max(MIN_REPLY_DEADLINE_MS, Math.round(deadline)));
}

export function readPushSettings(
	credentials: ICredentialDataDecryptedObject,
	parameters: { events: unknown; reply: unknown; kfAccount: unknown; options: unknown; encryption?: unknown },
	scope: string,
): PushSettings {
	const options = (
		typeof parameters.options === 'object' && parameters.options !== null ? parameters.options : {}
	) as IDataObject;
	const maxAge = Number(options.maxTimestampAge ?? DEFAULT_MAX_TIMESTAMP_AGE);
	const format = options.format === 'xml' || options.format === 'json' ? options.format : 'auto';
	// An expression may give "text, CLICK" instead of a list.
	const events = Array.isArray(parameters.events)
		? parameters.events.map(String)
		: typeof parameters.events === 'string'
			? parameters.events.split(',').map((value) => value.trim())
			: [];
	const encodingAESKeys = [
		credentialText(credentials, 'encodingAESKey'),
		credentialText(credentials, 'previousEncodingAESKey'),
	].filter((key) => key !== '');
	const encryption = readEncryptionSetting(parameters.encryption);
	// Only an explicit choice of plaintext mode accepts unencrypted pushes while a key is configured.
	const accepts: AcceptedPushes =
		encryption === 'plaintext' || (encryption === 'auto' && encodingAESKeys.length === 0) ? 'plaintext' : 'encrypted';
	return {
		token: credentialText(credentials, 'token'),
		accepts,
		appId: credentialText(credentials, 'appId'),
		encodingAESKeys,
		events,
		reply: readReplySetting(parameters.reply),
		kfAccount: typeof parameters.kfAccount === 'string' ? parameters.kfAccount.trim() : '',
		fallbackReply: options.fallbackReply === 'transferToCustomerService' ? 'transferToCustomerService' : 'success',
		replyDeadlineMs: readReplyDeadline(options.replyDeadline),
		// A negative or non-numeric age (e.g. from an expression) falls back to the default rather than to "off".
		maxTimestampAge: Number.isFinite(maxAge) && maxAge >= 0 ? Math.floor(maxAge) : DEFAULT_MAX_TIMESTAMP_AGE,
		deduplicate: options.deduplicate !== false,
		format,
		scope,
		memoryBytes: DEFAULT_MEMORY_BYTES,
		sharePushMemory: options.sharePushMemory === true,
	};
}
