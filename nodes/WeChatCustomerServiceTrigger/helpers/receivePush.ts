/**
 * What the trigger does with one request, without n8n around it: verify, decrypt, parse, filter, de-duplicate and
 * decide the answer. `webhook()` only reads the request, writes the log line, and sends the answer or hands it to
 * n8n with the execution to start. Every failure is an answer here, never an exception, so nothing hostile can make
 * n8n start an execution with an error. The order of the checks and why each is where it is:
 * docs/wechat-protocol.md §1–§5.
 */
import type { IDataObject } from 'n8n-workflow';

import type { PassiveReply } from '../../shared/passiveReply';
import { encryptedReplyXml, passiveReplyXml, SUCCESS_REPLY, transferReply, type ReplyAddress } from './buildReply';
import {
	contentDigest,
	memoryKey,
	MIN_RETENTION_MS,
	processPushMemory,
	pushIdentity,
	type PushMemory,
	type StoredReply,
} from './deduplicate';
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
import { readPushQuery, type PushQuery } from './pushQuery';
import type { PushSettings } from './pushSettings';
import { isTimestampFresh, verifyMessageSignature, verifyUrlSignature } from './verifySignature';

export interface IncomingRequest {
	/** The parsed query string as n8n gives it; read strictly by readPushQuery. */
	query: IDataObject;
	rawBody?: Buffer | string;
}

/** The HTTP answer, and for an accepted new push the item that starts an execution. */
export interface PushOutcome extends StoredReply {
	item?: IDataObject;
	/** Why nothing runs, for tests and logs: rejected, filtered out, or a repeated delivery. */
	note?: 'rejected' | 'filtered' | 'duplicate';
	/**
	 * One line for n8n's log: why a request was refused, or that a push was accepted without being remembered. It
	 * never holds a secret, a body or a decrypted field, only fixed wording and the names of query parameters.
	 */
	logLine?: string;
	/**
	 * For a push that starts an execution: the memory entries this request added. If n8n then fails to create the
	 * execution, `webhook()` forgets them, so that WeChat's retry runs the push instead of getting the stored answer.
	 */
	rememberedKeys?: string[];
	/** A repeated delivery: the memory key it was recognised by (an answer still being decided may be waited for). */
	matchedKey?: string;
	/** Reply From Workflow, for a push that starts an execution: where the workflow's reply goes, and how. */
	replyTarget?: ReplyTarget;
	/**
	 * Reply From Workflow: replaces the answer remembered for this push (the fallback, stored when it was accepted)
	 * with the one WeChat finally got, so that later deliveries get that answer; an error answer (n8n could not run
	 * the execution) is forgotten instead, so that WeChat's next delivery runs the push.
	 */
	rememberAnswer?: (answer: StoredReply, now: number) => void;
}

/** What a reply to one push needs besides its content: the push's two parties, and the key it came with. */
export interface ReplyTarget {
	address: ReplyAddress;
	/** The EncodingAESKey the push was decrypted with; the reply is encrypted with it. Undefined in plaintext mode. */
	encodingAESKey?: string;
	/** Only user messages can be handed to an agent (never events). */
	userMessage: boolean;
}

/** The answer is the reason, short and secret-free: the sender can only learn what it already sent. */
function reject(status: number, reason: string): PushOutcome {
	return { status, contentType: 'text/plain', body: reason, note: 'rejected', logLine: `refused: ${reason}` };
}

/**
 * Every failure after `msg_signature` passed gets this one answer: same status, same body, and no step that only
 * some failures take (pushCrypto.ts checks padding, length and AppID together). Otherwise anyone who knows the Token
 * — guessable offline from one captured `signature` — could decrypt a captured push one byte at a time by watching
 * which check failed (a padding oracle). The precise reason goes to the log only (docs/wechat-protocol.md §3).
 */
export const UNIFORM_FAILURE = `${CRYPTO_ERROR.decrypt} invalid encrypted push`;

function rejectAuthenticated(logReason: string): PushOutcome {
	return { ...reject(400, UNIFORM_FAILURE), logLine: `refused: ${UNIFORM_FAILURE} (${logReason})` };
}

function acknowledge(body: string, contentType: string): StoredReply {
	return { status: 200, contentType, body };
}

/** WeChat sends a random number as echostr; only letters, digits, `-` and `_` are ever reflected, never markup. */
const ECHOSTR = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * GET: WeChat checks the URL when the server configuration is saved; answer `echostr` byte for byte. `signature` does
 * not cover `echostr`, so the timestamp window applies here too and only WeChat's shape of echostr is echoed.
 */
export function answerHandshake(
	rawQuery: IDataObject,
	settings: Pick<PushSettings, 'token' | 'maxTimestampAge'>,
	now: number,
): PushOutcome {
	if (!settings.token) return reject(500, 'the trigger has no Push Token configured');
	const read = readPushQuery(rawQuery);
	if (!read.ok) return reject(400, read.reason);
	const { signature, timestamp, nonce, echostr } = read.query;
	if (signature === undefined || timestamp === undefined || nonce === undefined) {
		return reject(401, `${CRYPTO_ERROR.signature} missing signature, timestamp or nonce`);
	}
	if (!verifyUrlSignature(settings.token, timestamp, nonce, signature)) {
		return reject(401, `${CRYPTO_ERROR.signature} signature invalid`);
	}
	if (!isTimestampFresh(timestamp, settings.maxTimestampAge, now)) {
		return reject(401, 'timestamp outside the accepted window');
	}
	if (echostr === undefined || !ECHOSTR.test(echostr)) return reject(400, 'echostr missing or not WeChat\'s');
	return { status: 200, contentType: 'text/plain', body: echostr };
}

/** The authenticated content of a request, and where its answer is remembered. */
interface Authenticated {
	fields: PushFields;
	/** The key the push was decrypted with; the reply is encrypted with it. Undefined in plaintext mode. */
	replyKey?: string;
	/** Where the answer to this exact request is remembered (the replay guard). */
	requestKey: string;
	/** Plaintext mode: the body's digest, the one body the request's timestamp and nonce may carry. */
	digest?: string;
}

type Step = { ok: true; value: Authenticated } | { ok: false; outcome: PushOutcome };

/**
 * POST: one push. `now` is `Date.now()` in production; `memory` is what was answered before, in this process or (in
 * n8n's queue mode) in every process of the workflow (sharedPushMemory.ts).
 */
export function receivePush(
	request: IncomingRequest,
	settings: PushSettings,
	now: number,
	memory: PushMemory = processPushMemory,
): PushOutcome {
	const { token } = settings;
	if (!token) return reject(500, 'the trigger has no Push Token configured');
	const read = readPushQuery(request.query);
	if (!read.ok) return reject(400, read.reason);
	const query = read.query;

	// `signature` on every push, whatever the mode (§1).
	const { signature, timestamp, nonce } = query;
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

	const step =
		settings.accepts === 'encrypted'
			? authenticateEncrypted(query, envelope.fields, body.format, settings, now, memory)
			: authenticatePlaintext(query, envelope.fields, body.text, settings.scope, now, memory);
	if (!step.ok) return step.outcome;
	const { fields, replyKey, requestKey, digest } = step.value;
	const refuse = settings.accepts === 'encrypted' ? rejectAuthenticated : (reason: string) => reject(400, reason);

	const missing = checkRequiredFields(fields);
	if (missing) return refuse(missing);
	const identity = pushIdentity(settings.scope, fields);
	if (!identity.ok) return refuse(`-40008 ${identity.reason}`);
	// The query timestamp is the delivery's; CreateTime is the push's own, and in the encrypted modes the only time
	// an attacker who knows the Token cannot change: a captured push re-signed with a fresh timestamp fails here.
	const createTime = textField(fields, 'CreateTime') ?? '';
	if (!isTimestampFresh(createTime, settings.maxTimestampAge, now)) {
		return refuse('CreateTime outside the accepted window');
	}

	// Entries outlive the accepted window of both times, so nothing accepted can be replayed (§5).
	const windowEnd = (Math.max(Number(timestamp), Number(createTime)) + settings.maxTimestampAge + 1) * 1000;
	const expiresAt = Math.max(now + MIN_RETENTION_MS, settings.maxTimestampAge === 0 ? 0 : windowEnd);
	const records: MemoryRecord[] = [{ key: requestKey, contentDigest: digest }];
	const finish = (outcome: PushOutcome) =>
		remembered(outcome, records, expiresAt, now, settings.memoryBytes, memory);

	if (!matchesEvents(fields, settings.events)) {
		return finish({ status: 200, contentType: 'text/plain', body: SUCCESS_REPLY, note: 'filtered' });
	}
	if (settings.deduplicate) {
		const identityKey = identity.key();
		const earlier = memory.recall(identityKey, now);
		if (earlier) return finish({ ...earlier.reply, note: 'duplicate', matchedKey: identityKey });
		records.push({ key: identityKey });
	}
	if (settings.reply === 'success') {
		return finish({ status: 200, contentType: 'text/plain', body: SUCCESS_REPLY, item: pushToItem(fields) });
	}
	const target: ReplyTarget = {
		address: { ToUserName: textField(fields, 'ToUserName') ?? '', FromUserName: textField(fields, 'FromUserName') ?? '' },
		encodingAESKey: replyKey,
		userMessage: isUserMessage(fields),
	};
	const started = finish({ ...answerBySetting(target, settings, now), item: pushToItem(fields) });
	if (settings.reply !== 'fromWorkflow') return started;
	const keys = started.rememberedKeys ?? [];
	return {
		...started,
		replyTarget: target,
		rememberAnswer: (answer, at) => {
			if (keys.length === 0) return;
			memory.forget(keys);
			if (answer.status < 300) memory.remember(records, answer, expiresAt, at, settings.memoryBytes);
		},
	};
}

type MemoryRecord = { key: string; contentDigest?: string };

/**
 * Remembers a push's answer under every key of its request (the replay guard, and with Ignore Retried Pushes its
 * identity) and completes the outcome: the keys of a push that starts an execution, and the log line when the memory
 * was full. `outcome` is the caller's own new object and is completed in place: copying it once for each property
 * added cost more than everything else the trigger adds to a push.
 */
function remembered(
	outcome: PushOutcome,
	records: MemoryRecord[],
	expiresAt: number,
	now: number,
	maxBytes: number,
	memory: PushMemory,
): PushOutcome {
	const reply = { status: outcome.status, contentType: outcome.contentType, body: outcome.body };
	const stored = memory.remember(records, reply, expiresAt, now, maxBytes);
	// Every record of a push that starts an execution is new (a known one would have answered it above).
	if (outcome.item) outcome.rememberedKeys = records.map((record) => record.key);
	if (!stored) {
		outcome.logLine =
			'accepted without replay protection or de-duplication: the push memory is full (a retry of this push may run again)';
	}
	return outcome;
}

/** Plaintext: the same request again gets the answer it got; the same timestamp and nonce with another body: refused. */
function recallRequest(
	memory: PushMemory,
	requestKey: string,
	digest: string,
	now: number,
): PushOutcome | 'new' | 'conflict' {
	const earlier = memory.recall(requestKey, now);
	if (!earlier) return 'new';
	if (earlier.contentDigest !== digest) return 'conflict';
	return { ...earlier.reply, note: 'duplicate', matchedKey: requestKey };
}

/**
 * Compatible and safe mode (§2): `encrypt_type=aes`, a `msg_signature` over the exact `Encrypt` string, and the
 * output from the decrypted copy only — compatible mode's plaintext copy is covered by no signature.
 */
function authenticateEncrypted(
	query: PushQuery,
	envelope: PushFields,
	format: 'xml' | 'json',
	settings: PushSettings,
	now: number,
	memory: PushMemory,
): Step {
	const fail = (outcome: PushOutcome): Step => ({ ok: false, outcome });
	const msgSignature = query.msg_signature;
	if (query.encrypt_type !== 'aes' || msgSignature === undefined) {
		return fail(
			reject(
				401,
				`${CRYPTO_ERROR.signature} encrypted push expected (encrypt_type=aes with msg_signature)`,
			),
		);
	}
	const encrypt = textField(envelope, 'Encrypt');
	if (encrypt === undefined) return fail(reject(400, `${CRYPTO_ERROR.parse} the encrypted push has no Encrypt`));
	// msg_signature, not signature, is what covers the body (a pitfall of several SDKs).
	if (!verifyMessageSignature(settings.token, query.timestamp ?? '', query.nonce ?? '', encrypt, msgSignature)) {
		return fail(reject(401, `${CRYPTO_ERROR.signature} msg_signature invalid`));
	}
	if (settings.encodingAESKeys.length === 0) {
		return fail(reject(500, `${CRYPTO_ERROR.aesKey} the trigger has no EncodingAESKey configured`));
	}
	// From here on every failure gets the one uniform answer. The verified msg_signature, a SHA-1 over the Token, the
	// timestamp, the nonce and this exact Encrypt, identifies the request: a repeat gets the stored answer. Another
	// Encrypt under the same timestamp and nonce needs the Token to sign, and whoever has it can as well pick a fresh
	// nonce; what stops such a push is the AES key, the CreateTime window and de-duplication, as for any other. The
	// key starts with the signature (40 hex digits), as the shared copy keeps only a key's first characters.
	const requestKey = `${msgSignature}\u0000request\u0000${settings.scope}`;
	const earlier = memory.recall(requestKey, now);
	if (earlier) return fail({ ...earlier.reply, note: 'duplicate', matchedKey: requestKey });
	const decrypted = decryptPush(encrypt, settings.encodingAESKeys, settings.appId);
	if (!decrypted.ok) return fail(rejectAuthenticated(`${decrypted.code} ${decrypted.reason}`));
	const inner = parsePushDocument(decrypted.message, format);
	if (!inner.ok) return fail(rejectAuthenticated('the decrypted message is not a push document'));
	return { ok: true, value: { fields: inner.fields, replyKey: decrypted.encodingAESKey, requestKey } };
}

/**
 * Plaintext mode (§2): nothing covers the body, so the body is bound to the request's timestamp and nonce instead —
 * a URL seen once (in a proxy log, a screenshot) cannot carry another body while its timestamp is accepted.
 */
function authenticatePlaintext(
	query: PushQuery,
	envelope: PushFields,
	bodyText: string,
	scope: string,
	now: number,
	memory: PushMemory,
): Step {
	const fail = (outcome: PushOutcome): Step => ({ ok: false, outcome });
	const encryptType = query.encrypt_type ?? 'raw';
	if (encryptType === 'aes') {
		return fail(
			reject(
				400,
				`${CRYPTO_ERROR.aesKey} encrypted push received in plaintext mode: set the trigger's Encryption and the credential's EncodingAESKey`,
			),
		);
	}
	if (encryptType !== 'raw') return fail(reject(400, `${CRYPTO_ERROR.parse} unknown encrypt_type`));
	const requestKey = memoryKey([scope, 'request', query.timestamp ?? '', query.nonce ?? '']);
	const digest = contentDigest(bodyText);
	const earlier = recallRequest(memory, requestKey, digest, now);
	if (earlier === 'conflict') {
		return fail(reject(401, `${CRYPTO_ERROR.signature} timestamp and nonce already used with another body`));
	}
	if (earlier !== 'new') return fail(earlier);
	return { ok: true, value: { fields: envelope, requestKey, digest } };
}

/**
 * The answer the trigger decides itself: `success`, the transfer, or for Reply From Workflow the fallback (remembered
 * until the workflow's own reply replaces it).
 */
function answerBySetting(target: ReplyTarget, settings: PushSettings, now: number): StoredReply {
	const reply = settings.reply === 'fromWorkflow' ? settings.fallbackReply : settings.reply;
	if (reply !== 'transferToCustomerService') return acknowledge(SUCCESS_REPLY, 'text/plain');
	// The fallback's transfer lets WeChat choose the agent: Agent Account belongs to Reply = Transfer.
	const agent = settings.reply === 'transferToCustomerService' ? settings.kfAccount : '';
	return passiveAnswer(target, transferReply(agent), settings, now);
}

/**
 * The HTTP answer that carries `reply` to the push's sender; `success` for a transfer of an event (only user messages
 * can be handed to an agent; an event answered with a transfer would be ignored at best).
 */
export function passiveAnswer(
	target: ReplyTarget,
	reply: PassiveReply,
	settings: Pick<PushSettings, 'token' | 'appId'>,
	now: number,
): StoredReply {
	if (reply.MsgType === 'transfer_customer_service' && !target.userMessage) {
		return acknowledge(SUCCESS_REPLY, 'text/plain');
	}
	const nowSeconds = Math.floor(now / 1000);
	const xml = passiveReplyXml(target.address, reply, nowSeconds);
	// The reply is XML also for JSON-format pushes: WeChat documents passive replies, transfer_customer_service
	// included, only as XML (its Official Account push page even lists XML as the only data format), and the SDKs
	// that accept JSON pushes disagree on the key casing of a JSON reply (docs/wechat-protocol.md §6 and §7), so XML is
	// the one shape known to be understood. Encrypted whenever the push was (safe mode requires it; compatible allows
	// it), with the key the push came with.
	if (target.encodingAESKey === undefined) return acknowledge(xml, 'text/xml');
	return acknowledge(
		encryptedReplyXml(xml, {
			token: settings.token,
			encodingAESKey: target.encodingAESKey,
			appId: settings.appId,
			nowSeconds,
		}),
		'text/xml',
	);
}
