/**
 * `/cgi-bin/token` (classic), `/cgi-bin/stable_token` and `/cgi-bin/clear_quota`.
 *
 * Error choices (documented in README): wrong appid → 40013 on both; wrong secret → 40001 on the classic endpoint
 * (WeChat's historical answer) and 40125 on stable_token; IP not whitelisted → 40164 on both (checked after the
 * credentials); over the daily quota → 45009; force_refresh more than 20 times a day → 45009, sooner than 30 s after
 * the previous one → 45011; a force_refresh that is not a JSON boolean → 47001.
 */
import { ipNotWhitelistedErrmsg, OK, wechatError } from '../wechatErrors';
import { type Endpoint, type EndpointContext, jsonBody, stringField } from './types';

function checkCredentials(
	context: EndpointContext,
	grantType: unknown,
	appid: unknown,
	secret: unknown,
	wrongSecretCode: number,
) {
	if (grantType !== 'client_credential') return wechatError(40002);
	if (typeof appid !== 'string' || appid === '') return wechatError(41002);
	if (appid !== context.appId) return wechatError(40013);
	if (typeof secret !== 'string' || secret === '') return wechatError(41004);
	if (secret !== context.appSecret) return wechatError(wrongSecretCode);
	const whitelist = context.state.settings.ipWhitelist;
	if (whitelist.enabled) return wechatError(40164, ipNotWhitelistedErrmsg(whitelist.callerIp));
	return undefined;
}

export const tokenEndpoints: Endpoint[] = [
	{
		path: '/cgi-bin/token',
		methods: ['GET'],
		guard: 'token',
		body: 'none',
		handle(request, context) {
			const { grant_type, appid, secret } = request.query;
			const failure = checkCredentials(context, grant_type, appid, secret, 40001);
			if (failure) return failure;
			if (!context.quotas.take(request.path)) return wechatError(45009);
			return context.tokens.issueClassic();
		},
	},
	{
		path: '/cgi-bin/stable_token',
		methods: ['POST'],
		guard: 'token',
		body: 'json',
		handle(request, context) {
			const body = jsonBody(request);
			const failure = checkCredentials(context, body.grant_type, body.appid, body.secret, 40125);
			if (failure) return failure;
			const force = body.force_refresh;
			if (force !== undefined && typeof force !== 'boolean') return wechatError(47001);
			if (!context.quotas.take(request.path)) return wechatError(45009);
			const issued = context.tokens.issueStable(force === true);
			return 'errcode' in issued ? wechatError(issued.errcode) : issued;
		},
	},
	{
		path: '/cgi-bin/clear_quota',
		methods: ['POST'],
		guard: 'basic',
		body: 'json',
		handle(request, context) {
			if (stringField(jsonBody(request), 'appid') !== context.appId) return wechatError(40013);
			context.quotas.clearCounters();
			return OK;
		},
	},
];
