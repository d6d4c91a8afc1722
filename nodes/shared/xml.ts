/**
 * A strict parser and a small builder for WeChat's XML.
 *
 * WeChat's pushes are small, flat documents (`<xml><ToUserName>…</ToUserName>…</xml>`) with a few nested structures
 * (ScanCodeInfo, SendPicsInfo/PicList/item, SendLocationInfo, …). A general XML library is neither allowed in a
 * community node nor wanted: it would bring DOCTYPE handling, entity expansion and external entities, which are
 * exactly the attack surface of a public webhook. This parser understands elements, text, CDATA, comments, the five
 * predefined entities and character references (and skips well-formed attributes, which WeChat does not send); it
 * rejects everything else instead of guessing.
 *
 * The result keeps WeChat's element names and text exactly as sent (no trimming, no number conversion: a 64-bit
 * MsgId must stay a string). Objects are built on `Object.create(null)` and names such as `__proto__`,
 * `constructor` and `prototype` are rejected, so a body can never reach a prototype.
 */

export type XmlValue = string | XmlObject | XmlValue[];

export interface XmlObject {
	[name: string]: XmlValue;
}

export interface XmlParseLimits {
	/** Longest accepted document in characters. */
	maxLength: number;
	/** Deepest accepted nesting, the root element counting as 1. */
	maxDepth: number;
	/** Most elements accepted in one document. */
	maxElements: number;
}

/** Generous for WeChat (a push has one root, a dozen fields, at most three levels). */
export const DEFAULT_XML_LIMITS: XmlParseLimits = {
	maxLength: 256 * 1024,
	maxDepth: 16,
	maxElements: 2000,
};

/** Element (or JSON key) names that could reach an object's prototype when used as a property name. */
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

export function isForbiddenName(name: string): boolean {
	return FORBIDDEN_NAMES.has(name);
}

export class XmlParseError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'XmlParseError';
	}
}

/**
 * Children that are lists in WeChat's documents even with one entry (SendPicsInfo → PicList → item, and the `item`
 * lists of other event types): always returned as arrays so a workflow does not see an object for one picture and
 * an array for two.
 */
const ALWAYS_LIST = new Set(['item']);

// ASCII letters, digits, `_`, `-`, `.`; no namespaces (WeChat has none). Starting with a letter or `_`.
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const MAX_NAME_LENGTH = 128;

const PREDEFINED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

interface OpenElement {
	name: string;
	text: string;
	hasText: boolean;
	children: XmlObject;
	hasChildren: boolean;
}

function isXmlWhitespace(code: number): boolean {
	return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/**
 * Rejects NUL and lone surrogates only. XML 1.0 also forbids the other C0 control characters, but a user's message
 * text ends up in CDATA, and should WeChat ever pass such a character through, refusing the push would make WeChat
 * tell the user "该公众号暂时无法提供服务". The characters are harmless to this parser.
 */
function checkCharacters(text: string): void {
	if (text.includes('\u0000')) throw new XmlParseError('invalid character U+0000');
	// A string is well-formed exactly when it has no lone surrogate: the native check, instead of a loop over every
	// character of every push in JavaScript.
	if (!(text as unknown as WellFormed).isWellFormed()) throw new XmlParseError('invalid character (lone surrogate)');
}

/** `String.prototype.isWellFormed` (ES2024, in every Node that n8n runs on: V8 11.1+, Node 20+), not yet in our `lib`. */
interface WellFormed {
	isWellFormed(): boolean;
}

function checkName(name: string): void {
	if (name.length > MAX_NAME_LENGTH || !NAME.test(name)) throw new XmlParseError('invalid element name');
	if (isForbiddenName(name)) throw new XmlParseError(`forbidden element name "${name}"`);
}

/** Replaces the predefined entities and character references; any other `&` is an error (no DTD, no entities). */
function decodeText(raw: string): string {
	if (!raw.includes('&')) return raw;
	let out = '';
	let i = 0;
	while (i < raw.length) {
		const amp = raw.indexOf('&', i);
		if (amp === -1) {
			out += raw.slice(i);
			break;
		}
		out += raw.slice(i, amp);
		const semi = raw.indexOf(';', amp);
		if (semi === -1 || semi - amp > 12) throw new XmlParseError('unterminated entity reference');
		const ref = raw.slice(amp + 1, semi);
		if (ref.startsWith('#')) {
			const code = /^#x[0-9A-Fa-f]{1,6}$/.test(ref)
				? parseInt(ref.slice(2), 16)
				: /^#[0-9]{1,7}$/.test(ref)
					? parseInt(ref.slice(1), 10)
					: NaN;
			if (!Number.isInteger(code) || code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
				throw new XmlParseError('invalid character reference');
			}
			out += String.fromCodePoint(code);
		} else if (Object.prototype.hasOwnProperty.call(PREDEFINED_ENTITIES, ref)) {
			out += PREDEFINED_ENTITIES[ref];
		} else {
			throw new XmlParseError('undeclared entity reference (entities are not supported)');
		}
		i = semi + 1;
	}
	return out;
}

function addChild(parent: OpenElement, name: string, value: XmlValue): void {
	const { children } = parent;
	// `children` has no prototype and forbidden names never get here; the own-property check keeps it that way even
	// if that ever changed.
	if (Object.prototype.hasOwnProperty.call(children, name)) {
		const existing = children[name];
		if (Array.isArray(existing)) existing.push(value);
		else children[name] = [existing, value];
	} else {
		children[name] = ALWAYS_LIST.has(name) ? [value] : value;
	}
	parent.hasChildren = true;
}

/** Skips `<!-- … -->` at `i`; returns the index after it. */
function skipComment(xml: string, i: number): number {
	const end = xml.indexOf('-->', i + 4);
	if (end === -1) throw new XmlParseError('unterminated comment');
	if (xml.slice(i + 4, end).includes('--')) throw new XmlParseError('invalid comment');
	return end + 3;
}

/** Skips a start tag's attributes (WeChat sends none; well-formed ones are tolerated and ignored). */
function readTagEnd(xml: string, i: number): { end: number; selfClosing: boolean } {
	const attribute = /\s+([A-Za-z_][A-Za-z0-9_.:-]*)\s*=\s*("[^"<]*"|'[^'<]*')/y;
	let pos = i;
	for (;;) {
		attribute.lastIndex = pos;
		const match = attribute.exec(xml);
		if (!match) break;
		decodeText(match[2].slice(1, -1));
		pos = attribute.lastIndex;
	}
	while (pos < xml.length && isXmlWhitespace(xml.charCodeAt(pos))) pos++;
	if (xml.startsWith('/>', pos)) return { end: pos + 2, selfClosing: true };
	if (xml[pos] === '>') return { end: pos + 1, selfClosing: false };
	throw new XmlParseError('malformed start tag');
}

/**
 * Parses a document into `{ [rootName]: value }`. An element with child elements becomes an object, a leaf element
 * its text (CDATA and text concatenated exactly as sent); repeated names become arrays, as do `item` lists.
 * Throws `XmlParseError` on anything outside that subset: DOCTYPE or entity declarations, processing instructions
 * other than a leading XML declaration, undeclared entities, mixed content, unbalanced tags, forbidden names, or a
 * document beyond the limits.
 */
export function parseXml(xml: string, limits: XmlParseLimits = DEFAULT_XML_LIMITS): XmlObject {
	if (xml.length > limits.maxLength) throw new XmlParseError('document too large');
	checkCharacters(xml);

	let i = 0;
	if (xml.startsWith('<?xml')) {
		const end = xml.indexOf('?>');
		if (end === -1) throw new XmlParseError('unterminated XML declaration');
		if (!/^<\?xml\s[^<>]*$/.test(xml.slice(0, end))) throw new XmlParseError('malformed XML declaration');
		i = end + 2;
	}

	const stack: OpenElement[] = [];
	const root: OpenElement = {
		name: '',
		text: '',
		hasText: false,
		children: Object.create(null) as XmlObject,
		hasChildren: false,
	};
	let elements = 0;
	let rootClosed = false;

	while (i < xml.length) {
		const current = stack[stack.length - 1];
		const lt = xml.indexOf('<', i);
		const textEnd = lt === -1 ? xml.length : lt;
		if (textEnd > i) {
			const raw = xml.slice(i, textEnd);
			if (current) {
				if (raw.includes(']]>')) throw new XmlParseError('"]]>" in text');
				current.text += decodeText(raw);
				current.hasText = true;
			} else if (!/^[\t\n\r ]*$/.test(raw)) {
				throw new XmlParseError('text outside the root element');
			}
			i = textEnd;
			continue;
		}

		if (xml.startsWith('<!--', i)) {
			i = skipComment(xml, i);
			continue;
		}
		if (xml.startsWith('<![CDATA[', i)) {
			if (!current) throw new XmlParseError('CDATA outside the root element');
			const end = xml.indexOf(']]>', i + 9);
			if (end === -1) throw new XmlParseError('unterminated CDATA section');
			current.text += xml.slice(i + 9, end);
			current.hasText = true;
			i = end + 3;
			continue;
		}
		if (xml.startsWith('<!', i)) {
			// <!DOCTYPE …>, <!ENTITY …> and friends: the doorway to entity expansion and external entities.
			throw new XmlParseError('DOCTYPE and entity declarations are not accepted');
		}
		if (xml.startsWith('<?', i)) throw new XmlParseError('processing instructions are not accepted');

		if (xml.startsWith('</', i)) {
			const match = /<\/([^\s>]*)\s*>/y;
			match.lastIndex = i;
			const closing = match.exec(xml);
			if (!closing || !current || closing[1] !== current.name) throw new XmlParseError('mismatched closing tag');
			stack.pop();
			const parent = stack[stack.length - 1] ?? root;
			let value: XmlValue;
			if (current.hasChildren) {
				if (current.hasText && !/^[\t\n\r ]*$/.test(current.text)) {
					throw new XmlParseError(`mixed content in <${current.name}>`);
				}
				value = current.children;
			} else {
				value = current.text;
			}
			addChild(parent, current.name, value);
			if (stack.length === 0) rootClosed = true;
			i = match.lastIndex;
			continue;
		}

		// Start tag.
		if (rootClosed) throw new XmlParseError('content after the root element');
		const nameMatch = /<([^\s/>]*)/y;
		nameMatch.lastIndex = i;
		const name = (nameMatch.exec(xml) ?? ['', ''])[1];
		checkName(name);
		elements++;
		if (elements > limits.maxElements) throw new XmlParseError('too many elements');
		if (stack.length + 1 > limits.maxDepth) throw new XmlParseError('nesting too deep');
		const { end, selfClosing } = readTagEnd(xml, nameMatch.lastIndex);
		i = end;
		if (selfClosing) {
			addChild(current ?? root, name, '');
			if (!current) rootClosed = true;
		} else {
			stack.push({
				name,
				text: '',
				hasText: false,
				children: Object.create(null) as XmlObject,
				hasChildren: false,
			});
		}
	}

	if (stack.length > 0) throw new XmlParseError(`unclosed element <${stack[stack.length - 1].name}>`);
	if (!rootClosed) throw new XmlParseError('no root element');
	return root.children;
}

// ---------------------------------------------------------------------------------------------------------------

/** A value for `buildXml`: text goes into CDATA, numbers stay bare (as WeChat writes CreateTime), objects nest. */
export type XmlBuildValue = string | number | { [name: string]: XmlBuildValue | undefined };

function cdata(text: string): string {
	// A literal "]]>" cannot appear inside one CDATA section: split it across two.
	return `<![CDATA[${text.split(']]>').join(']]]]><![CDATA[>')}]]>`;
}

function buildElement(name: string, value: XmlBuildValue | undefined): string {
	if (value === undefined) return '';
	checkName(name);
	if (typeof value === 'number') return `<${name}>${String(value)}</${name}>`;
	if (typeof value === 'string') return `<${name}>${cdata(value)}</${name}>`;
	const inner = Object.keys(value)
		.map((key) => buildElement(key, value[key]))
		.join('');
	return `<${name}>${inner}</${name}>`;
}

/** Serializes fields in their insertion order under one root element, WeChat style (`<xml>…</xml>` by default). */
export function buildXml(fields: { [name: string]: XmlBuildValue | undefined }, rootName = 'xml'): string {
	return buildElement(rootName, fields);
}
