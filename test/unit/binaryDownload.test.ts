import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';

import {
	DownloadTooLarge,
	extensionForMime,
	fileNameFromDisposition,
	readBodyAtMost,
} from '../../nodes/WeChatCustomerService/helpers/binaryMedia';

/** Get Media's download helpers: the size bound while streaming, and the file name from Content-Disposition. */

describe('readBodyAtMost', () => {
	test('reads a stream whole when it fits, exactly at the limit too', async () => {
		const body = Readable.from([Buffer.alloc(600, 1), Buffer.alloc(400, 2)]);
		const buffer = await readBodyAtMost(body, 1000, undefined);
		assert.equal(buffer.length, 1000);
		assert.equal(buffer[999], 2);
	});

	test('a stream without Content-Length is cut off as soon as it passes the limit, and destroyed', async () => {
		let produced = 0;
		const body = new Readable({
			read() {
				produced += 1;
				this.push(Buffer.alloc(1024));
			},
		});
		await assert.rejects(readBodyAtMost(body, 10 * 1024, undefined), (error: unknown) => {
			assert.ok(error instanceof DownloadTooLarge);
			assert.equal(error.maxBytes, 10 * 1024);
			return true;
		});
		assert.ok(body.destroyed, 'the stream was destroyed');
		assert.ok(produced < 40, `read on after the limit: ${produced} chunks`);
	});

	test('a declared Content-Length over the limit is refused before reading', async () => {
		let read = false;
		const body = new Readable({
			read() {
				read = true;
				this.push(null);
			},
		});
		await assert.rejects(readBodyAtMost(body, 100, '101'), DownloadTooLarge);
		assert.equal(read, false);
	});
});

describe('fileNameFromDisposition', () => {
	test("WeChat's header, quoted and unquoted", () => {
		assert.equal(fileNameFromDisposition('attachment; filename="MEDIA_ID.jpg"'), 'MEDIA_ID.jpg');
		assert.equal(fileNameFromDisposition('attachment; filename=voice.amr'), 'voice.amr');
		assert.equal(fileNameFromDisposition("attachment; filename*=UTF-8''%E8%AF%AD%E9%9F%B3.amr"), '语音.amr');
	});

	test('folders, leading dots and control characters never make it into the name', () => {
		assert.equal(fileNameFromDisposition('attachment; filename="../../etc/passwd"'), 'passwd');
		assert.equal(fileNameFromDisposition('attachment; filename="C:\\\\Windows\\\\x.jpg"'), 'x.jpg');
		assert.equal(fileNameFromDisposition('attachment; filename=".bashrc"'), 'bashrc');
		assert.equal(fileNameFromDisposition('attachment; filename="a\u0000b|c.jpg"'), 'a_b_c.jpg');
		assert.equal(fileNameFromDisposition('attachment; filename="../"'), undefined);
	});

	test('no header, no name, or an absurdly long header: undefined', () => {
		assert.equal(fileNameFromDisposition(''), undefined);
		assert.equal(fileNameFromDisposition(undefined), undefined);
		assert.equal(fileNameFromDisposition('attachment'), undefined);
		assert.equal(fileNameFromDisposition(`attachment; filename="${'a'.repeat(2000)}"`), undefined);
	});
});

test('extensionForMime', () => {
	assert.equal(extensionForMime('image/jpeg'), 'jpg');
	assert.equal(extensionForMime('AUDIO/AMR'), 'amr');
	assert.equal(extensionForMime('video/mp4'), 'mp4');
	assert.equal(extensionForMime('application/x-unknown'), '');
});
