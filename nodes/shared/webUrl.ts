/**
 * Checks and takes apart http(s) addresses in one left-to-right pass, without a regular expression that could
 * backtrack: the addresses come from expressions mapped from untrusted text (a user's message, a web page), and the
 * pattern this replaces, /^https?:\/\/[^\s/]+\S*$/, took seconds on 40,000 characters.
 */

/**
 * Longer addresses are refused before they are looked at. 2,048 characters is the longest address that browsers and
 * WeChat's in-app browser have long been known to open; WeChat documents no limit of its own.
 */
export const MAX_URL_LENGTH = 2048;

export type WebUrlProblem = 'tooLong' | 'notWebAddress';

/** 2048 → "2,048", independent of the server's locale. */
export function groupDigits(count: number): string {
	const digits = String(count);
	let grouped = '';
	for (let index = 0; index < digits.length; index++) {
		if (index > 0 && (digits.length - index) % 3 === 0) grouped += ',';
		grouped += digits[index];
	}
	return grouped;
}

/** The end of the message that refuses an address of `length` characters, e.g. "is 100,000 characters long; …". */
export function tooLongUrlText(length: number): string {
	return `is ${groupDigits(length)} characters long; the limit is ${groupDigits(MAX_URL_LENGTH)} characters`;
}

/** Length of the `http://` or `https://` at the start of `url` (any case), or 0 when there is none. */
export function webSchemeLength(url: string): number {
	const start = url.slice(0, 8).toLowerCase();
	if (start === 'https://') return 8;
	if (start.startsWith('http://')) return 7;
	return 0;
}

/** Where the authority (`user:pass@host:port`) that starts at `from` ends: at the path, query or fragment. */
function authorityEnd(url: string, from: number): number {
	let end = from;
	while (end < url.length) {
		const char = url[end];
		if (char === '/' || char === '?' || char === '#' || char === '\\') break;
		end++;
	}
	return end;
}

/** The authority of an absolute http(s) URL, or undefined when `url` does not start with http:// or https://. */
function authorityOf(url: string): string | undefined {
	const start = webSchemeLength(url);
	if (start === 0) return undefined;
	return url.slice(start, authorityEnd(url, start));
}

/** `host` or `host:port` of an absolute http(s) URL without its user-info; undefined when there is none. */
export function hostOf(url: string): string | undefined {
	const authority = authorityOf(url);
	if (authority === undefined) return undefined;
	const host = authority.slice(authority.lastIndexOf('@') + 1);
	return host === '' ? undefined : host;
}

/** The host name alone: no user-info, no port; an IPv6 literal keeps its brackets. */
function hostNameOf(url: string): string {
	const host = hostOf(url) ?? '';
	if (host.startsWith('[')) {
		const close = host.indexOf(']');
		return close < 0 ? '' : host.slice(0, close + 1);
	}
	const colon = host.indexOf(':');
	return colon < 0 ? host : host.slice(0, colon);
}

/**
 * What is wrong with `url` as an address a phone or n8n can open, or undefined when nothing is: it must be at most
 * MAX_URL_LENGTH characters, start with http:// or https://, name a host, and contain no whitespace. Every valid
 * address the previous pattern accepted is still accepted.
 */
export function webUrlProblem(url: string): WebUrlProblem | undefined {
	if (url.length > MAX_URL_LENGTH) return 'tooLong';
	// One character class without a quantifier: each position is tested once.
	if (webSchemeLength(url) === 0 || /\s/.test(url)) return 'notWebAddress';
	return hostNameOf(url) === '' ? 'notWebAddress' : undefined;
}

/**
 * The user-info (`user:password`) of an absolute http(s) URL, and its password on its own, raw and percent-decoded:
 * the values that must never appear in a message. Empty when the URL has none.
 */
export function urlUserInfoSecrets(url: string): string[] {
	const authority = authorityOf(url) ?? '';
	const at = authority.lastIndexOf('@');
	if (at < 0) return [];
	const userInfo = authority.slice(0, at);
	const colon = userInfo.indexOf(':');
	const password = colon < 0 ? '' : userInfo.slice(colon + 1);
	const secrets = [userInfo, password];
	try {
		secrets.push(decodeURIComponent(password));
	} catch {
		// A malformed escape: the raw form is all there is to hide.
	}
	return secrets.filter((secret) => secret !== '');
}
