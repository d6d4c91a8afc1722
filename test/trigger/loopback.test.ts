import assert from 'node:assert/strict';
import * as http from 'node:http';
import { after, before, beforeEach, describe, test } from 'node:test';

import { parseXml } from '../../nodes/shared/xml';
import { clearDeduplicationStore } from '../../nodes/WeChatCustomerServiceTrigger/helpers/deduplicate';
import { buildHandshake, decryptReply, deliverPush, urlWithQuery, type PushFormat, type PushMode } from '../emulator/pushSender';
import { BIG_MSG_ID, message, OPENID } from './fixtures';
import { startLoopbackTrigger, type LoopbackTrigger } from './loopbackServer';
import { AES_KEY, APP_ID, credentials, OLD_AES_KEY, TOKEN } from './webhookContext';

/** Pushes delivered over 127.0.0.1 by the emulator's push sender, with WeChat's retry rules. */

let trigger: LoopbackTrigger;
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));
const push = (mode: PushMode, format: PushFormat, fields: Record<string, string>) => ({
	mode,
	format,
	message: fields,
	token: TOKEN,
	appId: APP_ID,
	encodingAESKey: AES_KEY,
	timeoutMs: 3000,
});

function get(url: URL): Promise<{ status?: number; body: string; contentType?: string }> {
	return new Promise((resolve, reject) => {
		http
			.get(url, (response) => {
				const chunks: Buffer[] = [];
				response.on('data', (chunk: Buffer) => chunks.push(chunk));
				response.on('end', () =>
					resolve({
						status: response.statusCode,
						body: Buffer.concat(chunks).toString('utf8'),
						contentType: response.headers['content-type'],
					}),
				);
			})
			.on('error', reject);
	});
}

before(async () => {
	trigger = await startLoopbackTrigger({ credentials: credentials() });
});
after(async () => await trigger.close());
beforeEach(() => {
	clearDeduplicationStore();
	trigger.executions.length = 0;
	trigger.results.length = 0;
	trigger.parameters = {};
	trigger.credentials = credentials();
});

describe('over HTTP (loopback)', () => {
	test('GET handshake: echostr byte for byte as text/plain; wrong signature 401', async () => {
		const { query } = buildHandshake({ token: TOKEN, echostr: '7394820384112233' });
		const ok = await get(urlWithQuery(trigger.url, query));
		assert.equal(ok.status, 200);
		assert.equal(ok.body, '7394820384112233');
		assert.match(ok.contentType ?? '', /^text\/plain/);

		const bad = await get(urlWithQuery(trigger.url, { ...query, signature: '0'.repeat(40) }));
		assert.equal(bad.status, 401);
		assert.equal(trigger.executions.length, 0);
	});

	for (const mode of ['plaintext', 'compatible', 'safe'] as const) {
		for (const format of ['xml', 'json'] as const) {
			test(`${mode} / ${format}: one delivery, one execution, answer "success"`, async () => {
				if (mode === 'plaintext') trigger.credentials = credentials({ encodingAESKey: '' });
				const fields = { ...message('text'), MsgId: BIG_MSG_ID };
				const { deliveries } = await deliverPush(trigger.url, push(mode, format, fields));
				assert.equal(deliveries.length, 1);
				assert.equal(deliveries[0].status, 200);
				assert.equal(deliveries[0].body, 'success');
				assert.equal(trigger.executions.length, 1);
				assert.deepEqual(plain(trigger.executions[0]), fields);
			});
		}
	}

	test('three forced deliveries of one push: one execution, three identical answers', async () => {
		trigger.parameters = { reply: 'transferToCustomerService', kfAccount: 'agent@test' };
		for (const mode of ['plaintext', 'safe'] as const) {
			trigger.executions.length = 0;
			trigger.credentials = credentials(mode === 'plaintext' ? { encodingAESKey: '' } : {});
			const { deliveries } = await deliverPush(trigger.url, {
				...push(mode, 'xml', message('text')),
				forceDeliveries: 3,
			});
			assert.equal(deliveries.length, 3);
			assert.ok(deliveries.every((d) => d.status === 200));
			assert.equal(new Set(deliveries.map((d) => d.body)).size, 1);
			assert.equal(trigger.executions.length, 1);
		}
		const webhookRuns = trigger.results.filter((r) => r.result.workflowData).length;
		assert.equal(webhookRuns, 2, 'webhook() returned workflowData once per push');
	});

	test('without de-duplication, byte-identical redeliveries are still one execution (the replay guard)', async () => {
		trigger.parameters = { options: { deduplicate: false } };
		const { deliveries } = await deliverPush(trigger.url, {
			...push('safe', 'json', message('CLICK')),
			forceDeliveries: 3,
		});
		assert.equal(new Set(deliveries.map((d) => `${d.status} ${d.body}`)).size, 1);
		assert.equal(trigger.executions.length, 1);
	});

	test('encrypted transfer reply over the wire: WeChat decrypts it and its MsgSignature checks out', async () => {
		trigger.parameters = { reply: 'transferToCustomerService', kfAccount: 'agent@test' };
		for (const mode of ['compatible', 'safe'] as const) {
			for (const format of ['xml', 'json'] as const) {
				const { deliveries } = await deliverPush(trigger.url, push(mode, format, message('text')));
				const reply = deliveries[0];
				assert.equal(reply.status, 200);
				assert.match(reply.contentType ?? '', /^text\/xml/);
				const decrypted = decryptReply(reply.body ?? '', { token: TOKEN, encodingAESKey: AES_KEY, appId: APP_ID });
				assert.equal(decrypted.signatureValid, true);
				const fields = plain(parseXml(decrypted.plaintext)).xml;
				assert.equal(fields.MsgType, 'transfer_customer_service');
				assert.equal(fields.ToUserName, OPENID);
				assert.deepEqual(fields.TransInfo, { KfAccount: 'agent@test' });
			}
		}
	});

	test('previous-key fallback over the wire', async () => {
		trigger.credentials = credentials({ previousEncodingAESKey: OLD_AES_KEY });
		trigger.parameters = { reply: 'transferToCustomerService' };
		const { deliveries } = await deliverPush(trigger.url, {
			...push('safe', 'xml', message('image')),
			encodingAESKey: OLD_AES_KEY,
		});
		const decrypted = decryptReply(deliveries[0].body ?? '', {
			token: TOKEN,
			encodingAESKey: OLD_AES_KEY,
			appId: APP_ID,
		});
		assert.equal(decrypted.signatureValid, true);
		assert.equal(trigger.executions.length, 1);
	});

	test('a filtered push is acknowledged and starts nothing', async () => {
		trigger.parameters = { events: ['text'] };
		const { deliveries } = await deliverPush(trigger.url, push('safe', 'xml', message('subscribe')));
		assert.equal(deliveries.length, 1);
		assert.equal(deliveries[0].body, 'success');
		assert.equal(trigger.executions.length, 0);
	});

	test('hostile deliveries get 4xx (no WeChat retry), start nothing, and the next push works', async () => {
		// Wrong token on WeChat's side: every signature is wrong.
		const wrongToken = await deliverPush(trigger.url, { ...push('safe', 'xml', message('text')), token: 'notTheToken' });
		assert.equal(wrongToken.deliveries.length, 1, '4xx ends WeChat retries');
		assert.equal(wrongToken.deliveries[0].status, 401);
		// Wrong key.
		const wrongKey = await deliverPush(trigger.url, {
			...push('safe', 'json', message('text')),
			encodingAESKey: 'QwErTyUiOpAsDfGhJkLzXcVbNm1234567890qWeRtYu',
		});
		assert.equal(wrongKey.deliveries[0].status, 400);
		// Stale timestamp.
		const stale = await deliverPush(trigger.url, {
			...push('compatible', 'xml', message('text')),
			timestamp: String(Math.floor(Date.now() / 1000) - 3600),
		});
		assert.equal(stale.deliveries[0].status, 401);
		// Oversized.
		const huge = await deliverPush(trigger.url, push('safe', 'xml', { ...message('text'), Content: 'x'.repeat(70_000) }));
		assert.equal(huge.deliveries[0].status, 413);
		// JSON where XML is configured.
		trigger.parameters = { options: { format: 'xml' } };
		const json = await deliverPush(trigger.url, push('safe', 'json', message('text')));
		assert.equal(json.deliveries[0].status, 400);

		assert.equal(trigger.executions.length, 0);
		const ok = await deliverPush(trigger.url, push('safe', 'xml', message('text')));
		assert.equal(ok.deliveries[0].status, 200);
		assert.equal(trigger.executions.length, 1);
	});
});
