/**
 * A small multipart/form-data parser (RFC 7578), enough to see what a client uploaded: field values, and for files
 * the field name, filename, declared content type, bytes, size and sha256. WeChat judges the file type by the
 * filename's extension, so the filename matters and is kept exactly as sent.
 */
import { createHash } from 'node:crypto';

export interface MultipartFile {
	field: string;
	filename: string;
	contentType: string;
	size: number;
	sha256: string;
	data: Buffer;
}

export interface MultipartBody {
	fields: Record<string, string>;
	files: MultipartFile[];
}

export function multipartBoundary(contentType: string | undefined): string | undefined {
	if (!contentType || !/^multipart\/form-data/i.test(contentType)) return undefined;
	const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
	return match ? (match[1] ?? match[2]).trim() : undefined;
}

/** Returns undefined when the body is not well-formed multipart for this boundary. */
export function parseMultipart(body: Buffer, boundary: string): MultipartBody | undefined {
	const delimiter = Buffer.from(`--${boundary}`);
	const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
	const result: MultipartBody = { fields: {}, files: [] };
	let pos = body.indexOf(delimiter);
	if (pos < 0) return undefined;
	pos += delimiter.length;
	for (let guard = 0; guard < 10000; guard++) {
		if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return result; // closing "--"
		if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
		else return undefined;
		const headerEnd = body.indexOf('\r\n\r\n', pos);
		if (headerEnd < 0) return undefined;
		const headers = parsePartHeaders(body.subarray(pos, headerEnd).toString('utf8'));
		const contentStart = headerEnd + 4;
		const contentEnd = body.indexOf(nextDelimiter, contentStart);
		if (contentEnd < 0) return undefined;
		const content = body.subarray(contentStart, contentEnd);
		const disposition = headers['content-disposition'] ?? '';
		const name = dispositionParam(disposition, 'name');
		const filename = dispositionParam(disposition, 'filename*') ?? dispositionParam(disposition, 'filename');
		if (name !== undefined) {
			if (filename !== undefined || headers['content-type'] !== undefined) {
				result.files.push({
					field: name,
					filename: filename ?? '',
					contentType: headers['content-type'] ?? '',
					size: content.length,
					sha256: createHash('sha256').update(content).digest('hex'),
					data: Buffer.from(content),
				});
			} else {
				result.fields[name] = content.toString('utf8');
			}
		}
		pos = contentEnd + nextDelimiter.length;
	}
	return undefined;
}

function parsePartHeaders(text: string): Record<string, string> {
	const headers: Record<string, string> = {};
	for (const line of text.split('\r\n')) {
		const colon = line.indexOf(':');
		if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
	}
	return headers;
}

function dispositionParam(disposition: string, param: string): string | undefined {
	const escaped = param.replace('*', '\\*');
	const match = new RegExp(`(?:^|;)\\s*${escaped}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, 'i').exec(disposition);
	if (!match) return undefined;
	if (match[1] !== undefined) return match[1].replace(/\\(.)/g, '$1');
	const raw = match[2].trim();
	// RFC 5987 form: filename*=UTF-8''na%C3%AFve.jpg
	if (param.endsWith('*')) {
		const ext = /^[^']*'[^']*'(.*)$/.exec(raw);
		return decodeURIComponent(ext ? ext[1] : raw);
	}
	return raw;
}
