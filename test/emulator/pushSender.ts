/**
 * WeChat's side of message push: builds a push exactly as WeChat sends it (plaintext, compatible or safe mode; XML or
 * JSON), delivers it with WeChat's retry rules, and decrypts an encrypted passive reply the way WeChat would.
 *
 * Delivery rules (docs/wechat-protocol.md §5): POST to the URL plus the query; a delivery fails when nothing answers within 5 s, the
 * connection fails, or the answer is HTTP 5xx; then WeChat tries again, 3 deliveries in total. Any other answer
 * (`success`, an empty body, XML, even garbage) ends it.
 *
 * Body rules: XML text values in CDATA, numbers bare (also numeric strings of WeChat's numeric fields such as MsgId,
 * which callers pass as strings because they exceed 2^53), nested objects as nested elements, arrays as repeated
 * elements. JSON keeps WeChat's numeric fields as bare number literals too, so a 64-bit MsgId arrives exactly as
 * WeChat sends it and a receiver must take care not to lose its precision.
 */
import { randomInt } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { encryptMessage, decryptMessage, messageSignature, plainSignature } from './pushCrypto';

export type PushMode = 'plaintext' | 'compatible' | 'safe';
export type PushFormat = 'xml' | 'json';
export type PushValue = string | number | Record<string, unknown>;

export interface PushOptions {
	mode: PushMode;
	format: PushFormat;
	/** Fields in the order WeChat sends them, e.g. {ToUserName, FromUserName, CreateTime, MsgType, Content, MsgId}. */
	message: Record<string, PushValue>;
	token: string;
	appId: string;
	/** 43 characters; required for compatible and safe. */
	encodingAESKey?: string;
	/** unix seconds as a string; default now */
	timestamp?: string;
	/** default 9–10 random digits */
	nonce?: string;
	/** query `openid`; default message.FromUserName */
	openid?: string;
}

export interface BuiltPush {
	/** signature, timestamp, nonce, openid, and in compatible/safe mode encrypt_type=aes and msg_signature. */
	query: Record<string, string>;
	body: string;
	contentType: string;
	/** The XML/JSON before encryption. */
	plaintextBody: string;
}

export interface Delivery {
	attempt: number;
	status?: number;
	body?: string;
	contentType?: string;
	error?: 'timeout' | 'connection';
	ms: number;
}

export interface DeliverOptions extends PushOptions {
	/** default 5000 */
	timeoutMs?: number;
	/** default 3 */
	maxDeliveries?: number;
	/** Deliver exactly this many times even when answered (for de-duplication tests). */
	forceDeliveries?: number;
}

/** WeChat's fields whose values are numbers on the wire. */
const NUMERIC_FIELDS = new Set([
	'CreateTime',
	'MsgId',
	'MsgID',
	'MsgDataId',
	'Idx',
	'Location_X',
	'Location_Y',
	'Scale',
	'Latitude',
	'Longitude',
	'Precision',
	'Count',
]);
const NUMERIC = /^-?\d+(\.\d+)?$/;

function isBareNumber(key: string, value: unknown): boolean {
	return typeof value === 'number' || (typeof value === 'string' && NUMERIC_FIELDS.has(key) && NUMERIC.test(value));
}

function cdata(text: string): string {
	return `<![CDATA[${text.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

function xmlElement(key: string, value: unknown): string {
	if (value === undefined || value === null) return '';
	if (Array.isArray(value)) return value.map((v) => xmlElement(key, v)).join('');
	if (isBareNumber(key, value)) return `<${key}>${String(value)}</${key}>`;
	if (typeof value === 'object') {
		const inner = Object.entries(value as Record<string, unknown>)
			.map(([k, v]) => xmlElement(k, v))
			.join('');
		return `<${key}>${inner}</${key}>`;
	}
	return `<${key}>${cdata(String(value))}</${key}>`;
}

export function toXml(fields: Record<string, unknown>): string {
	return `<xml>${Object.entries(fields)
		.map(([k, v]) => xmlElement(k, v))
		.join('')}</xml>`;
}

function jsonValue(key: string, value: unknown): string {
	if (isBareNumber(key, value)) return String(value);
	if (Array.isArray(value)) return `[${value.map((v) => jsonValue(key, v)).join(',')}]`;
	if (typeof value === 'object' && value !== null) return toJson(value as Record<string, unknown>);
	return JSON.stringify(value);
}

export function toJson(fields: Record<string, unknown>): string {
	const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
	return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${jsonValue(k, v)}`).join(',')}}`;
}

function randomDigits(): string {
	return String(randomInt(100_000_000, 2_147_483_647));
}

export function buildPush(options: PushOptions): BuiltPush {
	const timestamp = options.timestamp ?? String(Math.floor(Date.now() / 1000));
	const nonce = options.nonce ?? randomDigits();
	const { message, token, format, mode } = options;
	const plaintextBody = format === 'xml' ? toXml(message) : toJson(message);
	const query: Record<string, string> = {
		signature: plainSignature(token, timestamp, nonce),
		timestamp,
		nonce,
		openid: options.openid ?? String(message.FromUserName ?? ''),
	};
	const contentType = format === 'xml' ? 'text/xml' : 'application/json';
	if (mode === 'plaintext') return { query, body: plaintextBody, contentType, plaintextBody };

	if (!options.encodingAESKey) throw new Error(`buildPush: encodingAESKey is required in ${mode} mode`);
	const encrypt = encryptMessage(plaintextBody, options.encodingAESKey, options.appId);
	query.encrypt_type = 'aes';
	query.msg_signature = messageSignature(token, timestamp, nonce, encrypt);
	const envelope: Record<string, unknown> =
		mode === 'safe' ? { ToUserName: String(message.ToUserName ?? ''), Encrypt: encrypt } : { ...message, Encrypt: encrypt };
	const body = format === 'xml' ? toXml(envelope) : toJson(envelope);
	return { query, body, contentType, plaintextBody };
}

/** The GET WeChat sends when the push URL is saved in the admin console. */
export function buildHandshake(options: { token: string; echostr?: string; timestamp?: string; nonce?: string }): {
	query: Record<string, string>;
} {
	const timestamp = options.timestamp ?? String(Math.floor(Date.now() / 1000));
	const nonce = options.nonce ?? randomDigits();
	const echostr = options.echostr ?? `${randomDigits()}${randomDigits()}`;
	return { query: { signature: plainSignature(options.token, timestamp, nonce), echostr, timestamp, nonce } };
}

export function urlWithQuery(url: string, query: Record<string, string>): URL {
	const target = new URL(url);
	for (const [k, v] of Object.entries(query)) target.searchParams.append(k, v);
	return target;
}

function deliverOnce(target: URL, built: BuiltPush, attempt: number, timeoutMs: number): Promise<Delivery> {
	const started = Date.now();
	return new Promise((resolve) => {
		let settled = false;
		const finish = (delivery: Omit<Delivery, 'attempt' | 'ms'>) => {
			if (settled) return;
			settled = true;
			clearTimeout(timer);
			resolve({ attempt, ...delivery, ms: Date.now() - started });
		};
		const body = Buffer.from(built.body, 'utf8');
		const transport = target.protocol === 'https:' ? https : http;
		const request = transport.request(target, {
			method: 'POST',
			headers: {
				'content-type': built.contentType,
				'content-length': String(body.length),
				'user-agent': 'Mozilla/4.0',
				accept: '*/*',
				pragma: 'no-cache',
				connection: 'close',
			},
		});
		const timer = setTimeout(() => {
			finish({ error: 'timeout' });
			request.destroy();
		}, timeoutMs);
		request.on('error', () => finish({ error: 'connection' }));
		request.on('response', (response) => {
			const chunks: Buffer[] = [];
			response.on('data', (chunk: Buffer) => chunks.push(chunk));
			response.on('error', () => finish({ error: 'connection' }));
			response.on('end', () =>
				finish({
					status: response.statusCode,
					body: Buffer.concat(chunks).toString('utf8'),
					contentType: response.headers['content-type'],
				}),
			);
		});
		request.end(body);
	});
}

/**
 * One delivery of a push built before, as WeChat repeats it: the same URL and body. For retries sent while the first
 * delivery is still waiting for its answer, which deliverPush (one delivery after the other) cannot do.
 */
export async function deliverBuiltPush(url: string, built: BuiltPush, attempt = 1, timeoutMs = 5000): Promise<Delivery> {
	return await deliverOnce(urlWithQuery(url, built.query), built, attempt, timeoutMs);
}

export async function deliverPush(
	url: string,
	options: DeliverOptions,
): Promise<{ built: BuiltPush; deliveries: Delivery[] }> {
	const built = buildPush(options);
	const target = urlWithQuery(url, built.query);
	const timeoutMs = options.timeoutMs ?? 5000;
	const total = options.forceDeliveries ?? options.maxDeliveries ?? 3;
	const deliveries: Delivery[] = [];
	for (let attempt = 1; attempt <= total; attempt++) {
		const delivery = await deliverOnce(target, built, attempt, timeoutMs);
		deliveries.push(delivery);
		const failed = delivery.error !== undefined || (delivery.status ?? 0) >= 500;
		if (!failed && options.forceDeliveries === undefined) break;
	}
	return { built, deliveries };
}

/** The text of an element, with or without CDATA; undefined when absent. */
export function xmlField(xml: string, tag: string): string | undefined {
	const match = new RegExp(`<${tag}>\\s*(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*?))\\s*</${tag}>`).exec(xml);
	return match ? (match[1] ?? match[2]) : undefined;
}

/**
 * Decrypts an encrypted passive reply as WeChat does: `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`,
 * or JSON with those keys in any casing (SDKs differ: Encrypt/MsgSignature or encrypt/msgsignature).
 * Throws when there is no Encrypt or the appId inside does not match; a wrong signature is reported, not thrown.
 */
export function decryptReply(
	replyBody: string,
	options: { token: string; encodingAESKey: string; appId: string; format?: PushFormat },
): { plaintext: string; signatureValid: boolean; timestamp: string; nonce: string } {
	const format = options.format ?? (replyBody.trimStart().startsWith('{') ? 'json' : 'xml');
	let fields: { encrypt?: string; msgsignature?: string; timestamp?: string; nonce?: string };
	if (format === 'xml') {
		fields = {
			encrypt: xmlField(replyBody, 'Encrypt'),
			msgsignature: xmlField(replyBody, 'MsgSignature'),
			timestamp: xmlField(replyBody, 'TimeStamp'),
			nonce: xmlField(replyBody, 'Nonce'),
		};
	} else {
		const parsed = JSON.parse(replyBody) as Record<string, unknown>;
		fields = {};
		for (const [k, v] of Object.entries(parsed)) {
			const key = k.toLowerCase().replace(/_/g, '') as keyof typeof fields;
			if (['encrypt', 'msgsignature', 'timestamp', 'nonce'].includes(key)) fields[key] = String(v);
		}
	}
	if (!fields.encrypt) throw new Error('decryptReply: the reply has no Encrypt field');
	const timestamp = fields.timestamp ?? '';
	const nonce = fields.nonce ?? '';
	const expected = messageSignature(options.token, timestamp, nonce, fields.encrypt);
	const { message, appId } = decryptMessage(fields.encrypt, options.encodingAESKey);
	if (appId !== options.appId) {
		throw new Error(`decryptReply: the reply was encrypted for appId "${appId}", expected "${options.appId}"`);
	}
	return { plaintext: message, signatureValid: fields.msgsignature === expected, timestamp, nonce };
}
