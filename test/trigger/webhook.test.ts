import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { NodeOperationError } from 'n8n-workflow';

import { parseXml } from '../../nodes/shared/xml';
import { clearDeduplicationStore } from '../../nodes/WeChatCustomerServiceTrigger/helpers/deduplicate';
import { buildHandshake, decryptReply, type PushFormat, type PushMode } from '../emulator/pushSender';
import { BIG_MSG_ID, KINDS, message, OA, OPENID, pushCall } from './fixtures';
import {
	AES_KEY,
	APP_ID,
	APP_SECRET,
	callWebhook,
	createHookContext,
	credentials,
	OLD_AES_KEY,
	TOKEN,
	trigger,
	type WebhookResult,
} from './webhookContext';

const MODES: PushMode[] = ['plaintext', 'compatible', 'safe'];
const FORMATS: PushFormat[] = ['xml', 'json'];
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

function assertNoSecrets(result: WebhookResult): void {
	const text = `${result.response.body ?? ''} ${JSON.stringify(result.item ?? {})}`;
	for (const secret of [TOKEN, AES_KEY, OLD_AES_KEY, APP_SECRET]) assert.ok(!text.includes(secret), 'no secret');
}

/** An execution starts, and n8n (not the node) sends the node's answer once it has created it. */
function assertStarted(result: WebhookResult): void {
	assert.equal(result.result.noWebhookResponse, undefined, 'n8n answers');
	assert.equal(result.result.webhookResponse, result.response.body);
	assert.equal(result.result.workflowData?.length, 1);
	assert.equal(result.result.workflowData?.[0].length, 1);
	assert.equal(result.response.sends, 1, 'answered exactly once');
	assertNoSecrets(result);
}

function assertNothingStarted(result: WebhookResult): void {
	assert.deepEqual(result.result, { noWebhookResponse: true });
	assert.equal(result.response.sends, 1);
	assertNoSecrets(result);
}

beforeEach(() => clearDeduplicationStore());

describe('GET handshake (echostr)', () => {
	test('official vector: answers echostr byte for byte as text/plain', async () => {
		const echostr = '8537412698421357';
		const result = await callWebhook({
			webhookName: 'setup',
			query: {
				signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696',
				timestamp: '1714036504',
				nonce: '1514711492',
				echostr,
			},
			credentials: credentials({ token: 'AAAAA' }),
			// The vector is from 2024: only with the timestamp check off.
			parameters: { options: { maxTimestampAge: 0 } },
		});
		assert.equal(result.response.status, 200);
		assert.equal(result.response.contentType, 'text/plain');
		assert.equal(result.response.body, echostr);
		assertNothingStarted(result);
	});

	test('a handshake built by the emulator passes; a wrong or missing signature gets 401 without echostr', async () => {
		const { query } = buildHandshake({ token: TOKEN, echostr: 'abc123' });
		const ok = await callWebhook({ webhookName: 'setup', query });
		assert.equal(ok.response.body, 'abc123');

		for (const [bad, status] of [
			[{ ...query, signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696' }, 401],
			[{ ...query, signature: undefined }, 401],
			[{ ...query, signature: [query.signature, query.signature] }, 400],
			[{ ...query, nonce: `${query.nonce}1` }, 401],
		] as const) {
			const result = await callWebhook({ webhookName: 'setup', query: bad });
			assert.equal(result.response.status, status);
			assert.ok(!String(result.response.body).includes('abc123'));
			assertNothingStarted(result);
		}
		const noToken = await callWebhook({ webhookName: 'setup', query, credentials: credentials({ token: '' }) });
		assert.equal(noToken.response.status, 500);
		assertNothingStarted(noToken);
	});
});

describe('POST pushes: every mode and format', () => {
	for (const mode of MODES) {
		for (const format of FORMATS) {
			test(`${mode} mode, ${format.toUpperCase()}: one item with WeChat's fields and values as sent`, async () => {
				const fields = { ...message('text'), MsgId: BIG_MSG_ID };
				const result = await callWebhook(pushCall(fields, { mode, format }));
				assert.equal(result.response.status, 200);
				assert.equal(result.response.body, 'success');
				assert.equal(result.response.contentType, 'text/plain');
				assertStarted(result);
				assert.deepEqual(plain(result.item), fields);
				assert.equal(result.item?.MsgId, BIG_MSG_ID);
				assert.equal(typeof result.item?.CreateTime, 'string');
				assert.equal(Object.getPrototypeOf(result.item), Object.prototype);
				assert.ok(!('Encrypt' in (result.item ?? {})));
			});
		}
	}

	test('kf events keep KfAccount, FromKfAccount, ToKfAccount', async () => {
		for (const kind of ['kf_create_session', 'kf_close_session', 'kf_switch_session'] as const) {
			for (const format of FORMATS) {
				const fields = message(kind);
				const result = await callWebhook(pushCall(fields, { mode: 'safe', format }));
				assertStarted(result);
				assert.deepEqual(plain(result.item), fields);
			}
		}
	});

	test('nested event structures arrive intact (XML, encrypted)', async () => {
		const fields = {
			ToUserName: OA,
			FromUserName: OPENID,
			CreateTime: String(Math.floor(Date.now() / 1000)),
			MsgType: 'event',
			Event: 'pic_photo_or_album',
			EventKey: '6',
			SendPicsInfo: { Count: '1', PicList: { item: { PicMd5Sum: '1b5f7c23b5bf75682a53e7b6d163e185' } } },
			ScanCodeInfo: { ScanType: 'qrcode', ScanResult: '1' },
		};
		const result = await callWebhook(pushCall(fields, { mode: 'safe', format: 'xml' }));
		assertStarted(result);
		assert.deepEqual(plain(result.item), {
			...fields,
			SendPicsInfo: { Count: '1', PicList: { item: [{ PicMd5Sum: '1b5f7c23b5bf75682a53e7b6d163e185' }] } },
		});
	});

	test('compatible mode: the output comes from the authenticated ciphertext, not the plaintext copy', async () => {
		const fields = message('text');
		const call = pushCall(fields, { mode: 'compatible', format: 'xml' });
		call.rawBody = String(call.rawBody).replace('你好', '篡改');
		const result = await callWebhook(call);
		assertStarted(result);
		assert.equal(result.item?.Content, fields.Content);
	});

	test('format option: auto accepts both, xml and json accept only their own (see hostile tests for the rest)', async () => {
		for (const format of FORMATS) {
			const result = await callWebhook(
				pushCall(message('text'), { mode: 'safe', format }, { parameters: { options: { format } } }),
			);
			assertStarted(result);
		}
	});

	test('a leading BOM and whitespace before the document are accepted', async () => {
		const call = pushCall(message('text'), { mode: 'plaintext', format: 'xml' });
		call.rawBody = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`\n  ${String(call.rawBody)}`)]);
		assertStarted(await callWebhook(call));
	});
});

describe('events filter', () => {
	test('"*" lets every kind through', async () => {
		for (const kind of KINDS) {
			const result = await callWebhook(pushCall(message(kind), {}, { parameters: { events: ['*'] } }));
			assertStarted(result);
		}
	});

	for (const selected of KINDS) {
		test(`"${selected}" starts only for ${selected} pushes; others get "success" and start nothing`, async () => {
			for (const kind of KINDS) {
				const result = await callWebhook(
					pushCall(message(kind), { mode: 'plaintext', format: 'xml' }, { parameters: { events: [selected] } }),
				);
				assert.equal(result.response.status, 200);
				assert.equal(result.response.body, 'success');
				if (kind === selected) {
					assertStarted(result);
					assert.equal(result.item?.[kind === result.item?.MsgType ? 'MsgType' : 'Event'], kind);
				} else {
					assertNothingStarted(result);
				}
			}
		});
	}

	test('several values combine; event names match regardless of case', async () => {
		const parameters = { events: ['text', 'CLICK', 'kf_close_session'] };
		const started = async (fields: Record<string, string>) =>
			(await callWebhook(pushCall(fields, {}, { parameters }))).item !== undefined;
		assert.ok(await started(message('text')));
		assert.ok(await started(message('CLICK')));
		assert.ok(await started({ ...message('CLICK'), Event: 'click' }));
		assert.ok(await started(message('kf_close_session')));
		assert.ok(!(await started(message('VIEW'))));
		assert.ok(!(await started(message('image'))));
		// A message type never matches an event of the same name, nor the reverse.
		assert.ok(!(await started(message('location'))));
		const onlyLocationEvent = { events: ['LOCATION'] };
		assert.equal((await callWebhook(pushCall(message('location'), {}, { parameters: onlyLocationEvent }))).item, undefined);
		assert.ok((await callWebhook(pushCall(message('LOCATION'), {}, { parameters: onlyLocationEvent }))).item);
	});
});

describe('replies', () => {
	const transfer = (kfAccount = '') => ({ reply: 'transferToCustomerService', kfAccount });

	function transferFields(xml: string) {
		return plain(parseXml(xml)).xml;
	}

	test('success (default) is answered at once as text/plain', async () => {
		const result = await callWebhook(pushCall(message('text'), { mode: 'safe' }));
		assert.equal(result.response.body, 'success');
		assert.equal(result.response.contentType, 'text/plain');
	});

	test('plaintext: transfer_customer_service XML, with TransInfo/KfAccount only when set', async () => {
		const named = await callWebhook(
			pushCall(message('text'), { mode: 'plaintext' }, { parameters: transfer(' agent1@test ') }),
		);
		assertStarted(named);
		assert.equal(named.response.contentType, 'text/xml');
		const reply = transferFields(String(named.response.body));
		assert.equal(reply.ToUserName, OPENID);
		assert.equal(reply.FromUserName, OA);
		assert.equal(reply.MsgType, 'transfer_customer_service');
		assert.match(reply.CreateTime, /^\d{10}$/);
		assert.deepEqual(reply.TransInfo, { KfAccount: 'agent1@test' });

		const anyone = await callWebhook(pushCall(message('image'), { mode: 'plaintext' }, { parameters: transfer() }));
		const anyoneReply = transferFields(String(anyone.response.body));
		assert.equal(anyoneReply.MsgType, 'transfer_customer_service');
		assert.ok(!('TransInfo' in anyoneReply));
	});

	for (const mode of ['compatible', 'safe'] as const) {
		for (const format of FORMATS) {
			test(`${mode} mode, ${format.toUpperCase()}: the transfer reply is encrypted XML WeChat can decrypt and verify`, async () => {
				const result = await callWebhook(
					pushCall(message('voice'), { mode, format }, { parameters: transfer('agent2@test') }),
				);
				assertStarted(result);
				const body = String(result.response.body);
				assert.ok(body.startsWith('<xml><Encrypt>'), 'XML also for JSON pushes');
				const decrypted = decryptReply(body, { token: TOKEN, encodingAESKey: AES_KEY, appId: APP_ID, format: 'xml' });
				assert.equal(decrypted.signatureValid, true);
				assert.match(decrypted.timestamp, /^\d{10}$/);
				assert.ok(Math.abs(Number(decrypted.timestamp) - Date.now() / 1000) < 5);
				assert.match(decrypted.nonce, /^\d+$/);
				const reply = transferFields(decrypted.plaintext);
				assert.equal(reply.MsgType, 'transfer_customer_service');
				assert.equal(reply.ToUserName, OPENID);
				assert.deepEqual(reply.TransInfo, { KfAccount: 'agent2@test' });
			});
		}
	}

	test('events get "success" even with transfer selected', async () => {
		for (const kind of ['subscribe', 'CLICK', 'kf_create_session'] as const) {
			for (const mode of MODES) {
				const result = await callWebhook(pushCall(message(kind), { mode }, { parameters: transfer('a@b') }));
				assertStarted(result);
				assert.equal(result.response.body, 'success');
			}
		}
	});

	test('a kfAccount containing "]]>" cannot break out of its CDATA', async () => {
		const result = await callWebhook(
			pushCall(message('text'), { mode: 'plaintext' }, { parameters: transfer('a]]><MsgType>text</MsgType>') }),
		);
		const reply = transferFields(String(result.response.body));
		assert.equal(reply.MsgType, 'transfer_customer_service');
		assert.deepEqual(reply.TransInfo, { KfAccount: 'a]]><MsgType>text</MsgType>' });
	});
});

describe('key rotation', () => {
	test('a push encrypted with the previous key is accepted and answered with that key', async () => {
		const rotated = credentials({ encodingAESKey: AES_KEY, previousEncodingAESKey: OLD_AES_KEY });
		for (const format of FORMATS) {
			const fields = message('text');
			const result = await callWebhook(
				pushCall(fields, { mode: 'safe', format, encodingAESKey: OLD_AES_KEY }, {
					credentials: rotated,
					parameters: { reply: 'transferToCustomerService' },
				}),
			);
			assertStarted(result);
			assert.deepEqual(plain(result.item), fields);
			const decrypted = decryptReply(String(result.response.body), {
				token: TOKEN,
				encodingAESKey: OLD_AES_KEY,
				appId: APP_ID,
			});
			assert.equal(decrypted.signatureValid, true);
		}
		const current = await callWebhook(pushCall(message('text'), { mode: 'safe' }, { credentials: rotated }));
		assertStarted(current);
	});

	test('without the previous key configured, the old key is refused', async () => {
		const result = await callWebhook(pushCall(message('text'), { mode: 'safe', encodingAESKey: OLD_AES_KEY }));
		assert.equal(result.response.status, 400);
		assertNothingStarted(result);
	});
});

describe('retries (de-duplication)', () => {
	test('three deliveries of one message start one execution and get the same answer', async () => {
		for (const parameters of [{}, { reply: 'transferToCustomerService', kfAccount: 'k@t' }]) {
			const call = pushCall(message('text'), { mode: 'safe', format: 'xml' }, { parameters });
			const results = [await callWebhook(call), await callWebhook(call), await callWebhook(call)];
			assert.equal(results.filter((r) => r.result.workflowData).length, 1);
			assert.equal(new Set(results.map((r) => r.response.body)).size, 1);
			assert.ok(results.every((r) => r.response.status === 200));
		}
	});

	test('events: same FromUserName + CreateTime + Event is one push; another EventKey is another push', async () => {
		const fields = message('CLICK');
		const first = await callWebhook(pushCall(fields));
		const retry = await callWebhook(pushCall(fields));
		const other = await callWebhook(pushCall({ ...fields, EventKey: 'OTHER' }));
		assert.ok(first.item && !retry.item && other.item);
	});

	test('retries re-signed with a new timestamp and nonce are still recognised (same MsgId)', async () => {
		const fields = message('text');
		const first = await callWebhook(pushCall(fields, { mode: 'plaintext', format: 'json' }));
		const second = await callWebhook(pushCall(fields, { mode: 'safe', format: 'json', nonce: '42' }));
		assert.ok(first.item && !second.item);
	});

	test('deduplicate off: every delivery signed anew starts an execution; the same request again does not', async () => {
		const fields = message('text');
		const parameters = { options: { deduplicate: false } };
		const deliveries = [0, 1, 2].map(() => pushCall(fields, {}, { parameters }));
		const results = [];
		for (const delivery of deliveries) results.push(await callWebhook(delivery));
		assert.equal(results.filter((r) => r.result.workflowData).length, 3);
		// A byte-identical request is a replay whatever the option says (attacks.test.ts).
		const again = await callWebhook(deliveries[0]);
		assert.equal(again.result.workflowData, undefined);
		assert.equal(again.response.body, results[0].response.body);
	});

	test('two triggers (other node, other workflow) do not share entries', async () => {
		const fields = message('text');
		const a = await callWebhook(pushCall(fields, {}, { nodeId: 'node-a' }));
		const b = await callWebhook(pushCall(fields, {}, { nodeId: 'node-b' }));
		const c = await callWebhook(pushCall(fields, {}, { nodeId: 'node-a', workflowId: 'workflow-2' }));
		const again = await callWebhook(pushCall(fields, {}, { nodeId: 'node-a' }));
		assert.ok(a.item && b.item && c.item && !again.item);
	});

	test('a filtered push leaves no entry: changing the filter later still lets a retry through', async () => {
		const fields = message('image');
		const filtered = await callWebhook(pushCall(fields, {}, { parameters: { events: ['text'] } }));
		assert.equal(filtered.item, undefined);
		assert.ok((await callWebhook(pushCall(fields))).item);
	});
});

describe('timestamp window', () => {
	const secondsAgo = (seconds: number) => String(Math.floor(Date.now() / 1000) - seconds);

	test('default 300 s: 250 s old passes, 400 s old and 400 s ahead get 401', async () => {
		assertStarted(await callWebhook(pushCall(message('text'), { timestamp: secondsAgo(250) })));
		for (const timestamp of [secondsAgo(400), secondsAgo(-400)]) {
			const result = await callWebhook(pushCall(message('text'), { timestamp }));
			assert.equal(result.response.status, 401);
			assertNothingStarted(result);
		}
	});

	test('custom age and 0 (off)', async () => {
		const old = pushCall(message('text'), { timestamp: secondsAgo(100) }, { parameters: { options: { maxTimestampAge: 60 } } });
		assert.equal((await callWebhook(old)).response.status, 401);
		const ancient = pushCall(message('text'), { timestamp: '1714036504' }, { parameters: { options: { maxTimestampAge: 0 } } });
		assertStarted(await callWebhook(ancient));
		const negative = pushCall(message('text'), { timestamp: '1714036504' }, { parameters: { options: { maxTimestampAge: -1 } } });
		assert.equal((await callWebhook(negative)).response.status, 401, 'a negative age means the default, not off');
	});
});

describe('activation (webhookMethods.default)', () => {
	const methods = trigger.webhookMethods.default;

	test('a complete credential activates: checkExists false (nothing registered), create true, delete true', async () => {
		for (const values of [
			credentials(),
			credentials({ encodingAESKey: '', previousEncodingAESKey: '' }),
			credentials({ previousEncodingAESKey: OLD_AES_KEY }),
		]) {
			const context = createHookContext(values);
			assert.equal(await methods.checkExists.call(context), false);
			assert.equal(await methods.create.call(context), true);
			assert.equal(await methods.delete.call(context), true);
		}
	});

	const broken: Array<[string, Record<string, unknown>, RegExp]> = [
		['no token', { token: '' }, /no Push Token/],
		['token with spaces', { token: ` ${TOKEN}` }, /space/],
		['short EncodingAESKey', { encodingAESKey: AES_KEY.slice(1) }, /43/],
		['EncodingAESKey with symbols', { encodingAESKey: `${AES_KEY.slice(1)}=` }, /43/],
		['bad previous key', { previousEncodingAESKey: 'abc' }, /Previous EncodingAESKey/],
		['previous key without current', { encodingAESKey: '', previousEncodingAESKey: OLD_AES_KEY }, /no EncodingAESKey/],
		['key without AppID', { appId: '' }, /AppID/],
	];
	for (const [name, overrides, message] of broken) {
		test(`fails with a clear message: ${name}`, async () => {
			const context = createHookContext(credentials(overrides));
			for (const method of [methods.checkExists, methods.create]) {
				await assert.rejects(method.call(context), (error: Error) => {
					assert.ok(error instanceof NodeOperationError);
					assert.match(error.message, message);
					for (const secret of [TOKEN, AES_KEY, OLD_AES_KEY, APP_SECRET]) assert.ok(!error.message.includes(secret));
					return true;
				});
			}
		});
	}

	test('the description declares one path with GET and POST, and the contract names', () => {
		const { description } = trigger;
		assert.equal(description.name, 'weChatCustomerServiceTrigger');
		assert.deepEqual(description.inputs, []);
		assert.deepEqual(description.group, ['trigger']);
		assert.deepEqual(
			description.webhooks?.map((w) => [w.name, w.httpMethod, w.path]),
			[
				['setup', 'GET', 'webhook'],
				['default', 'POST', 'webhook'],
			],
		);
		const names = description.properties.map((p) => p.name);
		for (const name of ['notice', 'events', 'reply', 'kfAccount', 'options']) assert.ok(names.includes(name));
		const events = description.properties.find((p) => p.name === 'events');
		assert.deepEqual(
			events?.options?.map((o) => ('value' in o ? o.value : undefined)).sort(),
			['*', ...KINDS].sort(),
		);
		const options = description.properties.find((p) => p.name === 'options');
		assert.deepEqual(
			options?.options?.map((o) => o.name).sort(),
			['deduplicate', 'fallbackReply', 'format', 'maxTimestampAge', 'replyDeadline', 'sharePushMemory'],
		);
		const reply = description.properties.find((p) => p.name === 'reply');
		assert.deepEqual(
			reply?.options?.map((o) => ('value' in o ? o.value : undefined)),
			['success', 'transferToCustomerService', 'fromWorkflow'],
		);
	});
});

describe('the answer waits until n8n has created the execution', () => {
	for (const options of [{}, { deduplicate: false }]) {
		test(`n8n fails to create it (500): the push is forgotten and the next delivery runs it (${JSON.stringify(options)})`, async () => {
			const call = pushCall(message('text'), { mode: 'safe' }, { parameters: { options } });
			const failed = await callWebhook({ ...call, executionFails: true });
			assert.equal(failed.response.status, 500);
			assert.deepEqual(
				failed.response.logs.map((line) => [line.level, line.message]),
				[
					[
						'warn',
						"WeChat push failed: n8n could not start the execution (HTTP 500); WeChat's next delivery of this push will run it",
					],
				],
			);
			// WeChat's retry repeats the request byte for byte.
			const retry = await callWebhook(call);
			assertStarted(retry);
			assert.equal(retry.response.status, 200);
			assert.equal(retry.response.body, 'success');
			assert.deepEqual(retry.response.logs, []);
			// Now that it ran, a further delivery is a repeat again.
			const third = await callWebhook(call);
			assertNothingStarted(third);
			assert.equal(third.response.body, 'success');
		});
	}

	test('the answer keeps its content type: an encrypted transfer reply is text/xml', async () => {
		const result = await callWebhook(
			pushCall(message('text'), { mode: 'safe' }, { parameters: { reply: 'transferToCustomerService' } }),
		);
		assertStarted(result);
		assert.equal(result.response.status, 200);
		assert.equal(result.response.contentType, 'text/xml');
		assert.match(String(result.response.body), /^<xml><Encrypt><!\[CDATA\[/);
	});
});

describe('robustness', () => {
	test('a credential that cannot be loaded gives 500, no execution, no exception', async () => {
		const { createWebhookContext } = await import('./webhookContext');
		const { context, response } = createWebhookContext(pushCall(message('text')));
		(context as unknown as { getCredentials: () => Promise<never> }).getCredentials = async () => {
			throw new Error(`credential broken ${APP_SECRET}`);
		};
		const result = await trigger.webhook.call(context);
		assert.deepEqual(result, { noWebhookResponse: true });
		assert.equal(response.status, 500);
		assert.ok(!String(response.body).includes(APP_SECRET));
	});

	test('an encrypted push while the credential has no EncodingAESKey gives 400 with -40004 and says what to set', async () => {
		const result = await callWebhook(
			pushCall(message('text'), { mode: 'safe' }, { credentials: credentials({ encodingAESKey: '' }) }),
		);
		assert.equal(result.response.status, 400);
		assert.equal(
			result.response.body,
			"-40004 encrypted push received in plaintext mode: set the trigger's Encryption and the credential's EncodingAESKey",
		);
		assertNothingStarted(result);
	});

	test('a response object that throws does not make webhook() throw', async () => {
		const { createWebhookContext } = await import('./webhookContext');
		const { context } = createWebhookContext(pushCall(message('text')));
		(context as unknown as { getResponseObject: () => never }).getResponseObject = () => {
			throw new Error('socket closed');
		};
		const result = await trigger.webhook.call(context);
		assert.equal(result.workflowData?.length, 1);
	});
});
