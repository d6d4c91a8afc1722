import { NodeOperationError, type IBinaryData, type IExecuteSingleFunctions } from 'n8n-workflow';

/**
 * Files sent to WeChat straight from n8n binary data. WeChat's limits are checked here, before anything is uploaded,
 * so a wrong file costs no API call and gets a message that says which limit it broke.
 */
export type WeChatMediaType = 'image' | 'voice' | 'video' | 'thumb' | 'avatar';

interface MediaRule {
	label: string;
	maxBytes: number;
	/** Accepted file kinds, by lower-case extension. */
	extensions: string[];
}

const MB = 1024 * 1024;

/** docs/wechat-protocol.md §9; the 10 MB image limit is our choice where WeChat's page disagrees (§7). */
export const MEDIA_RULES: Record<WeChatMediaType, MediaRule> = {
	image: { label: 'image', maxBytes: 10 * MB, extensions: ['jpg', 'jpeg', 'png', 'gif'] },
	voice: { label: 'voice', maxBytes: 2 * MB, extensions: ['amr', 'mp3'] },
	video: { label: 'video', maxBytes: 10 * MB, extensions: ['mp4'] },
	thumb: { label: 'thumbnail', maxBytes: 64 * 1024, extensions: ['jpg', 'jpeg'] },
	avatar: { label: 'avatar', maxBytes: 5 * MB, extensions: ['jpg', 'jpeg'] },
};

const EXTENSION_BY_MIME: Record<string, string> = {
	'image/jpeg': 'jpg',
	'image/jpg': 'jpg',
	'image/pjpeg': 'jpg',
	'image/png': 'png',
	'image/gif': 'gif',
	'audio/amr': 'amr',
	'audio/mpeg': 'mp3',
	'audio/mp3': 'mp3',
	'video/mp4': 'mp4',
};

export interface MediaFile {
	buffer: Buffer;
	fileName: string;
	mimeType: string;
	extension: string;
}

function formatBytes(bytes: number): string {
	if (bytes >= MB) return `${(bytes / MB).toFixed(1)} MB`;
	return `${Math.ceil(bytes / 1024)} KB`;
}

const SHOWN_UNIT_BYTES: Readonly<Record<string, number>> = {
	b: 1,
	kb: 1e3,
	mb: 1e6,
	gb: 1e9,
	tb: 1e12,
	kib: 1024,
	mib: 1024 ** 2,
	gib: 1024 ** 3,
	tib: 1024 ** 4,
};

/**
 * The fewest bytes a size as n8n shows it ("12.6 MB", from pretty-bytes: three significant digits, units of 1000) can
 * stand for: the number may have been rounded up by half a unit in its last digit, at most 0.5 %.
 */
function leastBytesOfShownSize(shown: unknown): number | undefined {
	// A size is a few characters; anything longer is not one, and is not given to a pattern.
	if (typeof shown !== 'string' || shown.length > 24) return undefined;
	const match = /^(\d+(?:\.\d+)?) ?([A-Za-z]+)$/.exec(shown.trim());
	const unit = match ? SHOWN_UNIT_BYTES[match[2].toLowerCase()] : undefined;
	if (!match || unit === undefined) return undefined;
	return Math.floor(Number(match[1]) * unit * 0.995);
}

function isByteCount(value: unknown): value is number {
	return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

interface RecordedSize {
	bytes: number;
	/** How the message names the size when the file is refused. */
	shown: string;
}

/**
 * The file's size as n8n recorded it, found without reading the file: a video from an HTTP Request node can be as
 * large as its sender likes, and n8n would otherwise load all of it into memory only for the size check to refuse it.
 *
 * In order of trust: the binary-data store's own metadata (filesystem, S3 or database mode: written by n8n as the file
 * was stored, whatever the item says); the item's `bytes` (recent n8n); the item's `fileSize` text, which older n8n
 * versions alone set, read as the smallest size it can stand for so that rounding never refuses a file that fits.
 * Undefined when none of them is there: the file is then judged after reading.
 */
async function recordedSize(context: IExecuteSingleFunctions, binary: IBinaryData): Promise<RecordedSize | undefined> {
	if (binary.id && typeof context.helpers.getBinaryMetadata === 'function') {
		try {
			const { fileSize } = await context.helpers.getBinaryMetadata(binary.id);
			if (isByteCount(fileSize)) return { bytes: fileSize, shown: formatBytes(fileSize) };
		} catch {
			// A store without metadata for this file: the item's own fields, then the check after reading.
		}
	}
	if (isByteCount(binary.bytes)) return { bytes: binary.bytes, shown: formatBytes(binary.bytes) };
	const least = leastBytesOfShownSize(binary.fileSize);
	return least === undefined ? undefined : { bytes: least, shown: `${String(binary.fileSize)} as n8n recorded it` };
}

function nameExtension(fileName: string | undefined): string | undefined {
	return /\.([A-Za-z0-9]+)$/.exec(fileName ?? '')?.[1]?.toLowerCase();
}

/**
 * The MIME type wins when it is one WeChat knows. Otherwise the file name decides before n8n's `fileExtension`,
 * because n8n derives that from the MIME type alone: a download served as application/octet-stream would be "bin"
 * even when it is called voice.amr.
 */
function extensionOf(binary: IBinaryData): string {
	return (
		EXTENSION_BY_MIME[binary.mimeType?.toLowerCase() ?? ''] ??
		nameExtension(binary.fileName) ??
		binary.fileExtension?.toLowerCase() ??
		''
	);
}

/** WeChat judges an upload by its file name's extension, so the name sent must end with an accepted one. */
function uploadFileName(fileName: string | undefined, rule: MediaRule, extension: string): string {
	const current = nameExtension(fileName);
	if (fileName && current && rule.extensions.includes(current)) return fileName;
	return `${fileName || rule.label}.${extension}`;
}

/** Reads the item's binary property and checks it against WeChat's rules for `type`. */
export async function readMediaFile(
	context: IExecuteSingleFunctions,
	binaryPropertyName: string,
	type: WeChatMediaType,
): Promise<MediaFile> {
	const itemIndex = context.getItemIndex();
	const node = context.getNode();
	const rule = MEDIA_RULES[type];
	const propertyName = binaryPropertyName.trim();
	const binaryData = context.getInputData().binary?.[propertyName];
	if (!propertyName || !binaryData) {
		const available = Object.keys(context.getInputData().binary ?? {});
		throw new NodeOperationError(node, `No binary data in property "${propertyName}"`, {
			itemIndex,
			description: available.length
				? `This item's binary properties are: ${available.join(', ')}. Enter one of them as the binary property.`
				: `This item has no binary data. Add a node before this one that reads the ${rule.label} file (e.g. Read/Write Files from Disk or HTTP Request with the response format "File").`,
		});
	}

	const extension = extensionOf(binaryData);
	if (!rule.extensions.includes(extension)) {
		throw new NodeOperationError(
			node,
			`The file "${binaryData.fileName ?? propertyName}" (${binaryData.mimeType || 'unknown type'}) cannot be sent as ${rule.label}`,
			{
				itemIndex,
				description: `WeChat accepts ${rule.label} files of type ${rule.extensions.map((e) => e.toUpperCase()).join(', ')}.`,
			},
		);
	}

	const tooLarge = (shown: string) =>
		new NodeOperationError(node, `The ${rule.label} file is ${shown}; WeChat accepts at most ${formatBytes(rule.maxBytes)}`, {
			itemIndex,
			description: `Compress or resize the file to ${formatBytes(rule.maxBytes)} or less.`,
		});

	// Refused before a byte of it is read.
	const recorded = await recordedSize(context, binaryData);
	if (recorded && recorded.bytes > rule.maxBytes) throw tooLarge(recorded.shown);

	const buffer = await context.helpers.getBinaryDataBuffer(propertyName);
	if (buffer.length === 0) {
		throw new NodeOperationError(node, `The ${rule.label} file "${binaryData.fileName ?? propertyName}" is empty`, {
			itemIndex,
			description: 'Check the node that produced the binary data.',
		});
	}
	// Still checked: the recorded size may be missing, or wrong for an item a Code node put together.
	if (buffer.length > rule.maxBytes) throw tooLarge(formatBytes(buffer.length));

	const fileName = uploadFileName(binaryData.fileName, rule, extension);
	return { buffer, fileName, mimeType: binaryData.mimeType || 'application/octet-stream', extension };
}

/** WeChat reads uploads from the multipart field `media`. */
export function mediaFormData(file: MediaFile): FormData {
	const form = new FormData();
	form.append('media', new Blob([file.buffer], { type: file.mimeType }), file.fileName);
	return form;
}

/**
 * Downloads are bounded like uploads: WeChat's largest temporary media (images and videos) are 10 MB, so that is the
 * default; Get Media's Max Size option raises it. The limit is checked against Content-Length before a byte is read,
 * and again while reading, so an answer that lies about its length (or has none) still cannot fill the memory.
 */
export const DEFAULT_DOWNLOAD_MAX_BYTES = MEDIA_RULES.image.maxBytes;

/** A downloaded body larger than the limit; the caller says which limit and how to raise it. */
export class DownloadTooLarge extends Error {
	constructor(readonly maxBytes: number) {
		super(`The file is larger than ${formatBytes(maxBytes)}`);
		this.name = 'DownloadTooLarge';
	}
}

interface ReadableBody extends AsyncIterable<Uint8Array | string> {
	destroy?: (error?: Error) => void;
}

/** Reads a streamed HTTP body into memory, at most `maxBytes` of it; more throws DownloadTooLarge. */
export async function readBodyAtMost(
	body: unknown,
	maxBytes: number,
	contentLength: unknown,
): Promise<Buffer> {
	const stream = body as ReadableBody;
	const declared = Number(contentLength);
	if (Number.isFinite(declared) && declared > maxBytes) {
		stream.destroy?.();
		throw new DownloadTooLarge(maxBytes);
	}
	if (typeof stream?.[Symbol.asyncIterator] !== 'function') {
		// Not a stream (a stand-in transport that buffered the answer): judged whole.
		const whole = Buffer.isBuffer(body) ? body : Buffer.from(String(body ?? ''));
		if (whole.length > maxBytes) throw new DownloadTooLarge(maxBytes);
		return whole;
	}
	const chunks: Buffer[] = [];
	let total = 0;
	for await (const chunk of stream) {
		const piece = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
		total += piece.length;
		if (total > maxBytes) {
			stream.destroy?.();
			throw new DownloadTooLarge(maxBytes);
		}
		chunks.push(piece);
	}
	return Buffer.concat(chunks, total);
}

/** The file name WeChat gives in Content-Disposition, reduced to a plain name (no folders, no control characters). */
export function fileNameFromDisposition(disposition: unknown): string | undefined {
	if (typeof disposition !== 'string' || disposition.length > 1024) return undefined;
	let name: string | undefined;
	const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(disposition);
	if (extended) {
		try {
			name = decodeURIComponent(extended[1].trim());
		} catch {
			name = undefined;
		}
	}
	name ??= /filename\s*=\s*"([^"]*)"/.exec(disposition)?.[1] ?? /filename\s*=\s*([^;\s]+)/.exec(disposition)?.[1];
	if (name === undefined) return undefined;
	// A name like "../../x" or "C:\x" must not become a path in a Write Files node.
	const base = name.split(/[\\/]/).pop() ?? '';
	// eslint-disable-next-line no-control-regex
	const clean = base.replace(/[\u0000-\u001f\u007f:*?"<>|]/g, '_').replace(/^\.+/, '').slice(0, 128);
	return clean === '' ? undefined : clean;
}

const EXTENSION_FOR_MIME: Record<string, string> = { ...EXTENSION_BY_MIME, 'audio/mp3': 'mp3', 'image/jpg': 'jpg' };

/** The extension a file of this MIME type gets when WeChat names none; '' when unknown. */
export function extensionForMime(mimeType: string): string {
	return EXTENSION_FOR_MIME[mimeType.toLowerCase()] ?? '';
}
