/**
 * message/custom/send and message/custom/typing.
 *
 * Checks, in this order: touser is a follower (40003); msgtype known (40008); its object present with the required
 * fields (47001; empty text 44004, text over 2048 bytes 45002, news without articles 44003, more than one article
 * 45008, unknown or expired media_id 40007); `customservice.kf_account` exists (65401); the user subscribed and wrote
 * within the window (45015); fewer than the per-window quota already sent (45047).
 */
import type { EmulatorState, MediaType } from '../state';
import { OK, type WeChatErrorBody, wechatError } from '../wechatErrors';
import { type Endpoint, jsonBody, objectField, stringField } from './types';

export const TYPING_NEEDS_EXCHANGE_WITHIN_MS = 30_000;
export const TYPING_LASTS_MS = 15_000;

type Validator = (payload: Record<string, unknown>, state: EmulatorState) => WeChatErrorBody | undefined;

function requireStrings(payload: Record<string, unknown>, keys: string[]): WeChatErrorBody | undefined {
	return keys.every((k) => stringField(payload, k) !== undefined) ? undefined : wechatError(47001);
}

/** media_id must name uploaded (or seeded) media of an allowed type that has not expired. */
function requireMedia(
	payload: Record<string, unknown>,
	key: string,
	types: MediaType[],
	state: EmulatorState,
): WeChatErrorBody | undefined {
	const id = stringField(payload, key);
	if (id === undefined) return wechatError(47001);
	const media = state.findUsableMedia(id);
	return media && types.includes(media.type) ? undefined : wechatError(40007);
}

const THUMB_TYPES: MediaType[] = ['thumb', 'image'];

const VALIDATORS: Record<string, Validator> = {
	text(payload, state) {
		const content = payload.content;
		if (typeof content !== 'string') return wechatError(47001);
		if (content === '') return wechatError(44004);
		if (Buffer.byteLength(content, 'utf8') > state.settings.maxTextBytes) return wechatError(45002);
		return undefined;
	},
	image: (p, s) => requireMedia(p, 'media_id', ['image'], s),
	voice: (p, s) => requireMedia(p, 'media_id', ['voice'], s),
	video: (p, s) => requireMedia(p, 'media_id', ['video'], s) ?? requireMedia(p, 'thumb_media_id', THUMB_TYPES, s),
	music: (p, s) => requireStrings(p, ['musicurl', 'hqmusicurl']) ?? requireMedia(p, 'thumb_media_id', THUMB_TYPES, s),
	news(payload) {
		const articles = payload.articles;
		if (!Array.isArray(articles) || articles.length === 0) return wechatError(44003);
		if (articles.length > 1) return wechatError(45008);
		const article = articles[0] as Record<string, unknown>;
		if (typeof article !== 'object' || article === null) return wechatError(47001);
		return stringField(article, 'title') ?? stringField(article, 'url') ? undefined : wechatError(47001);
	},
	// Legacy permanent-news media ids are not modelled: any non-empty id is accepted.
	mpnews: (p) => requireStrings(p, ['media_id']),
	mpnewsarticle: (p) => requireStrings(p, ['article_id']),
	msgmenu(payload) {
		const list = payload.list;
		if (!Array.isArray(list) || list.length === 0) return wechatError(47001);
		const wellFormed = list.every(
			(item) =>
				typeof item === 'object' &&
				item !== null &&
				stringField(item as Record<string, unknown>, 'id') !== undefined &&
				stringField(item as Record<string, unknown>, 'content') !== undefined,
		);
		return wellFormed ? undefined : wechatError(47001);
	},
	wxcard: (p) => requireStrings(p, ['card_id']),
	miniprogrampage: (p, s) =>
		requireStrings(p, ['appid', 'pagepath']) ?? requireMedia(p, 'thumb_media_id', THUMB_TYPES, s),
};

export const MESSAGE_TYPES = Object.keys(VALIDATORS);

function insideWindow(state: EmulatorState, lastInteractionAt: number): boolean {
	return state.now() - lastInteractionAt <= state.settings.sendWindowMs;
}

export const messageEndpoints: Endpoint[] = [
	{
		path: '/cgi-bin/message/custom/send',
		methods: ['POST'],
		guard: 'verified',
		body: 'json',
		handle(request, { state }) {
			const body = jsonBody(request);
			const follower = state.followers.get(stringField(body, 'touser') ?? '');
			if (!follower) return wechatError(40003);
			const msgtype = stringField(body, 'msgtype');
			const validate = msgtype !== undefined ? VALIDATORS[msgtype] : undefined;
			if (!msgtype || !validate) return wechatError(40008);
			const payload = objectField(body, msgtype);
			if (!payload) return wechatError(47001);
			const invalid = validate(payload, state);
			if (invalid) return invalid;
			let kfAccount: string | undefined;
			if (body.customservice !== undefined) {
				kfAccount = stringField(objectField(body, 'customservice'), 'kf_account');
				if (!kfAccount || !state.kfAccounts.has(kfAccount)) return wechatError(65401);
			}
			if (!follower.subscribed || !insideWindow(state, follower.lastInteractionAt)) return wechatError(45015);
			if (follower.sentInWindow >= state.settings.sendQuotaPerWindow) return wechatError(45047);
			follower.sentInWindow += 1;
			follower.lastSentAt = state.now();
			follower.typingUntil = 0; // a message cancels the typing indicator
			state.sentMessages.push({ touser: follower.openid, msgtype, body, kf_account: kfAccount, at: state.now() });
			return OK;
		},
	},
	{
		path: '/cgi-bin/message/custom/typing',
		methods: ['POST'],
		guard: 'verified',
		body: 'json',
		handle(request, { state }) {
			const body = jsonBody(request);
			const follower = state.followers.get(stringField(body, 'touser') ?? '');
			if (!follower) return wechatError(40003);
			const command = body.command;
			if (command !== 'Typing' && command !== 'CancelTyping') return wechatError(45072);
			if (!follower.subscribed || !insideWindow(state, follower.lastInteractionAt)) return wechatError(45015);
			const now = state.now();
			if (command === 'CancelTyping') {
				follower.typingUntil = 0;
			} else {
				const lastExchange = Math.max(follower.lastInteractionAt, follower.lastSentAt ?? 0);
				if (now - lastExchange > TYPING_NEEDS_EXCHANGE_WITHIN_MS) return wechatError(45080);
				if (follower.typingUntil > now) return wechatError(45081);
				follower.typingUntil = now + TYPING_LASTS_MS;
			}
			state.typingCommands.push({ touser: follower.openid, command, at: now });
			return OK;
		},
	},
];
