import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';

import type { INodeParameters } from 'n8n-workflow';

import type { Emulator, LoggedRequest } from '../emulator/server';
import { useEmulator } from '../harness/emulatorSuite';
import { EngineHarness, type RunResult, type TestItem } from '../harness/engine';
import { assertNoSecrets } from '../harness/secrets';
import { binaryBuffer } from '../harness/services';

/**
 * Message → Get Media: media/get answered with a file (image, voice), with a video link, or with a JSON error;
 * exact requests, exact output items and binary data, exact errors, size limits, and no token in any error.
 */

const GET = '/cgi-bin/media/get';
const CDN = '/video-cdn/download.mp4';

let emulator: Emulator;
useEmulator((started) => (emulator = started), { errmsgRid: false });

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(5000, 7)]);
const amr = Buffer.concat([Buffer.from('#!AMR\n'), Buffer.alloc(1500, 9)]);
const mp4 = Buffer.concat([Buffer.from('000000186674797069736f6d0000020069736f6d6d703431', 'hex'), Buffer.alloc(4000, 2)]);

function harness(): EngineHarness {
	return new EngineHarness({ appId: emulator.appId, appSecret: emulator.appSecret, baseUrl: emulator.baseUrl });
}

function getMedia(parameters: INodeParameters, items?: TestItem[], continueOnFail = false): Promise<RunResult> {
	return harness().runNode({
		parameters: { resource: 'message', operation: 'getMedia', ...parameters },
		items,
		continueOnFail,
	});
}

function withoutToken(call: LoggedRequest): Record<string, string> {
	const { access_token: token, ...rest } = call.query;
	assert.ok(typeof token === 'string' && token.length > 0, 'the request carries an access token');
	return rest;
}

/** Every access token the emulator issued or saw. */
function tokensSeen(): Record<string, string> {
	const tokens: Record<string, string> = { AppSecret: emulator.appSecret };
	for (const request of emulator.requests) {
		const issued = (request.response.body as { access_token?: unknown } | null)?.access_token;
		if (typeof issued === 'string') tokens[`issued ${issued.slice(0, 6)}`] = issued;
		if (request.query.access_token) tokens[`sent ${request.query.access_token.slice(0, 6)}`] = request.query.access_token;
	}
	return tokens;
}

describe('message.getMedia', () => {
	test('an image: one GET with the media_id, the file in the named binary property with WeChat\'s type and name', async () => {
		const image = emulator.state.addMedia({ type: 'image', data: jpeg, filename: 'photo.jpg', contentType: 'image/jpeg' });
		const result = await getMedia({ mediaId: image.media_id, binaryPropertyName: 'photo' });

		assert.equal(result.error, undefined);
		const calls = emulator.apiCalls(GET);
		assert.equal(calls.length, 1);
		assert.equal(calls[0].method, 'GET');
		assert.deepEqual(withoutToken(calls[0]), { media_id: image.media_id });
		assert.equal(result.items.length, 1);
		assert.deepEqual(result.items[0].json, {
			mediaId: image.media_id,
			fileName: `${image.media_id}.jpg`,
			mimeType: 'image/jpeg',
			fileSize: jpeg.length,
			video: false,
		});
		const binary = result.items[0].binary?.photo;
		assert.equal(binary?.mimeType, 'image/jpeg');
		assert.equal(binary?.fileName, `${image.media_id}.jpg`);
		assert.equal(binary?.fileExtension, 'jpg');
		assert.equal(sha256(await binaryBuffer(binary)), sha256(jpeg));
		assert.deepEqual(result.items[0].pairedItem, { item: 0 });
	});

	test('voice notes from the trigger\'s items: the media_id from an expression, one output item per input item, in order', async () => {
		const first = emulator.state.addMedia({ type: 'voice', data: amr, filename: 'a.amr', contentType: 'audio/amr' });
		const second = emulator.state.addMedia({ type: 'image', data: jpeg, filename: 'b.jpg', contentType: 'image/jpeg' });
		const result = await getMedia({ mediaId: '={{ $json.MediaId }}' }, [
			{ json: { MsgType: 'voice', MediaId: first.media_id, Format: 'amr' } },
			{ json: { MsgType: 'image', MediaId: second.media_id } },
		]);
		assert.equal(result.error, undefined);
		assert.deepEqual(
			emulator.apiCalls(GET).map((call) => call.query.media_id).sort(),
			[first.media_id, second.media_id].sort(),
		);
		assert.deepEqual(
			result.items.map((item) => [item.json.mediaId, item.binary?.data?.mimeType, item.binary?.data?.fileName]),
			[
				[first.media_id, 'audio/amr', `${first.media_id}.amr`],
				[second.media_id, 'image/jpeg', `${second.media_id}.jpg`],
			],
		);
		assert.equal(sha256(await binaryBuffer(result.items[0].binary?.data)), sha256(amr));
	});

	test('a video: media/get answers a video_url; the file is fetched from that link without the access token', async () => {
		const video = emulator.state.addMedia({ type: 'video', data: mp4, filename: 'clip.mp4', contentType: 'video/mp4' });
		const result = await getMedia({ mediaId: video.media_id });

		assert.equal(result.error, undefined);
		assert.deepEqual(
			emulator.apiCalls().map((call) => call.path),
			[GET, CDN],
		);
		const [, download] = emulator.apiCalls();
		assert.equal(download.method, 'GET');
		assert.deepEqual(Object.keys(download.query), ['vkey'], 'no access_token goes to the video host');
		assert.equal(
			download.query.vkey,
			new URL(String((emulator.apiCalls(GET)[0].response.body as { video_url: string }).video_url)).searchParams.get('vkey'),
		);
		assert.deepEqual(result.items[0].json, {
			mediaId: video.media_id,
			fileName: `${video.media_id}.mp4`,
			mimeType: 'video/mp4',
			fileSize: mp4.length,
			video: true,
		});
		assert.equal(sha256(await binaryBuffer(result.items[0].binary?.data)), sha256(mp4));
	});

	test('40007 (unknown or expired media) is the usual explained error; with Continue On Fail the other items still download', async () => {
		const image = emulator.state.addMedia({ type: 'image', data: jpeg, filename: 'p.jpg', contentType: 'image/jpeg' });
		const failed = await getMedia({ mediaId: 'expired_media_id' });
		assert.match(String(failed.error?.message), /^WeChat error 40007/);
		assert.match(String(failed.error?.description), /WeChat said: "invalid media_id"/);
		assert.deepEqual(failed.items, []);

		const mixed = await getMedia(
			{ mediaId: '={{ $json.MediaId }}' },
			[{ json: { MediaId: 'expired_media_id' } }, { json: { MediaId: image.media_id } }],
			true,
		);
		assert.equal(mixed.error, undefined);
		assert.equal(mixed.items.length, 2);
		assert.match(String(mixed.items[0].json.error ?? mixed.items[0].error?.message), /40007/);
		assert.equal(mixed.items[1].json.mediaId, image.media_id);
	});

	test('an expired token (42001) is renewed and the download sent once more', async () => {
		const image = emulator.state.addMedia({ type: 'image', data: jpeg, filename: 'p.jpg', contentType: 'image/jpeg' });
		const engine = harness();
		await engine.runNode({ parameters: { resource: 'message', operation: 'getMedia', mediaId: image.media_id } });
		emulator.expireCurrentToken();
		emulator.clearLog();
		const result = await engine.runNode({ parameters: { resource: 'message', operation: 'getMedia', mediaId: image.media_id } });
		assert.equal(result.error, undefined);
		const calls = emulator.apiCalls(GET);
		assert.deepEqual(
			calls.map((call) => (call.response.body as { errcode?: number; binary?: boolean }).errcode ?? 'file'),
			[42001, 'file'],
		);
		assert.notEqual(calls[0].query.access_token, calls[1].query.access_token);
		assert.equal(emulator.tokenCalls().length, 1);
	});

	test('a file over Max Size is refused from its Content-Length; the default is 10 MB', async () => {
		const image = emulator.state.addMedia({ type: 'image', data: jpeg, filename: 'p.jpg', contentType: 'image/jpeg' });
		const result = await getMedia({ mediaId: image.media_id, getMediaOptions: { maxSizeMb: 0.004 } });
		assert.equal(result.error?.message, 'The media file is larger than the 0.004 MB limit (Max Size)');
		assert.match(String(result.error?.description), /raise Max Size \(MB\)/);

		const big = Buffer.concat([jpeg, Buffer.alloc(10 * 1024 * 1024)]);
		const large = emulator.state.addMedia({ type: 'image', data: big, filename: 'big.jpg', contentType: 'image/jpeg' });
		const refused = await getMedia({ mediaId: large.media_id });
		assert.equal(refused.error?.message, 'The media file is larger than the 10 MB limit (Max Size)');
		const allowed = await getMedia({ mediaId: large.media_id, getMediaOptions: { maxSizeMb: 11 } });
		assert.equal(allowed.error, undefined);
		assert.equal(allowed.items[0].json.fileSize, big.length);
	});

	test('an empty or malformed Media ID is refused before any request', async () => {
		const empty = await getMedia({ mediaId: '  ' });
		assert.equal(empty.error?.message, 'Media ID is empty');
		const pasted = await getMedia({ mediaId: '{"MediaId": "abc"} x' });
		assert.equal(pasted.error?.message, 'Media ID is not a WeChat media_id');
		assert.deepEqual(emulator.apiCalls(GET), []);
	});

	test('an expired video link fails with the link\'s address but not its vkey; an HTTP error from media/get carries no token', async () => {
		const video = emulator.state.addMedia({ type: 'video', data: mp4, filename: 'clip.mp4', contentType: 'video/mp4' });
		emulator.injectFault({ path: CDN, kind: 'http', status: 404 });
		const result = await getMedia({ mediaId: video.media_id });
		assert.equal(
			result.error?.message,
			`Downloading the video from WeChat's link ${emulator.baseUrl}${CDN} failed (404)`,
		);
		const vkey = emulator.apiCalls(CDN)[0].query.vkey;
		assertNoSecrets(JSON.parse(JSON.stringify(result.run.data.resultData)), { vkey, ...tokensSeen() });

		emulator.injectFault({ path: GET, kind: 'http', status: 502 });
		const gateway = await getMedia({ mediaId: video.media_id });
		assert.ok(gateway.error, 'the 502 fails the step');
		assertNoSecrets(JSON.parse(JSON.stringify(gateway.run.data.resultData)), tokensSeen());
	});
});
