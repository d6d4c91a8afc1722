import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';

import type { INode, INodeParameters } from 'n8n-workflow';

import { readPassiveReply } from '../../nodes/shared/passiveReply';
import type { Emulator, LoggedRequest } from '../emulator/server';
import { useEmulator } from '../harness/emulatorSuite';
import { countExpressionEvaluations } from '../harness/expressionSpy';
import { EngineHarness, TRIGGER_NODE_TYPE, type RunNodeOptions, type TestItem } from '../harness/engine';

/**
 * Message → Reply through n8n's real engine, behind the package's real trigger node (which n8n runs as a pass-through
 * when it is not the start node, as it runs the trigger of a webhook execution with the push's item). The node builds
 * `passiveReply` and sends nothing to WeChat, except the upload of a file from binary data.
 */

const UPLOAD = '/cgi-bin/media/upload';
const USER = 'o_user_alice';
const KF = 'kf2001@gh_service';

let emulator: Emulator;
useEmulator((started) => (emulator = started), { errmsgRid: false });

function harness(): EngineHarness {
	return new EngineHarness({ appId: emulator.appId, appSecret: emulator.appSecret, baseUrl: emulator.baseUrl });
}

function trigger(parameters: INodeParameters = { reply: 'fromWorkflow' }, settings: Partial<INode> = {}): INode {
	return {
		id: 'trigger',
		name: 'WeChat Customer Service Trigger',
		type: TRIGGER_NODE_TYPE,
		typeVersion: 1.1,
		position: [100, 0],
		webhookId: 'reply-test',
		parameters,
		...settings,
	};
}

/** The push the trigger hands the workflow. */
const push = (content = 'I want a human', json: Record<string, unknown> = {}): TestItem => ({
	json: { ToUserName: 'gh_service', FromUserName: USER, CreateTime: 1764590000, MsgType: 'text', Content: content, ...json },
});

async function reply(parameters: INodeParameters, options: Partial<RunNodeOptions> = {}) {
	return await harness().runNode({
		parameters: { resource: 'message', operation: 'reply', ...parameters },
		items: [push()],
		upstream: [trigger()],
		...options,
	});
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(600, 3)]);
const amr = Buffer.concat([Buffer.from('#!AMR\n'), Buffer.alloc(1500, 9)]);
const MEDIA_ID = 'M3dia_Id-0123456789abcdefABCDEF';

function withoutToken(call: LoggedRequest): Record<string, string> {
	const { access_token: token, ...rest } = call.query;
	assert.ok(typeof token === 'string' && token.length > 0, 'the request carries an access token');
	return rest;
}

describe('each reply type: the item says what WeChat will be answered, and nothing reaches WeChat', () => {
	test('text, as typed (spacing and line breaks kept)', async () => {
		const result = await reply({ replyType: 'text', content: '  Opening hours:\n9:00–18:00 ' });
		assert.equal(result.error, undefined);
		assert.deepEqual(
			result.items.map((item) => item.json),
			[{ replyType: 'text', passiveReply: { MsgType: 'text', Content: '  Opening hours:\n9:00–18:00 ' } }],
		);
		assert.deepEqual(emulator.requests, [], 'no request at all, not even for a token');
	});

	test('text mapped from the push, 2,048 bytes exactly (682 Chinese characters and two letters)', async () => {
		const text = `${'客'.repeat(682)}ok`;
		const result = await reply({ replyType: 'text', content: '={{ $json.answer }}' }, { items: [push('?', { answer: text })] });
		assert.equal(result.error, undefined);
		assert.deepEqual(result.items[0].json, { replyType: 'text', passiveReply: { MsgType: 'text', Content: text } });
		assert.deepEqual(emulator.requests, []);
	});

	test('image by media_id', async () => {
		const result = await reply({ replyType: 'image', mediaSource: 'mediaId', mediaId: MEDIA_ID });
		assert.deepEqual(
			result.items.map((item) => item.json),
			[{ replyType: 'image', passiveReply: { MsgType: 'image', Image: { MediaId: MEDIA_ID } } }],
		);
		assert.deepEqual(emulator.requests, []);
	});

	test('voice by media_id mapped from the push (a voice note sent back)', async () => {
		const result = await reply(
			{ replyType: 'voice', mediaSource: 'mediaId', mediaId: '={{ $json.MediaId }}' },
			{ items: [push(undefined, { MsgType: 'voice', MediaId: MEDIA_ID })] },
		);
		assert.deepEqual(
			result.items.map((item) => item.json),
			[{ replyType: 'voice', passiveReply: { MsgType: 'voice', Voice: { MediaId: MEDIA_ID } } }],
		);
		assert.deepEqual(emulator.requests, []);
	});

	test('transfer to customer service, no agent: WeChat chooses (no TransInfo)', async () => {
		const result = await reply({ replyType: 'transferToCustomerService' });
		assert.deepEqual(
			result.items.map((item) => item.json),
			[{ replyType: 'transferToCustomerService', passiveReply: { MsgType: 'transfer_customer_service' } }],
		);
		assert.deepEqual(emulator.requests, []);
	});

	test('transfer to a chosen agent, typed By Account or mapped (the agent who served the user last)', async () => {
		const typed = await reply({
			replyType: 'transferToCustomerService',
			kfAccount: { __rl: true, mode: 'id', value: KF },
		});
		const mapped = await reply(
			{ replyType: 'transferToCustomerService', kfAccount: { __rl: true, mode: 'id', value: '={{ $json.kf_account }}' } },
			{ items: [push(undefined, { kf_account: 'kf3001@gh_service' })] },
		);
		const empty = await reply({
			replyType: 'transferToCustomerService',
			kfAccount: { __rl: true, mode: 'list', value: '' },
		});
		assert.deepEqual(
			[typed, mapped, empty].map((result) => result.items[0]?.json),
			[
				{
					replyType: 'transferToCustomerService',
					passiveReply: { MsgType: 'transfer_customer_service', TransInfo: { KfAccount: KF } },
				},
				{
					replyType: 'transferToCustomerService',
					passiveReply: { MsgType: 'transfer_customer_service', TransInfo: { KfAccount: 'kf3001@gh_service' } },
				},
				{ replyType: 'transferToCustomerService', passiveReply: { MsgType: 'transfer_customer_service' } },
			],
		);
		assert.deepEqual(emulator.requests, []);
	});

	test('every output passes the check the trigger applies to what n8n hands it', async () => {
		const results = await Promise.all([
			reply({ replyType: 'text', content: 'Hi' }),
			reply({ replyType: 'image', mediaSource: 'mediaId', mediaId: MEDIA_ID }),
			reply({ replyType: 'voice', mediaSource: 'mediaId', mediaId: MEDIA_ID }),
			reply({ replyType: 'transferToCustomerService', kfAccount: { __rl: true, mode: 'id', value: KF } }),
		]);
		for (const result of results) {
			const passiveReply = result.items[0].json.passiveReply;
			assert.deepEqual(readPassiveReply(passiveReply), { ok: true, reply: passiveReply });
		}
	});
});

describe('from binary data: uploaded as temporary media, as Message → Send does, and the media_id replied', () => {
	test('image: one upload (type=image, multipart "media"), then nothing else; media_id in the reply and the item', async () => {
		const result = await reply(
			{ replyType: 'image', mediaSource: 'binary', binaryPropertyName: 'photo' },
			{ items: [{ ...push(), binary: { photo: { data: png, fileName: 'receipt.png', mimeType: 'image/png' } } }] },
		);
		assert.equal(result.error, undefined);
		assert.deepEqual(
			emulator.apiCalls().map((call) => call.path),
			[UPLOAD],
		);
		const [upload] = emulator.apiCalls();
		assert.equal(upload.method, 'POST');
		assert.deepEqual(withoutToken(upload), { type: 'image' });
		assert.deepEqual(upload.multipart?.fields, {});
		assert.deepEqual(upload.multipart?.files, [
			{ field: 'media', filename: 'receipt.png', contentType: 'image/png', size: png.length, sha256: sha256(png) },
		]);
		const mediaId = (upload.response.body as { media_id: string }).media_id;
		assert.equal(emulator.state.media.get(mediaId)?.sha256, sha256(png));
		assert.deepEqual(
			result.items.map((item) => item.json),
			[
				{
					replyType: 'image',
					passiveReply: { MsgType: 'image', Image: { MediaId: mediaId } },
					media_id: mediaId,
					media_type: 'image',
				},
			],
		);
	});

	test('voice: an AMR uploaded with type=voice (the default binary field "data")', async () => {
		const result = await reply(
			{ replyType: 'voice' },
			{ items: [{ ...push(), binary: { data: { data: amr, fileName: 'answer.amr', mimeType: 'audio/amr' } } }] },
		);
		const [upload] = emulator.apiCalls();
		assert.equal(emulator.apiCalls().length, 1);
		assert.deepEqual(withoutToken(upload), { type: 'voice' });
		assert.deepEqual(upload.multipart?.files, [
			{ field: 'media', filename: 'answer.amr', contentType: 'audio/amr', size: amr.length, sha256: sha256(amr) },
		]);
		const mediaId = (upload.response.body as { media_id: string }).media_id;
		assert.deepEqual(result.items[0].json, {
			replyType: 'voice',
			passiveReply: { MsgType: 'voice', Voice: { MediaId: mediaId } },
			media_id: mediaId,
			media_type: 'voice',
		});
	});

	test('WeChat refusing the upload fails the item with its explained error, nothing replied', async () => {
		emulator.injectFault({ path: UPLOAD, kind: 'errcode', errcode: 40004, errmsg: 'invalid media type' });
		const result = await reply(
			{ replyType: 'image' },
			{ items: [{ ...push(), binary: { data: { data: png, fileName: 'a.png', mimeType: 'image/png' } } }] },
		);
		assert.deepEqual(result.items, []);
		assert.equal(result.error?.name, 'WeChatApiError');
		assert.equal(result.error?.message, 'WeChat error 40004 (不合法的媒体文件类型): Invalid media type');
		assert.equal(emulator.apiCalls(UPLOAD).length, 1);
	});
});

test('a media_id of the wrong shape from the upload (a proxy rewriting answers): refused, as the trigger would', async () => {
	emulator.injectFault({
		path: UPLOAD,
		kind: 'http',
		status: 200,
		body: JSON.stringify({ type: 'image', media_id: 'not <a> media id', created_at: 1764590000 }),
	});
	const result = await reply(
		{ replyType: 'image' },
		{ items: [{ ...push(), binary: { data: { data: png, fileName: 'a.png', mimeType: 'image/png' } } }] },
	);
	assert.deepEqual(result.items, []);
	assert.equal(result.error?.message, 'The reply cannot be sent: Image.MediaId is not a WeChat media_id');
	assert.match(String(result.error?.description), /answer to the upload/);
	assert.equal(emulator.apiCalls(UPLOAD).length, 1);
});

describe('bad input: a clear error per item, before any request', () => {
	const cases: Array<[string, INodeParameters, TestItem | undefined, string, RegExp]> = [
		[
			'empty text (mapped: n8n itself refuses an empty literal of a required field)',
			{ replyType: 'text', content: '={{ $json.answer }}' },
			push('?', { answer: '' }),
			'Text is empty',
			/reply text \(文本消息内容\)/,
		],
		['blank text', { replyType: 'text', content: ' \n ' }, undefined, 'Text is empty', /reply text/],
		[
			'text of 2,049 bytes',
			{ replyType: 'text', content: `${'客'.repeat(683)}` },
			undefined,
			'Text is 2049 bytes long; a passive reply (被动回复) takes at most 2048 bytes (UTF-8)',
			/Message → Send, a customer-service message \(客服消息\)/,
		],
		[
			'empty media id (mapped from a push without one)',
			{ replyType: 'image', mediaSource: 'mediaId', mediaId: '={{ $json.MediaId }}' },
			push(),
			'Media ID is empty',
			/media_id WeChat returned when a image file was uploaded/,
		],
		[
			'a media id that is a whole sentence',
			{ replyType: 'voice', mediaSource: 'mediaId', mediaId: 'not a media id' },
			undefined,
			'Media ID is not a WeChat media_id',
			/uploaded voice file \(临时素材 media_id\)/,
		],
		[
			'a media id of 129 characters',
			{ replyType: 'image', mediaSource: 'mediaId', mediaId: 'a'.repeat(129) },
			undefined,
			'Media ID is not a WeChat media_id',
			/up to 128 letters/,
		],
		[
			'a customer-service account without @, mapped (a typed one n8n itself refuses by the picker\'s rule)',
			{ replyType: 'transferToCustomerService', kfAccount: { __rl: true, mode: 'id', value: '={{ "kf2001" }}' } },
			undefined,
			'"kf2001" is not a valid customer-service account',
			/prefix@WeChatID/,
		],
		[
			'a PNG as voice',
			{ replyType: 'voice' },
			{ ...push(), binary: { data: { data: png, fileName: 'a.png', mimeType: 'image/png' } } },
			'The file "a.png" (image/png) cannot be sent as voice',
			/AMR, MP3/,
		],
		[
			'a voice file over 2 MB',
			{ replyType: 'voice' },
			{ ...push(), binary: { data: { data: Buffer.alloc(2 * 1024 * 1024 + 1, 1), fileName: 'a.mp3', mimeType: 'audio/mpeg' } } },
			'The voice file is 2.0 MB; WeChat accepts at most 2.0 MB',
			/Compress/,
		],
		[
			'no binary data',
			{ replyType: 'image', binaryPropertyName: 'photo' },
			undefined,
			'No binary data in property "photo"',
			/has no binary data/,
		],
		['an unknown reply type', { replyType: 'news', content: 'Hi' }, undefined, '"news" is not a reply type', /text, image, voice, transferToCustomerService/],
	];
	for (const [what, parameters, item, message, description] of cases) {
		test(what, async () => {
			const result = await reply(parameters, item ? { items: [item] } : {});
			assert.deepEqual(result.items, []);
			assert.equal(result.error?.message, message);
			assert.match(String(result.error?.description), description);
			assert.deepEqual(emulator.requests, []);
		});
	}
});

test('an empty literal Text or Media ID: n8n itself refuses to start, the fields being required where shown', async () => {
	await assert.rejects(reply({ replyType: 'text', content: '' }), { name: 'WorkflowHasIssuesError', message: /Parameter "Text" is required/ });
	await assert.rejects(reply({ replyType: 'voice', mediaSource: 'mediaId', mediaId: '' }), {
		name: 'WorkflowHasIssuesError',
		message: /Parameter "Media ID" is required/,
	});
	// Not required where hidden: a transfer with a Text left over from an earlier choice runs.
	const transfer = await reply({ replyType: 'transferToCustomerService', content: '' });
	assert.equal(transfer.error, undefined);
	assert.deepEqual(emulator.requests, []);
});

describe('continueOnFail', () => {
	test('three items, the middle one invalid: reply, error item, reply', async () => {
		const result = await reply(
			{ replyType: 'text', content: '={{ $json.answer }}' },
			{
				continueOnFail: true,
				items: [push('a', { answer: 'First' }), push('b', { answer: '' }), push('c', { answer: 'Third' })],
			},
		);
		assert.deepEqual(
			result.items.map((item) => item.json),
			[
				{ replyType: 'text', passiveReply: { MsgType: 'text', Content: 'First' } },
				{ error: 'Text is empty' },
				{ replyType: 'text', passiveReply: { MsgType: 'text', Content: 'Third' } },
			],
		);
		assert.deepEqual(emulator.requests, []);
	});
});

describe('only behind a trigger whose Reply is From Workflow', () => {
	const NOT_AFTER_TRIGGER =
		'Message → Reply answers the push that started this execution: put it after a WeChat Customer Service Trigger whose Reply is From Workflow';

	test('no trigger before it: refused, nothing built', async () => {
		const result = await reply({ replyType: 'text', content: 'Hi' }, { upstream: [] });
		assert.deepEqual(result.items, []);
		assert.equal(result.error?.message, NOT_AFTER_TRIGGER);
		assert.match(String(result.error?.description), /first item of the last node that runs/);
		assert.deepEqual(emulator.requests, []);
	});

	test('a trigger that answers by itself (Reply: Success, or Transfer): told to set From Workflow', async () => {
		for (const parameters of [{ reply: 'success' }, { reply: 'transferToCustomerService', kfAccount: KF }]) {
			const result = await reply({ replyType: 'text', content: 'Hi' }, { upstream: [trigger(parameters)] });
			assert.deepEqual(result.items, []);
			assert.equal(
				result.error?.message,
				'The trigger "WeChat Customer Service Trigger" answers WeChat by itself: set its Reply to From Workflow',
			);
		}
	});

	test('a disabled trigger does not count', async () => {
		const result = await reply(
			{ replyType: 'text', content: 'Hi' },
			{ upstream: [trigger({ reply: 'fromWorkflow' }, { disabled: true })] },
		);
		assert.equal(result.error?.message, NOT_AFTER_TRIGGER);
	});

	test('a trigger further up counts: Trigger → Reply → Reply', async () => {
		const first: INode = {
			id: 'first-reply',
			name: 'First Reply',
			type: 'n8n-nodes-wechat-customer-service.weChatCustomerService',
			typeVersion: 1,
			position: [150, 0],
			parameters: { resource: 'message', operation: 'reply', replyType: 'transferToCustomerService' },
			credentials: { weChatOfficialAccountApi: { id: 'wechat-credential-1', name: 'WeChat emulator' } },
		};
		const result = await reply({ replyType: 'text', content: 'Hi' }, { upstream: [trigger(), first] });
		assert.equal(result.error, undefined);
		assert.deepEqual(result.items[0].json, { replyType: 'text', passiveReply: { MsgType: 'text', Content: 'Hi' } });
	});
});

describe('expression evaluations per item (see perItemCost.test.ts)', () => {
	const evaluations = countExpressionEvaluations();

	test('Reply with a mapped text: three, as Message → Send (its Text is the same property)', async () => {
		const items = Array.from({ length: 5 }, (_, index) => push(String(index), { answer: `Answer ${index}` }));
		const result = await reply({ replyType: 'text', content: '={{ $json.answer }}' }, { items });
		assert.equal(result.items.length, 5);
		assert.equal(evaluations.list.length, 3 * 5, evaluations.list.join(' | '));
	});

	test("Session → Close with a mapped agent: Reply's Agent, a property of the same name, costs two evaluations more", async () => {
		const openids = ['o_cost_1', 'o_cost_2', 'o_cost_3'];
		await harness().runNode({
			parameters: {
				resource: 'session',
				operation: 'close',
				openId: 'o_nobody',
				kfAccount: { __rl: true, mode: 'id', value: '={{ $json.kf }}' },
			},
			items: openids.map(() => ({ json: { kf: KF } })),
			continueOnFail: true,
		});
		// Four properties are named kfAccount (Account's picker, Account → Create's text, Session's picker, Reply's
		// Agent): n8n's engine evaluates each that applies twice per item, the node reads it once. Reply's Agent keeps
		// the name CONTRACT gives it, at two evaluations per item for Account and Session operations that map theirs.
		assert.equal(evaluations.list.length, 9 * openids.length, evaluations.list.join(' | '));
	});
});
