import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';

import type { INodeParameters } from 'n8n-workflow';

import type { Emulator } from '../emulator/server';
import { useEmulator } from '../harness/emulatorSuite';
import { EngineHarness, type TestItem } from '../harness/engine';

/**
 * Message (客服消息) checks that run before anything is sent: each case names what is wrong and how to fix it, and
 * WeChat receives no request at all, not even for a token. Empty values come from expressions, as they do in real
 * workflows (an empty literal in a required field is already stopped by n8n's own parameter check).
 */

const USER = 'o_user_alice';
const EMPTY = '={{ "" }}';
const KB = 1024;
const MB = 1024 * KB;

let emulator: Emulator;

function harness(): EngineHarness {
	return new EngineHarness({ appId: emulator.appId, appSecret: emulator.appSecret, baseUrl: emulator.baseUrl });
}

const jpeg = (size: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(size - 4, 7)]);
const file = (data: Buffer, fileName: string, mimeType: string) => ({ data, fileName, mimeType });

interface Case {
	name: string;
	parameters: INodeParameters;
	items?: TestItem[];
	message: string;
	description: RegExp;
}

function send(parameters: INodeParameters): INodeParameters {
	return { resource: 'message', operation: 'send', openId: USER, ...parameters };
}

const video = {
	msgType: 'video',
	mediaSource: 'binary',
	binaryPropertyName: 'data',
	thumbSource: 'binary',
	thumbBinaryPropertyName: 'thumbnail',
};
const videoFile = file(Buffer.alloc(4 * KB, 1), 'clip.mp4', 'video/mp4');

const cases: Case[] = [
	{
		name: 'an empty OpenID',
		parameters: send({ openId: EMPTY, msgType: 'text', content: 'Hi' }),
		message: 'OpenID is empty',
		description: /FromUserName/,
	},
	{
		name: 'an OpenID of only spaces',
		parameters: send({ openId: '={{ "   " }}', msgType: 'text', content: 'Hi' }),
		message: 'OpenID is empty',
		description: /FromUserName/,
	},
	{
		name: 'empty text',
		parameters: send({ msgType: 'text', content: '={{ " \\n " }}' }),
		message: 'Text is empty',
		description: /文本消息内容/,
	},
	{
		name: 'an unknown message type (e.g. in an imported workflow)',
		parameters: send({ msgType: 'sticker', content: 'Hi' }),
		message: '"sticker" is not a message type WeChat knows',
		description: /^Use one of: text, image, voice, video, music, news, mpnews, mpnewsarticle, msgmenu, wxcard, miniprogrampage\.$/,
	},
	{
		name: 'an image without a media id',
		parameters: send({ msgType: 'image', mediaSource: 'mediaId', mediaId: EMPTY }),
		message: 'Media ID is empty',
		description: /media_id.*3 days.*"Binary Data"/,
	},
	{
		name: 'a voice without a media id',
		parameters: send({ msgType: 'voice', mediaSource: 'mediaId', mediaId: EMPTY }),
		message: 'Media ID is empty',
		description: /a voice file/,
	},
	{
		name: 'a video without a thumbnail media id',
		parameters: send({
			msgType: 'video',
			mediaSource: 'mediaId',
			mediaId: 'MEDIA_VIDEO',
			thumbSource: 'mediaId',
			thumbMediaId: EMPTY,
		}),
		message: 'Thumbnail Media ID is empty',
		description: /缩略图.*64 KB/,
	},
	{
		name: 'an image from a binary property the item does not have',
		parameters: send({ msgType: 'image', mediaSource: 'binary', binaryPropertyName: 'data' }),
		items: [{ json: {}, binary: { photo: file(jpeg(100), 'a.jpg', 'image/jpeg') } }],
		message: 'No binary data in property "data"',
		description: /^This item's binary properties are: photo\./,
	},
	{
		name: 'an image from an item without any binary data',
		parameters: send({ msgType: 'image', mediaSource: 'binary', binaryPropertyName: 'data' }),
		message: 'No binary data in property "data"',
		description: /^This item has no binary data\./,
	},
	{
		name: 'a voice file sent as image',
		parameters: send({ msgType: 'image', mediaSource: 'binary', binaryPropertyName: 'data' }),
		items: [{ json: {}, binary: { data: file(Buffer.alloc(100, 1), 'hello.amr', 'audio/amr') } }],
		message: 'The file "hello.amr" (audio/amr) cannot be sent as image',
		description: /^WeChat accepts image files of type JPG, JPEG, PNG, GIF\.$/,
	},
	{
		name: 'a WAV voice message',
		parameters: send({ msgType: 'voice', mediaSource: 'binary', binaryPropertyName: 'data' }),
		items: [{ json: {}, binary: { data: file(Buffer.alloc(100, 1), 'hello.wav', 'audio/wav') } }],
		message: 'The file "hello.wav" (audio/wav) cannot be sent as voice',
		description: /AMR, MP3/,
	},
	{
		name: 'an image over 10 MB',
		parameters: send({ msgType: 'image', mediaSource: 'binary', binaryPropertyName: 'data' }),
		items: [{ json: {}, binary: { data: file(jpeg(10 * MB + 1), 'big.jpg', 'image/jpeg') } }],
		message: 'The image file is 10.0 MB; WeChat accepts at most 10.0 MB',
		description: /^Compress or resize the file to 10\.0 MB or less\.$/,
	},
	{
		name: 'a voice clip over 2 MB',
		parameters: send({ msgType: 'voice', mediaSource: 'binary', binaryPropertyName: 'data' }),
		items: [{ json: {}, binary: { data: file(Buffer.alloc(2 * MB + 1, 1), 'long.mp3', 'audio/mpeg') } }],
		message: 'The voice file is 2.0 MB; WeChat accepts at most 2.0 MB',
		description: /2\.0 MB or less/,
	},
	{
		name: 'an empty video file',
		parameters: send({ ...video }),
		items: [
			{
				json: {},
				binary: { data: file(Buffer.alloc(0), 'empty.mp4', 'video/mp4'), thumbnail: file(jpeg(100), 't.jpg', 'image/jpeg') },
			},
		],
		message: 'The video file "empty.mp4" is empty',
		description: /produced the binary data/,
	},
	{
		name: 'a video with a PNG thumbnail (nothing is uploaded, not even the valid video)',
		parameters: send({ ...video }),
		items: [
			{ json: {}, binary: { data: videoFile, thumbnail: file(Buffer.alloc(100, 1), 't.png', 'image/png') } },
		],
		message: 'The file "t.png" (image/png) cannot be sent as thumbnail',
		description: /^WeChat accepts thumbnail files of type JPG, JPEG\.$/,
	},
	{
		name: 'a video with a thumbnail over 64 KB',
		parameters: send({ ...video }),
		items: [{ json: {}, binary: { data: videoFile, thumbnail: file(jpeg(64 * KB + 1), 't.jpg', 'image/jpeg') } }],
		message: 'The thumbnail file is 65 KB; WeChat accepts at most 64 KB',
		description: /64 KB or less/,
	},
	{
		name: 'a video whose thumbnail binary property is missing',
		parameters: send({ ...video }),
		items: [{ json: {}, binary: { data: videoFile } }],
		message: 'No binary data in property "thumbnail"',
		description: /binary properties are: data/,
	},
	{
		name: 'music without a music URL',
		parameters: send({ msgType: 'music', musicUrl: EMPTY, thumbSource: 'mediaId', thumbMediaId: 'MEDIA_THUMB' }),
		message: 'Music URL is empty',
		description: /音乐链接/,
	},
	{
		name: 'music with a URL that is not a web address',
		parameters: send({ msgType: 'music', musicUrl: 'cdn.example.com/a.mp3', thumbSource: 'mediaId', thumbMediaId: 'T' }),
		message: 'Music URL "cdn.example.com/a.mp3" is not a web address',
		description: /https:\/\//,
	},
	{
		name: 'music with a bad high-quality URL',
		parameters: send({
			msgType: 'music',
			musicUrl: 'https://cdn.example.com/a.mp3',
			hqMusicUrl: 'ftp://cdn.example.com/a.flac',
			thumbSource: 'mediaId',
			thumbMediaId: 'T',
		}),
		message: 'High-Quality Music URL "ftp://cdn.example.com/a.flac" is not a web address',
		description: /https:\/\//,
	},
	{
		name: 'music without a thumbnail media id',
		parameters: send({ msgType: 'music', musicUrl: 'https://e.com/a.mp3', thumbSource: 'mediaId', thumbMediaId: EMPTY }),
		message: 'Thumbnail Media ID is empty',
		description: /thumbnail/,
	},
	{
		name: 'news without a title',
		parameters: send({ msgType: 'news', title: EMPTY, url: 'https://example.com/a' }),
		message: 'Title is empty',
		description: /图文消息.*title and the URL/,
	},
	{
		name: 'news without a URL',
		parameters: send({ msgType: 'news', title: 'Sale', url: EMPTY }),
		message: 'URL is empty',
		description: /图文消息/,
	},
	{
		name: 'news with a relative URL',
		parameters: send({ msgType: 'news', title: 'Sale', url: '/sale' }),
		message: 'URL "/sale" is not a web address',
		description: /https:\/\//,
	},
	{
		name: 'news with a bad picture URL',
		parameters: send({ msgType: 'news', title: 'Sale', url: 'https://example.com/a', picUrl: 'cover.jpg' }),
		message: 'Picture URL "cover.jpg" is not a web address',
		description: /https:\/\//,
	},
	{
		// The input that kept the previous pattern busy for seconds: refused by its length before it is looked at.
		name: 'a news URL of 100,000 characters mapped from untrusted text',
		parameters: send({ msgType: 'news', title: 'Sale', url: '={{ $json.link }}' }),
		items: [{ json: { link: `http://${'a'.repeat(99_991)} x` } }],
		message: 'URL is 100,000 characters long; the limit is 2,048 characters',
		description: /^Use a web address of at most 2,048 characters/,
	},
	{
		name: 'a music URL one character over the limit',
		parameters: send({
			msgType: 'music',
			musicUrl: `https://cdn.example.com/${'a'.repeat(2025)}`,
			thumbSource: 'mediaId',
			thumbMediaId: 'T',
		}),
		message: 'Music URL is 2,049 characters long; the limit is 2,048 characters',
		description: /2,048 characters/,
	},
	{
		name: 'a bad picture URL with a password in it: the password is not repeated',
		parameters: send({
			msgType: 'news',
			title: 'Sale',
			url: 'https://example.com/a',
			picUrl: 'ftp://editor:S3cretPassw0rd@cdn.example.com/a.jpg',
		}),
		message: 'Picture URL "ftp://***@cdn.example.com/a.jpg" is not a web address',
		description: /https:\/\//,
	},
	{
		name: 'a news URL without a host',
		parameters: send({ msgType: 'news', title: 'Sale', url: 'https:///sale' }),
		message: 'URL "https:///sale" is not a web address',
		description: /https:\/\//,
	},
	{
		name: 'legacy news material without a media id',
		parameters: send({ msgType: 'mpnews', mediaId: EMPTY }),
		message: 'Media ID is empty',
		description: /永久图文素材.*Published Article/,
	},
	{
		name: 'a published article without an article id',
		parameters: send({ msgType: 'mpnewsarticle', articleId: EMPTY }),
		message: 'Article ID is empty',
		description: /article_id/,
	},
	{
		name: 'a menu without items',
		parameters: send({ msgType: 'msgmenu', headContent: 'Rate us', menuItems: {} }),
		message: 'The menu has no items',
		description: /Add at least one choice under Menu Items/,
	},
	{
		name: 'a menu item without an id',
		parameters: send({
			msgType: 'msgmenu',
			menuItems: { item: [{ id: '101', content: 'Yes' }, { id: ' ', content: 'No' }] },
		}),
		message: 'Menu item 2 has no ID',
		description: /bizmsgmenuid/,
	},
	{
		name: 'a menu item without text',
		parameters: send({ msgType: 'msgmenu', menuItems: { item: [{ id: '101', content: '' }] } }),
		message: 'Menu item 1 has no text',
		description: /text the user sees/,
	},
	{
		name: 'a card without a card id',
		parameters: send({ msgType: 'wxcard', cardId: EMPTY }),
		message: 'Card ID is empty',
		description: /卡券/,
	},
	{
		name: 'a mini program card without a title',
		parameters: send({ msgType: 'miniprogrampage', title: EMPTY, appId: 'wx1', pagePath: 'p', thumbMediaId: 'T' }),
		message: 'Title is empty',
		description: /小程序卡片/,
	},
	{
		name: 'a mini program card without an AppID',
		parameters: send({ msgType: 'miniprogrampage', title: 'T', appId: EMPTY, pagePath: 'p', thumbMediaId: 'T' }),
		message: 'Mini Program AppID is empty',
		description: /小程序卡片/,
	},
	{
		name: 'a mini program card without a page path',
		parameters: send({ msgType: 'miniprogrampage', title: 'T', appId: 'wx1', pagePath: EMPTY, thumbMediaId: 'T' }),
		message: 'Page Path is empty',
		description: /小程序卡片/,
	},
	{
		name: 'a mini program card without a thumbnail',
		parameters: send({ msgType: 'miniprogrampage', title: 'T', appId: 'wx1', pagePath: 'p', thumbMediaId: EMPTY }),
		message: 'Thumbnail Media ID is empty',
		description: /thumbnail/,
	},
	{
		name: 'a send-as account of the wrong format',
		parameters: send({
			msgType: 'text',
			content: 'Hi',
			additionalFields: { kfAccount: { __rl: true, mode: 'id', value: '={{ "support-team" }}' } },
		}),
		message: '"support-team" is not a valid customer-service account',
		description: /prefix@WeChatID/,
	},
	{
		name: 'a send-as account with a prefix over 10 characters',
		parameters: send({
			msgType: 'text',
			content: 'Hi',
			additionalFields: { kfAccount: { __rl: true, mode: 'id', value: '={{ "customerservice@gh_service" }}' } },
		}),
		message: '"customerservice@gh_service" is not a valid customer-service account',
		description: /1–10/,
	},
	{
		name: 'typing with an empty OpenID',
		parameters: { resource: 'message', operation: 'typing', openId: EMPTY, command: 'Typing' },
		message: 'OpenID is empty',
		description: /FromUserName/,
	},
	{
		name: 'typing with a command WeChat does not know',
		parameters: { resource: 'message', operation: 'typing', openId: USER, command: '={{ "typing" }}' },
		message: '"typing" is not a typing command',
		description: /Typing.*CancelTyping/,
	},
];

useEmulator((started) => (emulator = started), { errmsgRid: false });
beforeEach(() => {
	emulator.addFollower(USER);
});

describe('message: rejected before any request, with what is wrong and how to fix it', () => {
	for (const { name, parameters, items, message, description } of cases) {
		test(name, async () => {
			const result = await harness().runNode({ parameters, items });

			assert.equal(result.items.length, 0);
			assert.equal(result.error?.message, message);
			assert.match(String(result.error?.description), description);
			assert.equal(emulator.requests.length, 0, 'WeChat received no request, not even for a token');
		});
	}

	test('addresses up to 2,048 characters, in any case and with user-info, are sent exactly as typed', async () => {
		const longest = `https://example.com/${'a'.repeat(2028)}`;
		const result = await harness().runNode({
			parameters: send({ msgType: 'news', title: 'Sale', url: '={{ $json.url }}', picUrl: '={{ $json.picUrl }}' }),
			items: [
				{ json: { url: longest, picUrl: 'HTTP://Cdn.Example.com/a.jpg' } },
				{ json: { url: 'https://editor:pass@example.com/a?x=1#top', picUrl: '' } },
			],
		});

		assert.equal(result.error, undefined);
		assert.equal(longest.length, 2048);
		assert.deepEqual(
			emulator.apiCalls('/cgi-bin/message/custom/send').map((call) => (call.json as { news: unknown }).news),
			[
				{ articles: [{ title: 'Sale', url: longest, picurl: 'HTTP://Cdn.Example.com/a.jpg' }] },
				{ articles: [{ title: 'Sale', url: 'https://editor:pass@example.com/a?x=1#top' }] },
			],
		);
	});

	test('with continueOnFail every invalid item becomes an error item and the valid ones are sent', async () => {
		const result = await harness().runNode({
			parameters: send({ msgType: 'news', title: '={{ $json.title }}', url: '={{ $json.url }}' }),
			continueOnFail: true,
			items: [
				{ json: { title: '', url: 'https://example.com/1' } },
				{ json: { title: 'Two', url: 'https://example.com/2' } },
				{ json: { title: 'Three', url: 'example.com/3' } },
			],
		});

		assert.deepEqual(
			result.items.map((item) => item.json),
			[
				{ error: 'Title is empty' },
				{ touser: USER, msgtype: 'news', sent: true },
				{ error: 'URL "example.com/3" is not a web address' },
			],
		);
		assert.deepEqual(
			emulator.apiCalls('/cgi-bin/message/custom/send').map((call) => call.json),
			[{ touser: USER, msgtype: 'news', news: { articles: [{ title: 'Two', url: 'https://example.com/2' }] } }],
		);
	});
});
