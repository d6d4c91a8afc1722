import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';

import { NodeApiError, type INodeParameters } from 'n8n-workflow';

import type { Emulator } from '../emulator/server';
import { useEmulator } from '../harness/emulatorSuite';
import { EngineHarness } from '../harness/engine';

/**
 * Message (客服消息) send and typing: the exact request WeChat receives for every message type, the exact output item,
 * send-as, WeChat's errors explained, every input item processed, continueOnFail, and a token rejected mid-run.
 * Uploads from binary data are in messageMedia.test.ts, local validation in messageValidation.test.ts.
 */

const SEND = '/cgi-bin/message/custom/send';
const TYPING = '/cgi-bin/message/custom/typing';
const USER = 'o_user_alice';
const HOUR = 60 * 60 * 1000;

let emulator: Emulator;

function harness(): EngineHarness {
	return new EngineHarness({ appId: emulator.appId, appSecret: emulator.appSecret, baseUrl: emulator.baseUrl });
}

const send = (parameters: INodeParameters): INodeParameters => ({
	resource: 'message',
	operation: 'send',
	openId: USER,
	...parameters,
});
const typing = (command: string, openId = USER): INodeParameters => ({
	resource: 'message',
	operation: 'typing',
	openId,
	command,
});
const picked = (value: string) => ({ __rl: true, mode: 'list', value });
const typed = (value: string) => ({ __rl: true, mode: 'id', value });

function onlyCall(path: string) {
	const calls = emulator.apiCalls(path);
	assert.equal(calls.length, 1, `exactly one request to ${path}`);
	const { access_token: token, ...rest } = calls[0].query;
	assert.equal(typeof token, 'string', 'the request carries an access token');
	assert.ok(token.length > 0);
	assert.deepEqual(rest, {}, 'no query parameters besides the token');
	assert.equal(calls[0].method, 'POST');
	return calls[0];
}

/** The run's error as the engine records it (serialized): a WeChatApiError, i.e. a NodeApiError carrying WeChat's answer. */
function assertWeChatApiError(error: unknown): void {
	const recorded = error as { name?: string; errcode?: number; errorResponse?: { errcode?: number } } | undefined;
	assert.equal(recorded?.name, 'WeChatApiError');
	assert.equal(typeof recorded?.errcode, 'number');
	assert.equal(recorded?.errorResponse?.errcode, recorded?.errcode);
}

function weChatSaid(errcode: number): string {
	const answer = emulator.apiCalls().find((call) => (call.response.body as { errcode?: number }).errcode === errcode);
	return String((answer?.response.body as { errmsg?: string }).errmsg);
}

useEmulator((started) => (emulator = started), { errmsgRid: false });
beforeEach(() => {
	emulator.addFollower(USER);
	emulator.addKfAccount({ kf_account: 'alice@gh_service', kf_nick: 'Alice', online: true });
	emulator.addKfAccount({ kf_account: 'bob@gh_service', kf_nick: 'Bob' });
	for (const type of ['image', 'voice', 'video', 'thumb'] as const) {
		emulator.state.addMedia({ type, media_id: `MEDIA_${type.toUpperCase()}`, filename: `seed.${type}` });
	}
});

describe('message.send: the exact request for every message type', () => {
	const cases: Array<{ msgType: string; parameters: INodeParameters; payload: Record<string, unknown> }> = [
		{
			msgType: 'text',
			parameters: { content: 'Hello 你好\nYour order has shipped.' },
			payload: { content: 'Hello 你好\nYour order has shipped.' },
		},
		{
			msgType: 'image',
			parameters: { mediaSource: 'mediaId', mediaId: 'MEDIA_IMAGE' },
			payload: { media_id: 'MEDIA_IMAGE' },
		},
		{
			msgType: 'voice',
			parameters: { mediaSource: 'mediaId', mediaId: 'MEDIA_VOICE' },
			payload: { media_id: 'MEDIA_VOICE' },
		},
		{
			msgType: 'video',
			parameters: {
				mediaSource: 'mediaId',
				mediaId: 'MEDIA_VIDEO',
				thumbSource: 'mediaId',
				thumbMediaId: 'MEDIA_THUMB',
				title: 'Unboxing',
				description: 'How to set it up',
			},
			payload: {
				media_id: 'MEDIA_VIDEO',
				thumb_media_id: 'MEDIA_THUMB',
				title: 'Unboxing',
				description: 'How to set it up',
			},
		},
		{
			msgType: 'music',
			parameters: {
				title: 'Jingle',
				description: 'Our tune',
				musicUrl: 'https://cdn.example.com/jingle.mp3',
				hqMusicUrl: 'https://cdn.example.com/jingle-hq.mp3',
				thumbSource: 'mediaId',
				thumbMediaId: 'MEDIA_THUMB',
			},
			payload: {
				title: 'Jingle',
				description: 'Our tune',
				musicurl: 'https://cdn.example.com/jingle.mp3',
				hqmusicurl: 'https://cdn.example.com/jingle-hq.mp3',
				thumb_media_id: 'MEDIA_THUMB',
			},
		},
		{
			msgType: 'news',
			parameters: {
				title: 'Spring sale',
				description: 'Everything 20% off',
				url: 'https://shop.example.com/sale',
				picUrl: 'https://shop.example.com/sale.jpg',
			},
			payload: {
				articles: [
					{
						title: 'Spring sale',
						description: 'Everything 20% off',
						url: 'https://shop.example.com/sale',
						picurl: 'https://shop.example.com/sale.jpg',
					},
				],
			},
		},
		{
			msgType: 'mpnews',
			parameters: { mediaId: 'NEWS_MATERIAL_1' },
			payload: { media_id: 'NEWS_MATERIAL_1' },
		},
		{
			msgType: 'mpnewsarticle',
			parameters: { articleId: 'ARTICLE_ID_42' },
			payload: { article_id: 'ARTICLE_ID_42' },
		},
		{
			msgType: 'msgmenu',
			parameters: {
				headContent: 'How satisfied are you?',
				menuItems: {
					item: [
						{ id: '101', content: 'Satisfied' },
						{ id: '102', content: 'Not satisfied' },
					],
				},
				tailContent: 'Thank you!',
			},
			payload: {
				head_content: 'How satisfied are you?',
				list: [
					{ id: '101', content: 'Satisfied' },
					{ id: '102', content: 'Not satisfied' },
				],
				tail_content: 'Thank you!',
			},
		},
		{
			msgType: 'wxcard',
			parameters: { cardId: 'pFS7Fjg8kV1IdDz01r4SQwMkuCKc' },
			payload: { card_id: 'pFS7Fjg8kV1IdDz01r4SQwMkuCKc' },
		},
		{
			msgType: 'miniprogrampage',
			parameters: {
				title: 'Track your order',
				appId: 'wx1234567890abcdef',
				pagePath: 'pages/order/detail?id=42',
				thumbMediaId: 'MEDIA_THUMB',
			},
			payload: {
				title: 'Track your order',
				appid: 'wx1234567890abcdef',
				pagepath: 'pages/order/detail?id=42',
				thumb_media_id: 'MEDIA_THUMB',
			},
		},
	];

	for (const { msgType, parameters, payload } of cases) {
		test(msgType, async () => {
			const result = await harness().runNode({ parameters: send({ msgType, ...parameters }) });

			assert.equal(result.error, undefined);
			const call = onlyCall(SEND);
			assert.deepEqual(call.json, { touser: USER, msgtype: msgType, [msgType]: payload });
			assert.deepEqual(call.response.body, { errcode: 0, errmsg: 'ok' });
			assert.deepEqual(
				result.items.map((item) => item.json),
				[{ touser: USER, msgtype: msgType, sent: true }],
			);
			assert.equal(emulator.apiCalls('/cgi-bin/media/upload').length, 0, 'typed ids upload nothing');
			assert.equal(emulator.state.sentMessages.length, 1);
		});
	}

	test('music without a high-quality URL sends the normal URL in both fields', async () => {
		await harness().runNode({
			parameters: send({
				msgType: 'music',
				musicUrl: 'https://cdn.example.com/a.mp3',
				thumbSource: 'mediaId',
				thumbMediaId: 'MEDIA_THUMB',
			}),
		});
		assert.deepEqual(onlyCall(SEND).json, {
			touser: USER,
			msgtype: 'music',
			music: {
				musicurl: 'https://cdn.example.com/a.mp3',
				hqmusicurl: 'https://cdn.example.com/a.mp3',
				thumb_media_id: 'MEDIA_THUMB',
			},
		});
	});

	test('optional fields left empty are not sent (news without description and picture)', async () => {
		await harness().runNode({
			parameters: send({ msgType: 'news', title: 'Hi', url: 'https://example.com/a' }),
		});
		assert.deepEqual(onlyCall(SEND).json, {
			touser: USER,
			msgtype: 'news',
			news: { articles: [{ title: 'Hi', url: 'https://example.com/a' }] },
		});
	});

	test('text is sent exactly as typed, surrounding line breaks included', async () => {
		await harness().runNode({ parameters: send({ msgType: 'text', content: '\n  Dear customer,\n' }) });
		assert.deepEqual(onlyCall(SEND).json, {
			touser: USER,
			msgtype: 'text',
			text: { content: '\n  Dear customer,\n' },
		});
	});
});

describe('message.send as a customer-service account', () => {
	for (const [mode, kfAccount] of [
		['picked from the list', picked('alice@gh_service')],
		['typed', typed('bob@gh_service')],
	] as const) {
		test(`${mode}: customservice.kf_account is sent`, async () => {
			const result = await harness().runNode({
				parameters: send({ msgType: 'text', content: 'Hi', additionalFields: { kfAccount } }),
			});

			assert.equal(result.error, undefined);
			assert.deepEqual(onlyCall(SEND).json, {
				touser: USER,
				msgtype: 'text',
				text: { content: 'Hi' },
				customservice: { kf_account: kfAccount.value },
			});
			assert.deepEqual(result.items[0].json, { touser: USER, msgtype: 'text', sent: true });
			assert.equal(emulator.state.sentMessages[0].kf_account, kfAccount.value);
		});
	}

	test('an empty send-as account sends as the Official Account (no customservice)', async () => {
		await harness().runNode({
			parameters: send({ msgType: 'text', content: 'Hi', additionalFields: { kfAccount: picked('') } }),
		});
		assert.deepEqual(onlyCall(SEND).json, { touser: USER, msgtype: 'text', text: { content: 'Hi' } });
	});

	test('an account WeChat does not know is 65401', async () => {
		const result = await harness().runNode({
			parameters: send({ msgType: 'text', content: 'Hi', additionalFields: { kfAccount: typed('zed@gh_service') } }),
		});
		assert.equal(
			result.error?.message,
			'WeChat error 65401 (无效客服帐号): Invalid customer-service account: it does not exist',
		);
	});
});

describe('WeChat errors on send, explained', () => {
	test('45015: outside the 48-hour window', async () => {
		emulator.addFollower('o_quiet', { lastInteractionAt: emulator.now() - 49 * HOUR });
		const result = await harness().runNode({
			parameters: send({ openId: 'o_quiet', msgType: 'text', content: 'Still there?' }),
		});

		assertWeChatApiError(result.error);
		assert.ok(result.error);
		assert.equal(
			result.error.message,
			'WeChat error 45015 (回复时间超过限制): The user has not interacted with the Official Account within the last 48 hours, or has unfollowed it',
		);
		assert.equal(
			result.error.description,
			'Customer-service messages may only be sent within 48 hours of the user\'s last message, menu click, follow or scan. Use a template or subscription message instead. WeChat said: "response out of time limit or subscription is canceled"',
		);
		assert.equal(weChatSaid(45015), 'response out of time limit or subscription is canceled');
		assert.equal(emulator.state.sentMessages.length, 0);
	});

	test('45015: the user unfollowed', async () => {
		emulator.addFollower('o_gone', { subscribed: false });
		const result = await harness().runNode({ parameters: send({ openId: 'o_gone', msgType: 'text', content: 'Hi' }) });
		assert.match(String(result.error?.message), /^WeChat error 45015 \(回复时间超过限制\)/);
	});

	test('45047: more messages than the interaction allows', async () => {
		emulator.setSendQuota(1);
		const first = await harness().runNode({ parameters: send({ msgType: 'text', content: 'One' }) });
		assert.equal(first.error, undefined);
		const second = await harness().runNode({ parameters: send({ msgType: 'text', content: 'Two' }) });

		assertWeChatApiError(second.error);
		assert.ok(second.error);
		assert.equal(
			second.error.message,
			'WeChat error 45047 (客服接口下行条数超过上限): Too many customer-service messages were sent to this user since their last interaction',
		);
		assert.equal(
			second.error.description,
			'Wait until the user interacts again; each interaction allows only a few messages. WeChat said: "out of response count limit"',
		);
		assert.equal(emulator.state.sentMessages.length, 1);
	});

	test('45008: WeChat refusing a news message is explained (the node itself always sends one article)', async () => {
		emulator.injectFault({ path: SEND, kind: 'errcode', errcode: 45008, errmsg: 'article size out of limit' });
		const result = await harness().runNode({
			parameters: send({ msgType: 'news', title: 'A', url: 'https://example.com/a' }),
		});

		assertWeChatApiError(result.error);
		assert.ok(result.error);
		assert.equal(
			result.error.message,
			'WeChat error 45008 (图文消息超过限制): A news (图文) message may carry only one article',
		);
		assert.equal(result.error.description, 'Send one article per message. WeChat said: "article size out of limit"');
		assert.equal((onlyCall(SEND).json as { news: { articles: unknown[] } }).news.articles.length, 1);
	});

	test('40003: an OpenID that does not follow this account', async () => {
		const result = await harness().runNode({
			parameters: send({ openId: 'o_someone_else', msgType: 'text', content: 'Hi' }),
		});

		assertWeChatApiError(result.error);
		assert.ok(result.error);
		assert.equal(
			result.error.message,
			'WeChat error 40003 (不合法的 OpenID): Invalid OpenID: the user is not a follower of this Official Account',
		);
		assert.equal(
			result.error.description,
			'Use the OpenID this Official Account received in a push (FromUserName); an OpenID of another account or app does not work. WeChat said: "invalid openid"',
		);
	});

	test('40007: a media_id WeChat does not know (or that expired)', async () => {
		const result = await harness().runNode({
			parameters: send({ msgType: 'image', mediaSource: 'mediaId', mediaId: 'EXPIRED_ID' }),
		});
		assert.equal(
			result.error?.message,
			'WeChat error 40007 (不合法的媒体文件 id): Invalid media_id: it does not exist or has expired',
		);
		assert.match(String(result.error?.description), /^Temporary media expire after 3 days/);
	});

	test('the error never passes off as output: no item, WeChat\'s answer not returned as data', async () => {
		const result = await harness().runNode({
			parameters: send({ openId: 'o_someone_else', msgType: 'text', content: 'Hi' }),
		});
		assert.equal(result.items.length, 0);
	});
});

describe('every input item', () => {
	test('N items make N sends, each with its own recipient and text, outputs in input order', async () => {
		const users = ['o_1', 'o_2', 'o_3', 'o_4'];
		users.forEach((openid) => emulator.addFollower(openid));

		const result = await harness().runNode({
			parameters: send({ openId: '={{ $json.openid }}', msgType: 'text', content: '=Hello {{ $json.name }}' }),
			items: users.map((openid, index) => ({ json: { openid, name: `User ${index + 1}` } })),
		});

		assert.equal(result.error, undefined);
		assert.deepEqual(
			result.items.map((item) => item.json),
			users.map((openid) => ({ touser: openid, msgtype: 'text', sent: true })),
		);
		const bodies = emulator
			.apiCalls(SEND)
			.map((call) => call.json as { touser: string; text: { content: string } })
			.sort((a, b) => a.touser.localeCompare(b.touser));
		assert.deepEqual(
			bodies,
			users.map((openid, index) => ({ touser: openid, msgtype: 'text', text: { content: `Hello User ${index + 1}` } })),
		);
	});

	test('continueOnFail, three items, the middle one invalid locally: sent, error item, sent', async () => {
		emulator.addFollower('o_3');
		const result = await harness().runNode({
			parameters: send({ openId: '={{ $json.openid }}', msgType: 'text', content: '={{ $json.text }}' }),
			continueOnFail: true,
			items: [
				{ json: { openid: USER, text: 'First' } },
				{ json: { openid: USER, text: '' } },
				{ json: { openid: 'o_3', text: 'Third' } },
			],
		});

		assert.deepEqual(
			result.items.map((item) => item.json),
			[{ touser: USER, msgtype: 'text', sent: true }, { error: 'Text is empty' }, { touser: 'o_3', msgtype: 'text', sent: true }],
		);
		assert.equal(emulator.apiCalls(SEND).length, 2);
	});

	test('continueOnFail, three items, the middle one refused by WeChat (40003): sent, error item, sent', async () => {
		emulator.addFollower('o_3');
		const result = await harness().runNode({
			parameters: send({ openId: '={{ $json.openid }}', msgType: 'text', content: 'Hi' }),
			continueOnFail: true,
			items: [{ json: { openid: USER } }, { json: { openid: 'o_stranger' } }, { json: { openid: 'o_3' } }],
		});

		assert.equal(result.error, undefined);
		assert.equal(result.items.length, 3);
		assert.deepEqual(result.items[0].json, { touser: USER, msgtype: 'text', sent: true });
		assert.deepEqual(result.items[1].json, {
			error: 'WeChat error 40003 (不合法的 OpenID): Invalid OpenID: the user is not a follower of this Official Account',
		});
		assert.ok(result.items[1].error instanceof NodeApiError, 'the error item carries a NodeApiError');
		assert.equal(
			result.items[1].error.description,
			'Use the OpenID this Official Account received in a push (FromUserName); an OpenID of another account or app does not work. WeChat said: "invalid openid"',
		);
		assert.deepEqual(result.items[2].json, { touser: 'o_3', msgtype: 'text', sent: true });
		assert.equal(emulator.apiCalls(SEND).length, 3);
		assert.deepEqual(
			emulator.state.sentMessages.map((message) => message.touser).sort(),
			[USER, 'o_3'].sort(),
		);
	});
});

describe('an access token rejected mid-run', () => {
	for (const fault of ['revoked (40001)', 'expired (42001)'] as const) {
		test(`${fault}: one refresh, and every item is delivered exactly once`, async () => {
			const users = ['o_1', 'o_2', 'o_3'];
			users.forEach((openid) => emulator.addFollower(openid));
			const instance = harness();
			await instance.runNode({ parameters: send({ msgType: 'text', content: 'warm-up' }) });
			const oldToken = instance.storedCredential().accessToken;
			if (fault === 'revoked (40001)') emulator.revokeCurrentToken();
			else emulator.expireCurrentToken();
			emulator.clearLog();
			emulator.state.sentMessages.length = 0;

			const result = await instance.runNode({
				parameters: send({ openId: '={{ $json.openid }}', msgType: 'text', content: 'Hi' }),
				items: users.map((openid) => ({ json: { openid } })),
			});

			assert.equal(result.error, undefined);
			assert.deepEqual(
				result.items.map((item) => item.json.touser),
				users,
			);
			assert.equal(emulator.tokenCalls().length, 1, 'exactly one refresh');
			const accepted = emulator
				.apiCalls(SEND)
				.filter((call) => (call.response.body as { errcode: number }).errcode === 0);
			assert.equal(accepted.length, users.length, 'one accepted send per item');
			assert.deepEqual(accepted.map((call) => (call.json as { touser: string }).touser).sort(), users);
			assert.ok(accepted.every((call) => call.query.access_token !== oldToken));
			assert.equal(emulator.state.sentMessages.length, users.length, 'nobody got the message twice');
		});
	}
});

describe('message.typing', () => {
	for (const command of ['Typing', 'CancelTyping']) {
		test(command, async () => {
			const result = await harness().runNode({ parameters: typing(command) });

			assert.equal(result.error, undefined);
			assert.deepEqual(onlyCall(TYPING).json, { touser: USER, command });
			assert.deepEqual(
				result.items.map((item) => item.json),
				[{ touser: USER, command, sent: true }],
			);
			assert.deepEqual(
				emulator.state.typingCommands.map(({ touser, command: sent }) => ({ touser, command: sent })),
				[{ touser: USER, command }],
			);
		});
	}

	test('45080: no message exchanged in the last 30 seconds', async () => {
		emulator.addFollower('o_idle', { lastInteractionAt: emulator.now() - 60_000 });
		const result = await harness().runNode({ parameters: typing('Typing', 'o_idle') });

		assertWeChatApiError(result.error);
		assert.ok(result.error);
		assert.equal(
			result.error.message,
			'WeChat error 45080 (下发输入状态，需要之前 30 秒内跟用户有过消息交互): The user has not interacted within the last 30 seconds',
		);
		assert.equal(
			result.error.description,
			`The typing status can only be shown right after the user sent a message. WeChat said: "${weChatSaid(45080)}"`,
		);
	});

	test('45081: typing is already showing', async () => {
		const first = await harness().runNode({ parameters: typing('Typing') });
		assert.equal(first.error, undefined);
		const second = await harness().runNode({ parameters: typing('Typing') });

		assertWeChatApiError(second.error);
		assert.ok(second.error);
		assert.equal(
			second.error.message,
			'WeChat error 45081 (已经在输入状态，不可重复下发): The typing status is already shown to this user',
		);
		assert.equal(
			second.error.description,
			'Wait 15 seconds, or send the message (which ends the typing status). WeChat said: "you are already typing"',
		);
		assert.equal(emulator.apiCalls(TYPING).length, 2);
	});

	test('one typing command per input item', async () => {
		emulator.addFollower('o_2');
		const result = await harness().runNode({
			parameters: { ...typing('CancelTyping'), openId: '={{ $json.openid }}' },
			items: [{ json: { openid: USER } }, { json: { openid: 'o_2' } }],
		});
		assert.deepEqual(
			result.items.map((item) => item.json),
			[
				{ touser: USER, command: 'CancelTyping', sent: true },
				{ touser: 'o_2', command: 'CancelTyping', sent: true },
			],
		);
		assert.equal(emulator.apiCalls(TYPING).length, 2);
	});
});
