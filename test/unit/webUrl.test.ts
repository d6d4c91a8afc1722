import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { normalizeBaseUrl } from '../../nodes/shared/accessToken/obtain';
import { redactSecrets, redactUrlUserInfo } from '../../nodes/shared/redact';
import {
	hostOf,
	MAX_URL_LENGTH,
	tooLongUrlText,
	urlUserInfoSecrets,
	webUrlProblem,
} from '../../nodes/shared/webUrl';

/** The pattern the check replaced; kept here only to show that no address it accepted is now refused. */
const PREVIOUS_PATTERN = /^https?:\/\/[^\s/]+\S*$/i;

describe('webUrlProblem', () => {
	test('web addresses the previous pattern accepted are still accepted', () => {
		for (const url of [
			'https://example.com',
			'http://example.com/a.mp3',
			'HTTPS://Example.COM/Path?q=1#top',
			'https://cdn.example.com:8443/music/a.mp3?sig=abc&x=%20',
			'https://user:pa(ss)@example.com/private',
			'http://127.0.0.1:8080/',
			'https://[2001:db8::1]:443/a',
			'https://例子.测试/路径',
			`https://example.com/${'a'.repeat(MAX_URL_LENGTH - 20)}`,
		]) {
			assert.equal(PREVIOUS_PATTERN.test(url), true, url);
			assert.equal(webUrlProblem(url), undefined, url);
		}
	});

	test('no scheme, another scheme, no host or whitespace: not a web address', () => {
		for (const url of [
			'',
			'example.com/a',
			'/relative',
			'ftp://example.com/a',
			'https:/example.com',
			'https:///path',
			'https://',
			'https://user@/path',
			'https://:8080/',
			'https://exa mple.com',
			'https://example.com/a b',
			'https://example.com/\u00a0',
			'https://example.com/\u3000',
		]) {
			assert.equal(webUrlProblem(url), 'notWebAddress', JSON.stringify(url));
		}
	});

	test('more than 2,048 characters is too long, whatever else it is', () => {
		assert.equal(MAX_URL_LENGTH, 2048);
		const longest = `https://example.com/${'a'.repeat(MAX_URL_LENGTH - 20)}`;
		assert.equal(longest.length, 2048);
		assert.equal(webUrlProblem(longest), undefined);
		assert.equal(webUrlProblem(`${longest}a`), 'tooLong');
		// The input that made the previous pattern run for seconds: a long host and a space at the end.
		assert.equal(webUrlProblem(`http://${'a'.repeat(99_992)} `), 'tooLong');
		assert.equal(tooLongUrlText(100_000), 'is 100,000 characters long; the limit is 2,048 characters');
	});
});

describe('hostOf and urlUserInfoSecrets', () => {
	test('the host and port, never the user-info', () => {
		assert.equal(hostOf('https://api.weixin.qq.com/cgi-bin/token?secret=x'), 'api.weixin.qq.com');
		assert.equal(hostOf('http://ops:S3cr3t-pass@127.0.0.1:8080/token'), '127.0.0.1:8080');
		assert.equal(hostOf('http://a@b@host#frag'), 'host');
		assert.equal(hostOf('https://'), undefined);
		assert.equal(hostOf('token.example.com/x'), undefined);
	});

	test('user-info, the password, and the password percent-decoded', () => {
		assert.deepEqual(urlUserInfoSecrets('https://ops:p%40ss-word@token.example.com/t'), [
			'ops:p%40ss-word',
			'p%40ss-word',
			'p@ss-word',
		]);
		assert.deepEqual(urlUserInfoSecrets('https://token.example.com/t?u=a@b'), []);
		assert.deepEqual(urlUserInfoSecrets('https://%zz:%zz@h/'), ['%zz:%zz', '%zz']);
	});
});

describe('redactUrlUserInfo and redactSecrets', () => {
	test('user-info is replaced, scheme, host and path are kept', () => {
		assert.equal(
			redactUrlUserInfo('GET http://ops:S3cr3t@127.0.0.1:81/t failed; retry https://h/x@y'),
			'GET http://***@127.0.0.1:81/t failed; retry https://h/x@y',
		);
		assert.equal(redactUrlUserInfo('{"url":"https://a:b@h/"}'), '{"url":"https://***@h/"}');
		assert.equal(redactUrlUserInfo('x://a@b://c@d/'), 'x://***@b://***@d/');
		assert.equal(redactUrlUserInfo('no address here: a@b'), 'no address here: a@b');
	});

	test('every call of redactSecrets removes user-info; known secrets go longest first', () => {
		assert.equal(redactSecrets('proxy http://ops:longpassword@h/ said no'), 'proxy http://***@h/ said no');
		assert.equal(
			redactSecrets('seen ops:longpassword and longpassword', ['longpassword', 'ops:longpassword']),
			'seen *** and ***',
		);
		assert.equal(redactSecrets('short secrets stay: abc', ['abc']), 'short secrets stay: abc');
	});

	test('hostile inputs of 100,000 characters are handled in one pass', () => {
		// Each would take seconds with a backtracking pattern; here they only have to come back correct.
		assert.equal(redactUrlUserInfo('://'.repeat(33_333)), '://'.repeat(33_333));
		assert.equal(redactUrlUserInfo(`http://${'@'.repeat(100_000)}`), `http://***@`);
		assert.equal(normalizeBaseUrl(`http://h${'/'.repeat(100_000)}x`), `http://h${'/'.repeat(100_000)}x`);
		assert.equal(normalizeBaseUrl(`http://h/${'/'.repeat(100_000)}`), 'http://h');
	});
});
