/**
 * What the trigger does with one request, without n8n around it: verify, decrypt, parse, filter, de-duplicate and
 * decide the answer. `webhook()` only reads the request, sends the answer and starts the execution. Every failure is
 * an answer here, never an exception, so nothing hostile can make n8n start an execution with an error.
 */
import type { IDataObject } from 'n8n-workflow';

import { encryptedReplyXml, SUCCESS_REPLY, transferToCustomerServiceXml } from './buildReply';
import { deduplicationKey, recallReply, rememberReply, type StoredReply } from './deduplicate';
import { isUserMessage, matchesEvents } from './events';
import {
	checkRequiredFields,
	parsePushDocument,
	pushToItem,
	readPushBody,
	textField,
	type PushFields,
} from './parsePush';
import { CRYPTO_ERROR, decryptPush } from './pushCrypto';
import type { PushSettings } from './pushSettings';
import { isTimestampFresh, verifyMessageSignature, verifyUrlSignature } from './verifySignature';

export interface IncomingRequest {
	/** The parsed query string; only single string values count. */
	query: IDataObject;
	rawBody?: Buffer | string;
}

/** The HTTP answer, and for an accepted new push the item that starts an execution. */
export interface PushOutcome extends StoredReply {
	item?: IDataObject;
	/** Why nothing runs, for tests and logs: rejected, filtered out, or a repeated delivery. */
	note?: 'rejected' | 'filtered' | 'duplicate';
}

/** Reasons are short and never carry a secret; a name taken from the body is at most a few dozen characters. */
function reject(status: number, reason: string): PushOutcome {
	return { status, contentType: 'text/plain', body: reason.slice(0, 160), note: 'rejected' };
}

function acknowledge(body: string, contentType: string): StoredReply {
	return { status: 200, contentType, body };
}

export function queryText(query: IDataObject, name: string): string | undefined {
	const value = Object.prototype.hasOwnProperty.call(query, name) ? query[name] : undefined;
	return typeof value === 'string' ? value : undefined;
}

/** GET: WeChat checks the URL when the server configuration is saved; answer `echostr` byte for byte. */
export function answerHandshake(query: IDataObject, token: string): PushOutcome {
	const signature = queryText(query, 'signature');
	const timestamp = queryText(query, 'timestamp');
	const nonce = queryText(query, 'nonce');
	const echostr = queryText(query, 'echostr');
	if (!token) return reject(500, 'the trigger has no Push Token configured');
	if (signature === undefined || timestamp === undefined || nonce === undefined) {
		return reject(401, `${CRYPTO_ERROR.signature} missing signature, timestamp or nonce`);
	}
	if (!verifyUrlSignature(token, timestamp, nonce, signature)) {
		return reject(401, `${CRYPTO_ERROR.signature} signature invalid`);
	}
	if (echostr === undefined) return reject(400, 'missing echostr');
	return { status: 200, contentType: 'text/plain', body: echostr };
}

/** POST: one push. `now` is `Date.now()` in production. */
export function receivePush(request: IncomingRequest, settings: PushSettings, now: number): PushOutcome {
	const { query } = request;
	const { token } = settings;
	if (!token) return reject(500, 'the trigger has no Push Token configured');

	// `signature` on every push, whatever the mode (spec 3.1).
	const signature = queryText(query, 'signature');
	const timestamp = queryText(query, 'timestamp');
	const nonce = queryText(query, 'nonce');
	if (signature === undefined || timestamp === undefined || nonce === undefined) {
		return reject(401, `${CRYPTO_ERROR.signature} missing signature, timestamp or nonce`);
	}
	if (!verifyUrlSignature(token, timestamp, nonce, signature)) {
		return reject(401, `${CRYPTO_ERROR.signature} signature invalid`);
	}
	if (!isTimestampFresh(timestamp, settings.maxTimestampAge, now)) {
		return reject(401, 'timestamp outside the accepted window');
	}

	const body = readPushBody(request.rawBody, settings.format);
	if (!body.ok) return reject(body.status, body.reason);
	const envelope = parsePushDocument(body.text, body.format);
	if (!envelope.ok) return reject(400, envelope.reason);

	// `encrypt_type` absent or `raw` means plaintext mode; `aes` means compatible or safe mode (spec 3.2).
	const encryptType = queryText(query, 'encrypt_type') ?? 'raw';
	let fields: PushFields;
	let replyKey: string | undefined;
	if (encryptType === 'aes') {
		const msgSignature = queryText(query, 'msg_signature');
		const encrypt = textField(envelope.fields, 'Encrypt');
		if (msgSignature === undefined) return reject(401, `${CRYPTO_ERROR.signature} missing msg_signature`);
		if (encrypt === undefined) return reject(400, `${CRYPTO_ERROR.parse} the encrypted push has no Encrypt`);
		// msg_signature, not signature, is what covers the body (a pitfall of several SDKs).
		if (!verifyMessageSignature(token, timestamp, nonce, encrypt, msgSignature)) {
			return reject(401, `${CRYPTO_ERROR.signature} msg_signature invalid`);
		}
		if (settings.encodingAESKeys.length === 0) {
			return reject(500, `${CRYPTO_ERROR.aesKey} the trigger has no EncodingAESKey configured`);
		}
		const decrypted = decryptPush(encrypt, settings.encodingAESKeys, settings.appId);
		if (!decrypted.ok) return reject(400, `${decrypted.code} ${decrypted.reason}`);
		// In compatible mode the body repeats the fields in plaintext, but only the encrypted copy is authenticated
		// (msg_signature covers Encrypt alone), so the output always comes from the decrypted message.
		const inner = parsePushDocument(decrypted.message, body.format);
		if (!inner.ok) return reject(400, inner.reason);
		fields = inner.fields;
		replyKey = decrypted.encodingAESKey;
	} else if (encryptType === 'raw') {
		fields = envelope.fields;
	} else {
		return reject(400, `${CRYPTO_ERROR.parse} unknown encrypt_type`);
	}

	const missing = checkRequiredFields(fields);
	if (missing) return reject(400, missing);

	if (!matchesEvents(fields, settings.events)) {
		return { ...acknowledge(SUCCESS_REPLY, 'text/plain'), note: 'filtered' };
	}

	const key = settings.deduplicate ? deduplicationKey(settings.scope, fields) : undefined;
	if (key !== undefined) {
		const earlier = recallReply(key, now);
		if (earlier) return { ...earlier, note: 'duplicate' };
	}

	const reply = buildAnswer(fields, settings, replyKey, now);
	if (key !== undefined) rememberReply(key, reply, now);
	return { ...reply, item: pushToItem(fields) };
}

function buildAnswer(
	fields: PushFields,
	settings: PushSettings,
	encodingAESKey: string | undefined,
	now: number,
): StoredReply {
	// Only user messages can be handed to an agent; an event answered with a transfer would be ignored at best.
	if (settings.reply !== 'transferToCustomerService' || !isUserMessage(fields)) {
		return acknowledge(SUCCESS_REPLY, 'text/plain');
	}
	const nowSeconds = Math.floor(now / 1000);
	const xml = transferToCustomerServiceXml(
		{ ToUserName: textField(fields, 'ToUserName') ?? '', FromUserName: textField(fields, 'FromUserName') ?? '' },
		settings.kfAccount,
		nowSeconds,
	);
	// The reply is XML also for JSON-format pushes: WeChat documents passive replies, transfer_customer_service
	// included, only as XML (its Official Account push page even lists XML as the only data format), and the SDKs
	// that accept JSON pushes disagree on the key casing of a JSON reply (spec 3.3 and section 7), so XML is the one
	// shape known to be understood. Encrypted whenever the push was (safe mode requires it; compatible allows it).
	if (encodingAESKey === undefined) return acknowledge(xml, 'text/xml');
	return acknowledge(
		encryptedReplyXml(xml, { token: settings.token, encodingAESKey, appId: settings.appId, nowSeconds }),
		'text/xml',
	);
}
