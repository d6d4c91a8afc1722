/**
 * A strict JSON parser for WeChat's JSON data format (数据格式 JSON).
 *
 * `JSON.parse` is not enough: WeChat writes `MsgId` as a bare 64-bit number, which `JSON.parse` rounds (Node 20 has
 * no access to a number's source text in a reviver). This parser keeps every number as the exact text that was sent,
 * so JSON pushes give the same string values as XML pushes. It also rejects what a push never contains and an
 * attacker might use: duplicate keys (two different `Encrypt` values), `__proto__` / `constructor` / `prototype`
 * keys, and nesting or sizes beyond the limits. Objects are built on `Object.create(null)`.
 */
import { isForbiddenName } from '../../shared/xml';

export type JsonPushValue = string | boolean | null | JsonPushObject | JsonPushValue[];

export interface JsonPushObject {
	[key: string]: JsonPushValue;
}

export class JsonParseError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'JsonParseError';
	}
}

const MAX_DEPTH = 16;
const MAX_LENGTH = 256 * 1024;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

class Parser {
	private i = 0;

	constructor(private readonly text: string) {}

	parseDocument(): JsonPushValue {
		const value = this.value(1);
		this.skipWhitespace();
		if (this.i !== this.text.length) throw new JsonParseError('unexpected content after the JSON value');
		return value;
	}

	private skipWhitespace(): void {
		while (this.i < this.text.length) {
			const c = this.text.charCodeAt(this.i);
			if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
			this.i++;
		}
	}

	private value(depth: number): JsonPushValue {
		if (depth > MAX_DEPTH) throw new JsonParseError('nesting too deep');
		this.skipWhitespace();
		const c = this.text[this.i];
		if (c === '{') return this.object(depth);
		if (c === '[') return this.array(depth);
		if (c === '"') return this.string();
		if (this.text.startsWith('true', this.i)) return this.literal('true', true);
		if (this.text.startsWith('false', this.i)) return this.literal('false', false);
		if (this.text.startsWith('null', this.i)) return this.literal('null', null);
		NUMBER.lastIndex = this.i;
		const match = NUMBER.exec(this.text);
		if (match) {
			this.i = NUMBER.lastIndex;
			return match[0];
		}
		throw new JsonParseError(this.i >= this.text.length ? 'unexpected end of JSON' : 'unexpected character');
	}

	private literal<T>(word: string, value: T): T {
		this.i += word.length;
		return value;
	}

	private object(depth: number): JsonPushObject {
		const result = Object.create(null) as JsonPushObject;
		this.i++;
		this.skipWhitespace();
		if (this.text[this.i] === '}') {
			this.i++;
			return result;
		}
		for (;;) {
			this.skipWhitespace();
			if (this.text[this.i] !== '"') throw new JsonParseError('expected a key');
			const key = this.string();
			if (isForbiddenName(key)) throw new JsonParseError(`forbidden key "${key}"`);
			if (Object.prototype.hasOwnProperty.call(result, key)) throw new JsonParseError('duplicate key');
			this.skipWhitespace();
			if (this.text[this.i] !== ':') throw new JsonParseError('expected ":"');
			this.i++;
			result[key] = this.value(depth + 1);
			this.skipWhitespace();
			const next = this.text[this.i++];
			if (next === '}') return result;
			if (next !== ',') throw new JsonParseError('expected "," or "}"');
		}
	}

	private array(depth: number): JsonPushValue[] {
		const result: JsonPushValue[] = [];
		this.i++;
		this.skipWhitespace();
		if (this.text[this.i] === ']') {
			this.i++;
			return result;
		}
		for (;;) {
			result.push(this.value(depth + 1));
			this.skipWhitespace();
			const next = this.text[this.i++];
			if (next === ']') return result;
			if (next !== ',') throw new JsonParseError('expected "," or "]"');
		}
	}

	private string(): string {
		this.i++;
		let out = '';
		let start = this.i;
		for (;;) {
			if (this.i >= this.text.length) throw new JsonParseError('unterminated string');
			const code = this.text.charCodeAt(this.i);
			if (code === 0x22) {
				out += this.text.slice(start, this.i);
				this.i++;
				return out;
			}
			if (code < 0x20) throw new JsonParseError('control character in string');
			if (code === 0x5c) {
				out += this.text.slice(start, this.i);
				const escape = this.text[this.i + 1];
				if (escape === 'u') {
					const hex = this.text.slice(this.i + 2, this.i + 6);
					if (!/^[0-9A-Fa-f]{4}$/.test(hex)) throw new JsonParseError('invalid \\u escape');
					const unit = parseInt(hex, 16);
					if (unit === 0) throw new JsonParseError('NUL in string');
					out += String.fromCharCode(unit);
					this.i += 6;
				} else if (escape !== undefined && Object.prototype.hasOwnProperty.call(ESCAPES, escape)) {
					out += ESCAPES[escape];
					this.i += 2;
				} else {
					throw new JsonParseError('invalid escape');
				}
				start = this.i;
				continue;
			}
			this.i++;
		}
	}
}

/** Parses JSON with every number kept as its source text; throws `JsonParseError`. */
export function parseStrictJson(text: string): JsonPushValue {
	if (text.length > MAX_LENGTH) throw new JsonParseError('document too large');
	return new Parser(text).parseDocument();
}
