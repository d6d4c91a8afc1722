import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, beforeEach, describe, test } from 'node:test';

import { BinaryDataService } from 'n8n-core';
import {
	NodeConnectionTypes,
	type IBinaryData,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeParameters,
	type INodeType,
} from 'n8n-workflow';

import type { Emulator } from '../emulator/server';
import { useEmulator } from '../harness/emulatorSuite';
import { EngineHarness, SOURCE_NODE_TYPE, type TestItem } from '../harness/engine';

/**
 * WeChat's size limits are checked against the size n8n recorded for a file before the file is read: an oversized
 * download is refused without being loaded into memory. The harness keeps binary data in n8n's filesystem store, as a
 * default n8n does, so every file here has an id and store metadata; reads and metadata look-ups are observed on n8n's
 * own BinaryDataService.
 */

const USER = 'o_user_alice';
const UPLOAD = '/cgi-bin/media/upload';
const MB = 1024 * 1024;

// n8n-core resolves its own copy of @n8n/di; only that copy's container holds the service the engine uses.
const requireFromCore = createRequire(require.resolve('n8n-core'));
const { Container } = requireFromCore('@n8n/di') as typeof import('@n8n/di');

interface ObservedStore {
	getAsBuffer(binary: IBinaryData): Promise<Buffer>;
	getMetadata(binaryDataId: string): Promise<unknown>;
}

let emulator: Emulator;
/** File names of the binaries n8n read into memory, in order. */
let reads: string[] = [];
/** When set, the store answers metadata look-ups as a store that keeps none would. */
let storeKeepsNoMetadata = false;

function harness(): EngineHarness {
	return new EngineHarness({ appId: emulator.appId, appSecret: emulator.appSecret, baseUrl: emulator.baseUrl });
}

const jpeg = (size: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(size - 4, 7)]);

function sendImage(): INodeParameters {
	return { resource: 'message', operation: 'send', openId: USER, msgType: 'image', mediaSource: 'binary', binaryPropertyName: 'data' };
}

function imageItem(data: Buffer, fileName = 'photo.jpg'): TestItem {
	return { json: {}, binary: { data: { data, fileName, mimeType: 'image/jpeg' } } };
}

/**
 * A harness whose items carry binary data stored by n8n, then changed by `edit`: what a Code node, or an older n8n
 * that records fewer fields, would hand on.
 */
function harnessWithEditedItems(files: Buffer[], edit: (binary: IBinaryData) => void): EngineHarness {
	const instance = harness();
	const source: INodeType = {
		description: {
			displayName: 'Edited items',
			name: 'editedItems',
			group: ['input'],
			version: 1,
			description: 'Test source of items with edited binary metadata',
			defaults: { name: 'Items' },
			inputs: [],
			outputs: [NodeConnectionTypes.Main],
			properties: [{ displayName: 'Items', name: 'itemsKey', type: 'string', default: '' }],
		},
		async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
			const output: INodeExecutionData[] = [];
			for (const [index, data] of files.entries()) {
				const binary = await this.helpers.prepareBinaryData(data, `file${index + 1}.jpg`, 'image/jpeg');
				edit(binary);
				output.push({ json: {}, binary: { data: binary }, pairedItem: { item: index } });
			}
			return [output];
		},
	};
	instance.nodeTypes.register(SOURCE_NODE_TYPE, source);
	return instance;
}

useEmulator((started) => (emulator = started), { errmsgRid: false });

before(() => {
	const store = Container.get(BinaryDataService) as unknown as ObservedStore;
	const read = store.getAsBuffer.bind(store);
	const metadata = store.getMetadata.bind(store);
	store.getAsBuffer = async (binary) => {
		reads.push(binary.fileName ?? '?');
		return await read(binary);
	};
	store.getMetadata = async (binaryDataId) => {
		if (storeKeepsNoMetadata) throw new Error('this store keeps no metadata');
		return await metadata(binaryDataId);
	};
});
after(() => {
	const store = Container.get(BinaryDataService) as unknown as Record<string, unknown>;
	delete store.getAsBuffer;
	delete store.getMetadata;
});
beforeEach(() => {
	reads = [];
	storeKeepsNoMetadata = false;
	emulator.addFollower(USER);
	emulator.addKfAccount({ kf_account: 'alice@gh_service', kf_nick: 'Alice' });
});

describe('an oversized file is refused before it is read', () => {
	test('an image over 10 MB: refused from the size in n8n\'s binary-data store, never read', async () => {
		const result = await harness().runNode({ parameters: sendImage(), items: [imageItem(jpeg(12 * MB), 'big.jpg')] });

		assert.equal(result.error?.message, 'The image file is 12.0 MB; WeChat accepts at most 10.0 MB');
		assert.equal(result.error?.description, 'Compress or resize the file to 10.0 MB or less.');
		assert.deepEqual(reads, [], 'the file was not read');
		assert.equal(emulator.requests.length, 0, 'WeChat received no request, not even for a token');
	});

	test('an avatar over 5 MB: refused the same way', async () => {
		const result = await harness().runNode({
			parameters: {
				resource: 'account',
				operation: 'setAvatar',
				kfAccount: { __rl: true, mode: 'list', value: 'alice@gh_service' },
				binaryPropertyName: 'avatar',
			},
			items: [{ json: {}, binary: { avatar: { data: jpeg(6 * MB), fileName: 'alice.jpg', mimeType: 'image/jpeg' } } }],
		});

		assert.equal(result.error?.message, 'The avatar file is 6.0 MB; WeChat accepts at most 5.0 MB');
		assert.deepEqual(reads, []);
		assert.equal(emulator.requests.length, 0);
	});

	test('the store\'s size wins over an item that claims to be small', async () => {
		const result = await harnessWithEditedItems([jpeg(12 * MB)], (binary) => {
			binary.bytes = 1000;
			binary.fileSize = '1 kB';
		}).runNode({ parameters: sendImage() });

		assert.equal(result.error?.message, 'The image file is 12.0 MB; WeChat accepts at most 10.0 MB');
		assert.deepEqual(reads, []);
		assert.equal(emulator.requests.length, 0);
	});

	test('a store without metadata: the item\'s bytes decide', async () => {
		storeKeepsNoMetadata = true;
		const result = await harness().runNode({ parameters: sendImage(), items: [imageItem(jpeg(12 * MB))] });

		assert.equal(result.error?.message, 'The image file is 12.0 MB; WeChat accepts at most 10.0 MB');
		assert.deepEqual(reads, []);
		assert.equal(emulator.requests.length, 0);
	});

	test('neither store metadata nor bytes (older n8n): the size text n8n recorded decides', async () => {
		storeKeepsNoMetadata = true;
		const result = await harnessWithEditedItems([jpeg(12_600_000)], (binary) => {
			assert.equal(binary.fileSize, '12.6 MB', 'as n8n writes it');
			delete binary.bytes;
		}).runNode({ parameters: sendImage() });

		assert.equal(result.error?.message, 'The image file is 12.6 MB as n8n recorded it; WeChat accepts at most 10.0 MB');
		assert.deepEqual(reads, []);
		assert.equal(emulator.requests.length, 0);
	});
});

describe('what the recorded size cannot decide is decided after reading', () => {
	test('a size text rounded up past the limit does not refuse a file that fits', async () => {
		storeKeepsNoMetadata = true;
		// 2,095,000 bytes is shown as "2.1 MB" (2,100,000), above the voice limit of 2 MB (2,097,152); the file fits.
		const voice = Buffer.alloc(2_095_000, 1);
		const instance = harnessWithEditedItems([voice], (binary) => {
			assert.equal(binary.fileSize, '2.1 MB');
			delete binary.bytes;
			binary.fileName = 'hello.mp3';
			binary.mimeType = 'audio/mpeg';
		});
		const result = await instance.runNode({
			parameters: { ...sendImage(), msgType: 'voice' },
		});

		assert.equal(result.error, undefined);
		assert.deepEqual(reads, ['hello.mp3']);
		assert.equal(emulator.apiCalls(UPLOAD)[0].multipart?.files[0].size, voice.length);
	});

	test('an item that understates its size, in a store without metadata: read once, then refused', async () => {
		storeKeepsNoMetadata = true;
		const result = await harnessWithEditedItems([jpeg(11 * MB)], (binary) => {
			binary.bytes = 1000;
		}).runNode({ parameters: sendImage() });

		assert.equal(result.error?.message, 'The image file is 11.0 MB; WeChat accepts at most 10.0 MB');
		assert.deepEqual(reads, ['file1.jpg']);
		assert.equal(emulator.requests.length, 0);
	});

	test('a file within the limit is read once and uploaded whole', async () => {
		const photo = jpeg(100 * 1024);
		const result = await harness().runNode({ parameters: sendImage(), items: [imageItem(photo)] });

		assert.equal(result.error, undefined);
		assert.deepEqual(reads, ['photo.jpg']);
		assert.equal(emulator.apiCalls(UPLOAD)[0].multipart?.files[0].size, photo.length);
	});
});
