/**
 * 客服账号: add, update, del, inviteworker, uploadheadimg, getkflist, getonlinekflist.
 *
 * Validation follows the new kf docs: a malformed kf_account on add answers 65404 (the legacy multi-kf codes
 * 61454/61455 are not emulated); a nickname that is empty or longer than 16 characters answers 65403.
 */
import { randomBytes } from 'node:crypto';
import type { KfAccount } from '../state';
import { OK, wechatError } from '../wechatErrors';
import { type Endpoint, jsonBody, stringField } from './types';

/** `prefix@OA-WeChat-ID`: prefix 1–10 of [A-Za-z0-9_], suffix 1–30 characters. */
const KF_ACCOUNT = /^[A-Za-z0-9_]{1,10}@([A-Za-z0-9_-]{1,30})$/;
/** A personal WeChat ID: 6–20 characters, starting with a letter. */
const WECHAT_ID = /^[A-Za-z][A-Za-z0-9_-]{5,19}$/;
export const MAX_NICKNAME_CHARS = 16;
export const MAX_AVATAR_BYTES = 5 * 1024 * 1024;

function validNickname(nickname: unknown): nickname is string {
	return typeof nickname === 'string' && nickname.trim() !== '' && [...nickname].length <= MAX_NICKNAME_CHARS;
}

function listedAccount(account: KfAccount, inviteStatus: KfAccount['invite_status']): Record<string, unknown> {
	const entry: Record<string, unknown> = {
		kf_account: account.kf_account,
		kf_nick: account.kf_nick,
		kf_id: account.kf_id,
		kf_headimgurl: account.kf_headimgurl,
	};
	if (account.kf_wx !== undefined) entry.kf_wx = account.kf_wx;
	if (account.invite_wx !== undefined) {
		entry.invite_wx = account.invite_wx;
		entry.invite_expire_time = account.invite_expire_time;
		entry.invite_status = inviteStatus;
	}
	return entry;
}

export const accountEndpoints: Endpoint[] = [
	{
		path: '/customservice/kfaccount/add',
		methods: ['POST'],
		guard: 'kf',
		body: 'json',
		handle(request, { state }) {
			const body = jsonBody(request);
			const kfAccount = body.kf_account;
			const match = typeof kfAccount === 'string' ? KF_ACCOUNT.exec(kfAccount) : null;
			if (!match || (state.settings.oaWechatId !== undefined && match[1] !== state.settings.oaWechatId)) {
				return wechatError(65404);
			}
			if (!validNickname(body.nickname)) return wechatError(65403);
			if (state.kfAccounts.has(kfAccount as string)) return wechatError(65406);
			if (state.kfAccounts.size >= state.settings.maxKfAccounts) return wechatError(65405);
			state.addKfAccount({ kf_account: kfAccount as string, kf_nick: body.nickname });
			return OK;
		},
	},
	{
		path: '/customservice/kfaccount/update',
		methods: ['POST'],
		guard: 'kf',
		body: 'json',
		handle(request, { state }) {
			const body = jsonBody(request);
			const account = state.kfAccounts.get(stringField(body, 'kf_account') ?? '');
			if (!account) return wechatError(65401);
			if (!validNickname(body.nickname)) return wechatError(65403);
			account.kf_nick = body.nickname;
			return OK;
		},
	},
	{
		// docs/wechat-protocol.md §7: clients send POST with kf_account in the query and the JSON body; the legacy GET and the
		// POST-with-query-only (empty body) variants are accepted too, as WeChat does.
		path: '/customservice/kfaccount/del',
		methods: ['POST', 'GET'],
		guard: 'kf',
		body: 'none',
		handle(request, { state }) {
			const fromBody =
				typeof request.json === 'object' && request.json !== null
					? stringField(request.json as Record<string, unknown>, 'kf_account')
					: undefined;
			const kfAccount = fromBody ?? request.query.kf_account;
			if (!kfAccount || !state.kfAccounts.has(kfAccount)) return wechatError(65401);
			state.kfAccounts.delete(kfAccount);
			for (const [openid, session] of state.sessions) {
				if (session.kf_account === kfAccount) state.sessions.delete(openid);
			}
			return OK;
		},
	},
	{
		path: '/customservice/kfaccount/inviteworker',
		methods: ['POST'],
		guard: 'kf',
		body: 'json',
		handle(request, { state }) {
			const body = jsonBody(request);
			const account = state.kfAccounts.get(stringField(body, 'kf_account') ?? '');
			if (!account) return wechatError(65401);
			const inviteWx = body.invite_wx;
			if (typeof inviteWx !== 'string' || !WECHAT_ID.test(inviteWx)) return wechatError(65409);
			if (account.kf_wx !== undefined) return wechatError(65412);
			if (account.invite_wx !== undefined && state.inviteStatus(account) === 'waiting') return wechatError(65411);
			const others = [...state.kfAccounts.values()];
			if (others.some((a) => a.kf_wx === inviteWx)) return wechatError(65407);
			if (others.some((a) => a.invite_wx === inviteWx && state.inviteStatus(a) === 'waiting')) {
				return wechatError(65408);
			}
			account.invite_wx = inviteWx;
			account.invite_expire_time = state.nowSeconds() + 7 * 86400;
			account.invite_status = 'waiting';
			return OK;
		},
	},
	{
		// The avatar must be a JPG: WeChat decides by the uploaded filename's extension, so a part without a
		// filename (e.g. a Blob appended without one, sent as "blob") answers 40005 too.
		path: '/customservice/kfaccount/uploadheadimg',
		methods: ['POST'],
		guard: 'kf',
		body: 'multipart',
		handle(request, { state }) {
			const account = state.kfAccounts.get(request.query.kf_account ?? '');
			if (!account) return wechatError(65401);
			const file = request.multipart?.files.find((f) => f.field === 'media');
			if (!file) return wechatError(41005);
			if (!/\.jpe?g$/i.test(file.filename)) return wechatError(40005);
			if (file.size === 0) return wechatError(44001);
			if (file.size > MAX_AVATAR_BYTES) return wechatError(40006);
			account.headimg = { filename: file.filename, size: file.size, sha256: file.sha256 };
			account.kf_headimgurl = `http://mmbiz.qpic.cn/mmbiz_jpg/${randomBytes(24).toString('base64url')}/300?wx_fmt=jpeg`;
			return OK;
		},
	},
	{
		path: '/cgi-bin/customservice/getkflist',
		methods: ['GET'],
		guard: 'kf',
		body: 'none',
		handle(_request, { state }) {
			return {
				kf_list: [...state.kfAccounts.values()].map((a) => listedAccount(a, state.inviteStatus(a))),
			};
		},
	},
	{
		path: '/cgi-bin/customservice/getonlinekflist',
		methods: ['GET'],
		guard: 'kf',
		body: 'none',
		handle(_request, { state }) {
			return {
				kf_online_list: [...state.kfAccounts.values()]
					.filter((a) => a.online)
					.map((a) => ({ kf_account: a.kf_account, status: a.status, kf_id: a.kf_id, accepted_case: a.accepted_case })),
			};
		},
	},
];
