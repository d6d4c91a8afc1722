/**
 * WeChat wants the access token in the query string (`?access_token=`) and the classic token endpoint wants the
 * AppSecret there too (`&secret=`). n8n copies request URLs and options into the errors it builds, so every text that
 * can reach a user, an execution log or a server log passes through here first.
 */
const SECRET_QUERY_PARAMETERS = /([?&](?:access_token|secret|appsecret|encodingaeskey)=)[^&#\s"']*/gi;
const SECRET_JSON_FIELDS = /("(?:access_token|secret|appSecret|encodingAESKey|accessToken)"\s*:\s*")[^"]*/gi;

export const REDACTED = '***';

/** Replaces secret query parameters and JSON fields, and any of the given literal secrets, with `***`. */
export function redactSecrets(text: string, knownSecrets: Array<string | undefined> = []): string {
	let result = text
		.replace(SECRET_QUERY_PARAMETERS, `$1${REDACTED}`)
		.replace(SECRET_JSON_FIELDS, `$1${REDACTED}`);
	for (const secret of knownSecrets) {
		// Short values (an empty field, a placeholder) would redact ordinary words.
		if (secret && secret.length >= 8) result = result.split(secret).join(REDACTED);
	}
	return result;
}
