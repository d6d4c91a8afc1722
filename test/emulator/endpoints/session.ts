/**
 * 会话控制: kfsession/create, close, getsession, getsessionlist, getwaitcase.
 *
 * create: unknown kf 65401 → openid not a follower 40003 → kf not bound to a WeChat user 65402 → kf offline 65415 →
 * user served by another kf 65414; already in a session with this kf answers 0 (as WeChat documents). Success takes
 * the user out of the waiting queue and adds one to the kf's accepted_case; close takes one off.
 */
import { OK, wechatError } from '../wechatErrors';
import { type Endpoint, jsonBody, stringField } from './types';

export const MAX_WAIT_CASES = 100;

export const sessionEndpoints: Endpoint[] = [
	{
		path: '/customservice/kfsession/create',
		methods: ['POST'],
		guard: 'kf',
		body: 'json',
		handle(request, { state }) {
			const body = jsonBody(request);
			const kfAccount = stringField(body, 'kf_account') ?? '';
			const account = state.kfAccounts.get(kfAccount);
			if (!account) return wechatError(65401);
			const openid = stringField(body, 'openid') ?? '';
			if (!state.followers.has(openid)) return wechatError(40003);
			if (account.kf_wx === undefined) return wechatError(65402);
			if (!account.online) return wechatError(65415);
			const existing = state.sessions.get(openid);
			if (existing) return existing.kf_account === kfAccount ? OK : wechatError(65414);
			state.openSession(kfAccount, openid);
			return OK;
		},
	},
	{
		path: '/customservice/kfsession/close',
		methods: ['POST'],
		guard: 'kf',
		body: 'json',
		handle(request, { state }) {
			const body = jsonBody(request);
			const kfAccount = stringField(body, 'kf_account') ?? '';
			if (!state.kfAccounts.has(kfAccount)) return wechatError(65401);
			const openid = stringField(body, 'openid') ?? '';
			if (!state.followers.has(openid)) return wechatError(40003);
			const session = state.sessions.get(openid);
			if (!session) return wechatError(65413);
			if (session.kf_account !== kfAccount) return wechatError(65414);
			state.closeSession(openid);
			return OK;
		},
	},
	{
		path: '/customservice/kfsession/getsession',
		methods: ['GET'],
		guard: 'kf',
		body: 'none',
		handle(request, { state }) {
			const openid = request.query.openid ?? '';
			if (!state.followers.has(openid)) return wechatError(40003);
			const session = state.sessions.get(openid);
			// An empty kf_account means nobody is serving the user.
			return session ? { kf_account: session.kf_account, createtime: session.createtime } : { kf_account: '', createtime: 0 };
		},
	},
	{
		path: '/customservice/kfsession/getsessionlist',
		methods: ['GET'],
		guard: 'kf',
		body: 'none',
		handle(request, { state }) {
			const account = state.kfAccounts.get(request.query.kf_account ?? '');
			if (!account) return wechatError(65401);
			if (account.kf_wx === undefined) return wechatError(65402);
			return {
				sessionlist: [...state.sessions.values()]
					.filter((s) => s.kf_account === account.kf_account)
					.map((s) => ({ openid: s.openid, createtime: s.createtime })),
			};
		},
	},
	{
		// docs/wechat-protocol.md §7: GET. `count` is the whole queue; the list holds at most the 100 earliest.
		path: '/customservice/kfsession/getwaitcase',
		methods: ['GET'],
		guard: 'kf',
		body: 'none',
		handle(_request, { state }) {
			const waiting = state.waitingEarliestFirst();
			return {
				count: waiting.length,
				waitcaselist: waiting.slice(0, MAX_WAIT_CASES).map((c) => ({ openid: c.openid, latest_time: c.latest_time })),
			};
		},
	},
];
