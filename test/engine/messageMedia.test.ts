import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { beforeEach, describe, test } from 'node:test';

import type { INode, INodeParameters } from 'n8n-workflow';

import type { Emulator, LoggedRequest } from '../emulator/server';
import { useEmulator } from '../harness/emulatorSuite';
import { CREDENTIAL_ID, EngineHarness, NODE_TYPE, type TestItem } from '../harness/engine';

/**
 * Sending image, voice, video and thumbnails straight from n8n binary data: the node uploads the item's file as
 * temporary media (media/upload, multipart field "media") and sends the returned media_id in the same step, and the
 * output carries that media_id so a later node can reuse it.
 */

const SEND = '/cgi-bin/message/custom/send';
const UPLOAD = '/cgi-bin/media/upload';
const USER = 'o_user_alice';

let emulator: Emulator;

function harness(): EngineHarness {
	return new EngineHarness({ appId: emulator.appId, appSecret: emulator.appSecret, baseUrl: emulator.baseUrl });
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const jpeg = (size: number, fill = 7) =>
	Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(size - 4, fill)]);
const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(600, 3)]);
const mp3 = Buffer.concat([Buffer.from('ID3'), Buffer.alloc(3000, 5)]);
const amr = Buffer.concat([Buffer.from('#!AMR\n'), Buffer.alloc(1500, 9)]);
const mp4 = Buffer.alloc(9000, 2);
const thumb = jpeg(3000, 4);

function send(parameters: INodeParameters): INodeParameters {
	return { resource: 'message', operation: 'send', openId: USER, ...parameters };
}

function withFiles(files: TestItem['binary'], json: Record<string, unknown> = {}): TestItem {
	return { json, binary: files };
}

function withoutToken(call: LoggedRequest): Record<string, string> {
	const { access_token: token, ...rest } = call.query;
	assert.equal(typeof token, 'string', 'the request carries an access token');
	assert.ok(token.length > 0);
	return rest;
}

function answerOf(call: LoggedRequest): Record<string, unknown> {
	return call.response.body as Record<string, unknown>;
}

useEmulator((started) => (emulator = started), { errmsgRid: false });
beforeEach(() => {
	emulator.addFollower(USER);
});

describe('one step: upload the binary file, then send its media_id', () => {
	test('image: multipart "media" with filename, size and content, type=image, then the send', async () => {
		const result = await harness().runNode({
			parameters: send({ msgType: 'image', mediaSource: 'binary', binaryPropertyName: 'photo' }),
			items: [withFiles({ photo: { data: png, fileName: 'receipt.png', mimeType: 'image/png' } })],
		});

		assert.equal(result.error, undefined);
		assert.deepEqual(
			emulator.apiCalls().map((call) => call.path),
			[UPLOAD, SEND],
			'the upload comes first, then exactly one send',
		);
		const [upload, sent] = emulator.apiCalls();
		assert.equal(upload.method, 'POST');
		assert.deepEqual(withoutToken(upload), { type: 'image' });
		assert.deepEqual(upload.multipart?.fields, {});
		assert.deepEqual(upload.multipart?.files, [
			{ field: 'media', filename: 'receipt.png', contentType: 'image/png', size: png.length, sha256: sha256(png) },
		]);
		const mediaId = answerOf(upload).media_id as string;
		assert.equal(answerOf(upload).type, 'image');
		assert.ok(mediaId);

		assert.equal(sent.method, 'POST');
		assert.deepEqual(withoutToken(sent), {});
		assert.deepEqual(sent.json, { touser: USER, msgtype: 'image', image: { media_id: mediaId } });
		assert.deepEqual(
			result.items.map((item) => item.json),
			[{ touser: USER, msgtype: 'image', sent: true, media_id: mediaId, media_type: 'image' }],
		);
		assert.equal(emulator.state.media.get(mediaId)?.sha256, sha256(png));
	});

	test('voice: an MP3 uploaded with type=voice', async () => {
		const result = await harness().runNode({
			parameters: send({ msgType: 'voice', mediaSource: 'binary', binaryPropertyName: 'data' }),
			items: [withFiles({ data: { data: mp3, fileName: 'answer.mp3', mimeType: 'audio/mpeg' } })],
		});

		const [upload, sent] = emulator.apiCalls();
		assert.deepEqual(withoutToken(upload), { type: 'voice' });
		assert.deepEqual(upload.multipart?.files, [
			{ field: 'media', filename: 'answer.mp3', contentType: 'audio/mpeg', size: mp3.length, sha256: sha256(mp3) },
		]);
		const mediaId = answerOf(upload).media_id;
		assert.deepEqual(sent.json, { touser: USER, msgtype: 'voice', voice: { media_id: mediaId } });
		assert.deepEqual(result.items[0].json, {
			touser: USER,
			msgtype: 'voice',
			sent: true,
			media_id: mediaId,
			media_type: 'voice',
		});
	});

	test('video and its thumbnail: two uploads (video, thumb), both ids in one send', async () => {
		const result = await harness().runNode({
			parameters: send({
				msgType: 'video',
				mediaSource: 'binary',
				binaryPropertyName: 'data',
				thumbSource: 'binary',
				thumbBinaryPropertyName: 'cover',
				title: 'How to pair your device',
				description: '90 seconds',
			}),
			items: [
				withFiles({
					data: { data: mp4, fileName: 'pairing.mp4', mimeType: 'video/mp4' },
					cover: { data: thumb, fileName: 'cover.jpg', mimeType: 'image/jpeg' },
				}),
			],
		});

		assert.equal(result.error, undefined);
		const uploads = emulator.apiCalls(UPLOAD);
		assert.deepEqual(
			uploads.map((call) => [withoutToken(call), call.multipart?.files]),
			[
				[
					{ type: 'video' },
					[{ field: 'media', filename: 'pairing.mp4', contentType: 'video/mp4', size: mp4.length, sha256: sha256(mp4) }],
				],
				[
					{ type: 'thumb' },
					[{ field: 'media', filename: 'cover.jpg', contentType: 'image/jpeg', size: thumb.length, sha256: sha256(thumb) }],
				],
			],
		);
		const videoId = answerOf(uploads[0]).media_id;
		const thumbId = answerOf(uploads[1]).thumb_media_id;
		assert.ok(videoId && thumbId);
		assert.deepEqual(emulator.apiCalls(SEND).map((call) => call.json), [
			{
				touser: USER,
				msgtype: 'video',
				video: { media_id: videoId, thumb_media_id: thumbId, title: 'How to pair your device', description: '90 seconds' },
			},
		]);
		assert.deepEqual(result.items[0].json, {
			touser: USER,
			msgtype: 'video',
			sent: true,
			media_id: videoId,
			media_type: 'video',
			thumb_media_id: thumbId,
		});
	});

	test('music with a thumbnail from binary: only the thumb is uploaded and reported', async () => {
		const result = await harness().runNode({
			parameters: send({
				msgType: 'music',
				musicUrl: 'https://cdn.example.com/theme.mp3',
				thumbSource: 'binary',
				thumbBinaryPropertyName: 'thumbnail',
			}),
			items: [withFiles({ thumbnail: { data: thumb, fileName: 'album.jpg', mimeType: 'image/jpeg' } })],
		});

		const uploads = emulator.apiCalls(UPLOAD);
		assert.equal(uploads.length, 1);
		assert.deepEqual(withoutToken(uploads[0]), { type: 'thumb' });
		const thumbId = answerOf(uploads[0]).thumb_media_id;
		assert.deepEqual(emulator.apiCalls(SEND)[0].json, {
			touser: USER,
			msgtype: 'music',
			music: {
				musicurl: 'https://cdn.example.com/theme.mp3',
				hqmusicurl: 'https://cdn.example.com/theme.mp3',
				thumb_media_id: thumbId,
			},
		});
		assert.deepEqual(result.items[0].json, { touser: USER, msgtype: 'music', sent: true, thumb_media_id: thumbId });
	});

	test('a video by media_id with a thumbnail from binary reports only the thumbnail it uploaded', async () => {
		emulator.state.addMedia({ type: 'video', media_id: 'MEDIA_VIDEO', filename: 'seed.mp4' });
		const result = await harness().runNode({
			parameters: send({
				msgType: 'video',
				mediaSource: 'mediaId',
				mediaId: 'MEDIA_VIDEO',
				thumbSource: 'binary',
				thumbBinaryPropertyName: 'thumbnail',
			}),
			items: [withFiles({ thumbnail: { data: thumb, fileName: 't.jpg', mimeType: 'image/jpeg' } })],
		});

		const thumbId = answerOf(emulator.apiCalls(UPLOAD)[0]).thumb_media_id;
		assert.deepEqual(result.items[0].json, { touser: USER, msgtype: 'video', sent: true, thumb_media_id: thumbId });
		assert.deepEqual(emulator.apiCalls(SEND)[0].json, {
			touser: USER,
			msgtype: 'video',
			video: { media_id: 'MEDIA_VIDEO', thumb_media_id: thumbId },
		});
	});
});

describe('file names WeChat accepts', () => {
	test('a file named without extension is uploaded with the one its MIME type implies', async () => {
		const result = await harness().runNode({
			parameters: send({ msgType: 'image', mediaSource: 'binary', binaryPropertyName: 'data' }),
			items: [withFiles({ data: { data: png, fileName: 'screenshot', mimeType: 'image/png' } })],
		});

		assert.equal(result.error, undefined);
		assert.equal(emulator.apiCalls(UPLOAD)[0].multipart?.files[0].filename, 'screenshot.png');
	});

	test('a download served as application/octet-stream is judged by its file name', async () => {
		const result = await harness().runNode({
			parameters: send({ msgType: 'voice', mediaSource: 'binary', binaryPropertyName: 'data' }),
			items: [withFiles({ data: { data: amr, fileName: 'greeting.amr', mimeType: 'application/octet-stream' } })],
		});

		assert.equal(result.error, undefined);
		assert.deepEqual(emulator.apiCalls(UPLOAD)[0].multipart?.files, [
			{
				field: 'media',
				filename: 'greeting.amr',
				contentType: 'application/octet-stream',
				size: amr.length,
				sha256: sha256(amr),
			},
		]);
		assert.equal(emulator.apiCalls(SEND).length, 1);
	});
});

describe('reusing and repeating', () => {
	test('a later node sends the uploaded media_id again without uploading (from the output)', async () => {
		emulator.addFollower('o_user_bob');
		const instance = harness();
		const node = (name: string, parameters: INodeParameters, x: number): INode => ({
			id: name,
			name,
			type: NODE_TYPE,
			typeVersion: 1,
			position: [x, 0],
			parameters,
			credentials: { weChatOfficialAccountApi: { id: CREDENTIAL_ID, name: 'WeChat emulator' } },
		});
		const run = await instance.runWorkflow(
			[
				node('Send To Alice', send({ msgType: 'image', mediaSource: 'binary', binaryPropertyName: 'data' }), 200),
				node(
					'Send To Bob',
					send({ openId: 'o_user_bob', msgType: 'image', mediaSource: 'mediaId', mediaId: '={{ $json.media_id }}' }),
					400,
				),
			],
			[withFiles({ data: { data: png, fileName: 'map.png', mimeType: 'image/png' } })],
		);

		assert.equal(run.data.resultData.error, undefined);
		assert.equal(emulator.apiCalls(UPLOAD).length, 1);
		const mediaId = answerOf(emulator.apiCalls(UPLOAD)[0]).media_id;
		assert.deepEqual(emulator.apiCalls(SEND).map((call) => call.json), [
			{ touser: USER, msgtype: 'image', image: { media_id: mediaId } },
			{ touser: 'o_user_bob', msgtype: 'image', image: { media_id: mediaId } },
		]);
		const bobOutput = run.data.resultData.runData['Send To Bob'][0].data?.main[0]?.[0].json;
		assert.deepEqual(bobOutput, { touser: 'o_user_bob', msgtype: 'image', sent: true });
	});

	test('three items with three files: each send carries the media_id of its own item\'s file', async () => {
		const users = ['o_1', 'o_2', 'o_3'];
		users.forEach((openid) => emulator.addFollower(openid));
		const files = users.map((_, index) => jpeg(1000 + index * 100, index + 1));

		const result = await harness().runNode({
			parameters: send({ openId: '={{ $json.openid }}', msgType: 'image', mediaSource: 'binary', binaryPropertyName: 'data' }),
			items: users.map((openid, index) =>
				withFiles({ data: { data: files[index], fileName: `${openid}.jpg`, mimeType: 'image/jpeg' } }, { openid }),
			),
		});

		assert.equal(result.error, undefined);
		const mediaIdBySha = new Map(
			emulator.apiCalls(UPLOAD).map((call) => [call.multipart?.files[0].sha256, answerOf(call).media_id]),
		);
		assert.equal(mediaIdBySha.size, 3);
		const expectedIds = files.map((data) => mediaIdBySha.get(sha256(data)));
		const sentIdByUser = new Map(
			emulator
				.apiCalls(SEND)
				.map((call) => call.json as { touser: string; image: { media_id: string } })
				.map((body) => [body.touser, body.image.media_id]),
		);
		assert.deepEqual(users.map((openid) => sentIdByUser.get(openid)), expectedIds);
		assert.deepEqual(
			result.items.map((item) => item.json),
			users.map((openid, index) => ({
				touser: openid,
				msgtype: 'image',
				sent: true,
				media_id: expectedIds[index],
				media_type: 'image',
			})),
		);
	});

	test('continueOnFail: the middle item\'s wrong file is an error item; the others are uploaded and sent', async () => {
		const result = await harness().runNode({
			parameters: send({ msgType: 'image', mediaSource: 'binary', binaryPropertyName: 'data' }),
			continueOnFail: true,
			items: [
				withFiles({ data: { data: png, fileName: 'a.png', mimeType: 'image/png' } }),
				withFiles({ data: { data: mp4, fileName: 'b.mp4', mimeType: 'video/mp4' } }),
				withFiles({ data: { data: thumb, fileName: 'c.jpg', mimeType: 'image/jpeg' } }),
			],
		});

		assert.equal(result.items.length, 3);
		assert.equal(result.items[0].json.sent, true);
		assert.deepEqual(result.items[1].json, { error: 'The file "b.mp4" (video/mp4) cannot be sent as image' });
		assert.equal(result.items[2].json.sent, true);
		assert.deepEqual(
			emulator
				.apiCalls(UPLOAD)
				.map((call) => call.multipart?.files[0].filename)
				.sort(),
			['a.png', 'c.jpg'],
		);
		assert.equal(emulator.apiCalls(SEND).length, 2);
	});
});

describe('failures around the upload', () => {
	test('WeChat refusing the upload stops the item before anything is sent', async () => {
		emulator.injectFault({ path: UPLOAD, kind: 'errcode', errcode: 40006, errmsg: 'invalid meida size' });
		const result = await harness().runNode({
			parameters: send({ msgType: 'image', mediaSource: 'binary', binaryPropertyName: 'data' }),
			items: [withFiles({ data: { data: png, fileName: 'a.png', mimeType: 'image/png' } })],
		});

		assert.equal(result.error?.name, 'WeChatApiError');
		assert.equal(result.error?.message, 'WeChat error 40006 (不合法的文件大小): Invalid file size');
		assert.match(String(result.error?.description), /^Use a smaller file: images 10 MB/);
		assert.equal(emulator.apiCalls(SEND).length, 0);
	});

	test('a token rejected at the send resends only the send: the file is uploaded once', async () => {
		const instance = harness();
		emulator.injectFault({ path: SEND, kind: 'errcode', errcode: 40001 });
		const result = await instance.runNode({
			parameters: send({ msgType: 'image', mediaSource: 'binary', binaryPropertyName: 'data' }),
			items: [withFiles({ data: { data: png, fileName: 'a.png', mimeType: 'image/png' } })],
		});

		assert.equal(result.error, undefined);
		assert.equal(emulator.apiCalls(UPLOAD).length, 1, 'not uploaded again');
		const mediaId = answerOf(emulator.apiCalls(UPLOAD)[0]).media_id;
		const sends = emulator.apiCalls(SEND);
		assert.deepEqual(
			sends.map((call) => (call.response.body as { errcode: number }).errcode),
			[40001, 0],
		);
		assert.deepEqual(sends[1].json, sends[0].json);
		assert.deepEqual(result.items[0].json, {
			touser: USER,
			msgtype: 'image',
			sent: true,
			media_id: mediaId,
			media_type: 'image',
		});
		assert.equal(emulator.state.sentMessages.length, 1);
	});

	test('a token revoked before the run: the uploads retry with one new token, each item is sent exactly once', async () => {
		const users = ['o_1', 'o_2'];
		users.forEach((openid) => emulator.addFollower(openid));
		const instance = harness();
		await instance.runNode({ parameters: send({ msgType: 'text', content: 'warm-up' }) });
		const oldToken = instance.storedCredential().accessToken;
		emulator.revokeCurrentToken();
		emulator.clearLog();
		emulator.state.sentMessages.length = 0;

		const result = await instance.runNode({
			parameters: send({ openId: '={{ $json.openid }}', msgType: 'image', mediaSource: 'binary', binaryPropertyName: 'data' }),
			items: users.map((openid) => withFiles({ data: { data: png, fileName: 'a.png', mimeType: 'image/png' } }, { openid })),
		});

		assert.equal(result.error, undefined);
		assert.equal(emulator.tokenCalls().length, 1, 'one refresh');
		const uploads = emulator.apiCalls(UPLOAD);
		// Both items usually try the old token; one that starts after the refresh goes straight out with the new one.
		const withOldToken = uploads.filter((call) => call.query.access_token === oldToken).length;
		assert.ok(withOldToken >= 1 && withOldToken <= 2);
		assert.equal(uploads.filter((call) => answerOf(call).media_id).length, 2, 'one successful upload per item');
		const sends = emulator.apiCalls(SEND);
		assert.equal(sends.length, users.length, 'send requests = items');
		assert.ok(sends.every((call) => (call.response.body as { errcode: number }).errcode === 0));
		assert.deepEqual(emulator.state.sentMessages.map((message) => message.touser).sort(), users);
		assert.deepEqual(
			result.items.map((item) => [item.json.touser, item.json.sent]),
			users.map((openid) => [openid, true]),
		);
	});
});
