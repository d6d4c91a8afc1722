/**
 * WeChat wants the access token in the query string (`?access_token=`) and the classic token endpoint wants the
 * AppSecret there too (`&secret=`). n8n copies request URLs and options into the errors it builds, and a proxy in
 * front of WeChat may echo any of it back in `errmsg`, so every text that can reach a user, an execution log or a
 * server log passes through here first.
 *
 * Patterns alone cannot find a secret a proxy echoes in its own words ("token 78_AbC… expired"), so callers also
 * pass the secrets they hold: the access token the request actually carried and the AppSecret, always.
 */
const SECRET_QUERY_PARAMETERS = /([?&](?:access_token|secret|appsecret|encodingaeskey)=)[^&#\s"']*/gi;
const SECRET_JSON_FIELDS = /("(?:access_token|secret|appSecret|encodingAESKey|accessToken)"\s*:\s*")[^"]*/gi;

export const REDACTED = '***';

/**
 * Characters that end a URL's authority (`user:pass@host:port`) in running text: the path, query and fragment
 * delimiters, and characters a URL cannot hold unescaped (quotes around a URL in JSON, brackets in prose). Characters
 * a password may legally contain, such as ' ( ) , ; !, do not end it, so no part of such a password is left behind.
 */
const AUTHORITY_ENDS = new Set(['/', '?', '#', '\\', '"', '`', '<', '>', '[', ']', '{', '}', '|', '^']);

function endsAuthority(char: string): boolean {
	return AUTHORITY_ENDS.has(char) || char.trim() === '';
}

/**
 * Replaces the user-info of every `scheme://user:pass@host` in `text` with `***`, keeping scheme and host so the
 * message still says where a request went. One pass: each scan stops at the first character that ends an
 * authority, and "://" itself contains one, so no character is scanned more than twice.
 */
export function redactUrlUserInfo(text: string): string {
	let result = '';
	let copiedUpTo = 0;
	let from = 0;
	for (;;) {
		const separator = text.indexOf('://', from);
		if (separator < 0) break;
		const authorityStart = separator + 3;
		let end = authorityStart;
		let at = -1;
		while (end < text.length && !endsAuthority(text[end])) {
			if (text[end] === '@') at = end;
			end++;
		}
		if (at >= 0) {
			result += text.slice(copiedUpTo, authorityStart) + REDACTED;
			copiedUpTo = at;
		}
		// One character back: the authority may have ended on the ":" of another "://".
		from = Math.max(end - 1, authorityStart);
	}
	return copiedUpTo === 0 ? text : result + text.slice(copiedUpTo);
}

/**
 * Replaces secret query parameters and JSON fields, URL user-info, and any of the given literal secrets, with `***`.
 */
export function redactSecrets(text: string, knownSecrets: Array<string | undefined> = []): string {
	let result = redactUrlUserInfo(
		text.replace(SECRET_QUERY_PARAMETERS, `$1${REDACTED}`).replace(SECRET_JSON_FIELDS, `$1${REDACTED}`),
	);
	// Longest first: a secret that contains another (user:password and password) goes as a whole.
	const secrets = knownSecrets.filter((secret): secret is string => !!secret).sort((a, b) => b.length - a.length);
	for (const secret of secrets) {
		// Short values (an empty field, a placeholder) would redact ordinary words.
		if (secret.length >= 8) result = result.split(secret).join(REDACTED);
	}
	return result;
}
