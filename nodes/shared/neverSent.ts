/**
 * Connection failures that happen before a single byte of the request left (no route, refused, no DNS answer): the
 * request cannot have been carried out, so sending it again — to the same or a backup host — cannot repeat it.
 * A timeout or a reset connection may come after the request was sent, so they are not on this list.
 */
const NEVER_SENT_CODES = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'];

/** Whether `error` (from n8n's HTTP helpers, which put the code in `httpCode`, `code` or `cause.code`) is one. */
export function failedBeforeSending(error: unknown): boolean {
	const source = (error ?? {}) as { httpCode?: unknown; code?: unknown; cause?: { code?: unknown } };
	return [source.httpCode, source.code, source.cause?.code].some(
		(code) => typeof code === 'string' && NEVER_SENT_CODES.includes(code),
	);
}
