/**
 * Turns a push body into WeChat's fields, exactly as sent. n8n's own body parser is not used: it lower-cases XML tag
 * names and trims text, and it would lose the exact `Encrypt` string that `msg_signature` covers and the precision
 * of a JSON `MsgId`.
 */
import type { IDataObject } from 'n8n-workflow';

import { parseXml, XmlParseError, type XmlObject, type XmlValue } from '../../shared/xml';
import { JsonParseError, parseStrictJson, type JsonPushObject, type JsonPushValue } from './strictJson';

export type PushFormat = 'xml' | 'json';

/**
 * How the `format` option is expressed: `auto` accepts both, `xml` / `json` accept only that data format
 * (数据格式 in the admin console) and reject the other with 400, so a misconfigured account shows up at once.
 */
export type FormatSetting = 'auto' | PushFormat;

export type PushFields = XmlObject | JsonPushObject;
export type PushFieldValue = XmlValue | JsonPushValue;

/** WeChat's pushes are a few hundred bytes; compatible mode roughly triples that. 64 KiB leaves a wide margin. */
export const MAX_PUSH_BYTES = 64 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export type BodyResult =
	| { ok: true; text: string; format: PushFormat }
	| { ok: false; status: 400 | 413; reason: string };

/**
 * Size, UTF-8 and data-format checks on the raw body, before any parsing. The format is read from the body itself
 * (`<` or `{`), not from Content-Type: WeChat does not document that header for JSON pushes, and the body is what
 * gets parsed either way.
 */
export function readPushBody(raw: Buffer | string | undefined, formatSetting: FormatSetting): BodyResult {
	const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
	if (!bytes || bytes.length === 0) return { ok: false, status: 400, reason: 'empty body' };
	if (bytes.length > MAX_PUSH_BYTES) return { ok: false, status: 413, reason: 'body too large' };
	let text: string;
	try {
		text = utf8.decode(bytes);
	} catch {
		return { ok: false, status: 400, reason: 'body is not valid UTF-8' };
	}
	// TextDecoder already drops a leading BOM; only whitespace may precede the document.
	const first = text.trimStart()[0];
	const format: PushFormat | undefined = first === '<' ? 'xml' : first === '{' ? 'json' : undefined;
	if (!format) return { ok: false, status: 400, reason: '-40002 body is neither XML nor JSON' };
	if (formatSetting !== 'auto' && format !== formatSetting) {
		return {
			ok: false,
			status: 400,
			reason: `-40002 expected ${formatSetting === 'xml' ? 'an XML' : 'a JSON'} push, got ${format.toUpperCase()}`,
		};
	}
	return { ok: true, text, format };
}

export type ParseResult = { ok: true; fields: PushFields } | { ok: false; reason: string };

/** Parses a push document: XML must have the root `<xml>`, JSON must be an object. */
export function parsePushDocument(text: string, format: PushFormat): ParseResult {
	try {
		if (format === 'xml') {
			const document = parseXml(text);
			const root = Object.prototype.hasOwnProperty.call(document, 'xml') ? document.xml : undefined;
			if (!isObject(root)) return { ok: false, reason: '-40008 the root element must be <xml> with fields' };
			return { ok: true, fields: root };
		}
		const value = parseStrictJson(text);
		if (!isObject(value)) return { ok: false, reason: '-40008 the JSON push must be an object' };
		return { ok: true, fields: value };
	} catch (error) {
		if (error instanceof XmlParseError || error instanceof JsonParseError) {
			return { ok: false, reason: `-40002 ${format.toUpperCase()} parse error: ${error.message}` };
		}
		return { ok: false, reason: `-40002 ${format.toUpperCase()} parse error` };
	}
}

function isObject(value: unknown): value is PushFields {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A top-level text field, or undefined when absent or not text (e.g. repeated). */
export function textField(fields: PushFields, name: string): string | undefined {
	if (!Object.prototype.hasOwnProperty.call(fields, name)) return undefined;
	const value = fields[name];
	return typeof value === 'string' ? value : undefined;
}

/** A push must say who sent it to whom and what it is; everything else depends on the type. */
export function checkRequiredFields(fields: PushFields): string | undefined {
	for (const name of ['ToUserName', 'FromUserName', 'MsgType']) {
		if (!textField(fields, name)) return `-40008 the push has no ${name}`;
	}
	if (textField(fields, 'MsgType') === 'event' && textField(fields, 'Event') === undefined) {
		return '-40008 the event push has no Event';
	}
	return undefined;
}

function toPlain(value: PushFieldValue): IDataObject[keyof IDataObject] {
	if (Array.isArray(value)) return value.map((entry) => toPlain(entry)) as IDataObject[];
	if (typeof value === 'object' && value !== null) return toPlainObject(value);
	return value;
}

/**
 * The n8n item: WeChat's fields with plain prototypes, as n8n and workflows expect. The parsers already refused
 * `__proto__` and the other names that assignment would treat specially; the loop skips it once more, so no input
 * can ever reach the prototype setter. A loop with assignment is cheaper than `Object.fromEntries` over a map.
 */
function toPlainObject(fields: PushFields, leaveOut?: string): IDataObject {
	const plain: IDataObject = {};
	for (const key of Object.keys(fields)) {
		if (key === '__proto__' || key === leaveOut) continue;
		const value = fields[key];
		// Most fields are text: no call for them.
		plain[key] = typeof value === 'string' ? value : toPlain(value);
	}
	return plain;
}

/** The output item of a push. `Encrypt` is left out: an opaque blob that says nothing once decrypted. */
export function pushToItem(fields: PushFields): IDataObject {
	return toPlainObject(fields, 'Encrypt');
}
