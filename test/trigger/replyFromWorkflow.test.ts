/**
 * Reply From Workflow through the trigger: n8n's part (response mode lastNode: it answers with the `passiveReply` field
 * of the last node's first item when the execution ends, or with its error answers) is played here as n8n writes it
 * on the response object; everything else is the trigger's code. The real n8n runs the same in scripts/n8n/e2e.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import type { IWebhookResponseData } from 'n8n-workflow';

import { PASSIVE_REPLY_FIELD, type PassiveReply } from '../../nodes/shared/passiveReply';
import { parseXml } from '../../nodes/shared/xml';
import { clearDeduplicationStore } from '../../nodes/WeChatCustomerServiceTrigger/helpers/deduplicate';
import { decryptReply, type PushFormat, type PushMode } from '../emulator/pushSender';
import { message, OA, OPENID, pushCall } from './fixtures';
import {
	AES_KEY,
	APP_ID,
	APP_SECRET,
	createWebhookContext,
	credentials,
	descriptionField,
	OLD_AES_KEY,
	TOKEN,
	trigger,
	type CapturedResponse,
	type StandInResponse,
	type WebhookCall,
} from './webhookContext';

const MODES: PushMode[] = ['plaintext', 'compatible', 'safe'];
const FORMATS: PushFormat[] = ['xml', 'json'];
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));
const FROM_WORKFLOW = { reply: 'fromWorkflow', options: { replyDeadline: 500 } };

interface Delivery {
	result: IWebhookResponseData;
	response: CapturedResponse;
	res: StandInResponse;
	/** When webhook() returned, and when the answer went out (ms since the delivery began). */
	returnedAfter: number;
	answeredAfter(): number | undefined;
}

async function deliver(call: WebhookCall): Promise<Delivery> {
	const started = Date.now();
	let answeredAt: number | undefined;
	const { context, response, res } = createWebhookContext({
		...call,
		onSend: () => {
			answeredAt = Date.now();
		},
	});
	const result = await trigger.webhook.call(context);
	return {
		result,
		response,
		res,
		returnedAfter: Date.now() - started,
		answeredAfter: () => (answeredAt === undefined ? undefined : answeredAt - started),
	};
}

/**
 * What n8n writes when the execution ends, by its webhook handler's code path: the last node's first item's
 * `passiveReply` (status, headers, then send for a string or json for anything else), or its error answers.
 */
type ExecutionEnd =
	| { lastNodeJson: Record<string, unknown> }
	| { workflowFailed: true }
	| { notRun: true }
	| { noItems: true };

function n8nAnswers(res: StandInResponse, end: ExecutionEnd): void {
	if ('lastNodeJson' in end) {
		res.status(200);
		res.setHeaders(new Map([['x-n8n-header', '1']]));
		res.setHeader('Content-Security-Policy', 'sandbox');
		const body = end.lastNodeJson[PASSIVE_REPLY_FIELD];
		if (typeof body === 'string') res.send(body);
		else res.json(body);
	} else if ('workflowFailed' in end) {
		res.status(500).json({ message: 'Error in workflow' });
	} else if ('notRun' in end) {
		res.status(500).json({ code: 0, message: 'There was a problem executing the workflow' });
	} else {
		res.status(500).json({ code: 0, message: 'No item to return was found' });
	}
}

const replyItem = (reply: PassiveReply) => ({ replyType: 'x', [PASSIVE_REPLY_FIELD]: reply });

function readReply(body: string, mode: PushMode, key = AES_KEY): Record<string, unknown> {
	if (mode === 'plaintext') return plain(parseXml(body)).xml;
	assert.ok(body.startsWith('<xml><Encrypt>'), 'an encrypted reply, as XML');
	const decrypted = decryptReply(body, { token: TOKEN, encodingAESKey: key, appId: APP_ID, format: 'xml' });
	assert.equal(decrypted.signatureValid, true, 'MsgSignature verifies');
	assert.ok(Math.abs(Number(decrypted.timestamp) - Date.now() / 1000) < 5, 'TimeStamp in seconds, now');
	return plain(parseXml(decrypted.plaintext)).xml;
}

function assertNoSecrets(delivery: Delivery): void {
	const text = `${delivery.response.body ?? ''} ${JSON.stringify(delivery.response.logs)}`;
	for (const secret of [TOKEN, AES_KEY, OLD_AES_KEY, APP_SECRET]) assert.ok(!text.includes(secret), 'no secret');
}

const logLines = (delivery: Delivery) => delivery.response.logs.map((line) => line.message);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeEach(() => clearDeduplicationStore());

describe('Reply From Workflow: n8n answers with the last node, the trigger shapes it', () => {
	test('the description: lastNode and firstEntryJson of passiveReply only for From Workflow; expression and resolver agree', () => {
		for (const reply of ['success', 'transferToCustomerService', 'fromWorkflow']) {
			const call = { query: {}, parameters: { reply } };
			const fromWorkflow = reply === 'fromWorkflow';
			assert.equal(descriptionField(call, 'responseMode', undefined), fromWorkflow ? 'lastNode' : 'onReceived');
			assert.equal(descriptionField(call, 'responseData', undefined), fromWorkflow ? 'firstEntryJson' : '');
			// The expression n8n 1.x and the editor evaluate, run as JavaScript with the same $parameter.
			const post = trigger.description.webhooks?.find((webhook) => webhook.name === 'default');
			for (const field of ['responseMode', 'responseData']) {
				const template = String(post?.[field]);
				const inner = /^=\{\{(.*)\}\}$/s.exec(template)?.[1];
				assert.ok(inner, `${field} is an expression`);
				const evaluate = new Function('$parameter', `return (${inner});`) as (p: unknown) => unknown;
				assert.equal(evaluate({ reply }), descriptionField(call, field, undefined));
			}
			assert.equal(post?.responsePropertyName, PASSIVE_REPLY_FIELD);
		}
	});

	const replies: Array<[string, PassiveReply, Record<string, unknown>]> = [
		['text', { MsgType: 'text', Content: '您好, <b>&amp; ]]> welcome' }, { Content: '您好, <b>&amp; ]]> welcome' }],
		['image', { MsgType: 'image', Image: { MediaId: 'media_IMG-1' } }, { Image: { MediaId: 'media_IMG-1' } }],
		['voice', { MsgType: 'voice', Voice: { MediaId: 'media_VOICE-1' } }, { Voice: { MediaId: 'media_VOICE-1' } }],
		[
			'transfer to an agent',
			{ MsgType: 'transfer_customer_service', TransInfo: { KfAccount: 'kf2001@gh_service' } },
			{ TransInfo: { KfAccount: 'kf2001@gh_service' } },
		],
		['transfer to anyone', { MsgType: 'transfer_customer_service' }, {}],
	];
	for (const mode of MODES) {
		for (const format of FORMATS) {
			test(`${mode} mode, ${format.toUpperCase()} push: every reply type reaches WeChat addressed, encrypted as the push was`, async () => {
				for (const [name, reply, expected] of replies) {
					clearDeduplicationStore();
					const delivery = await deliver(pushCall(message('text'), { mode, format }, { parameters: FROM_WORKFLOW }));
					// n8n answers, at the end of the execution: webhook() returned the item and sent nothing.
					assert.equal(delivery.result.noWebhookResponse, undefined, name);
					assert.equal(delivery.result.webhookResponse, undefined, name);
					assert.equal(delivery.result.workflowData?.[0]?.length, 1, name);
					assert.equal(delivery.response.sends, 0, `${name}: nothing sent before the workflow answers`);
					n8nAnswers(delivery.res, { lastNodeJson: replyItem(reply) });
					assert.equal(delivery.response.sends, 1, name);
					assert.equal(delivery.response.status, 200, name);
					assert.equal(delivery.response.contentType, 'text/xml', name);
					const fields = readReply(String(delivery.response.body), mode);
					assert.equal(fields.ToUserName, OPENID, name);
					assert.equal(fields.FromUserName, OA, name);
					assert.match(String(fields.CreateTime), /^\d{10}$/, name);
					assert.deepEqual(fields, {
						ToUserName: OPENID,
						FromUserName: OA,
						CreateTime: fields.CreateTime,
						MsgType: reply.MsgType,
						...expected,
					});
					assert.deepEqual(logLines(delivery), [], `${name}: an answer in time writes no log line`);
					assertNoSecrets(delivery);
				}
			});
		}
	}

	test('key rotation: a push that came with the previous key is answered with that key', async () => {
		const rotated = credentials({ encodingAESKey: AES_KEY, previousEncodingAESKey: OLD_AES_KEY });
		const delivery = await deliver(
			pushCall(message('text'), { mode: 'safe', encodingAESKey: OLD_AES_KEY }, {
				credentials: rotated,
				parameters: FROM_WORKFLOW,
			}),
		);
		n8nAnswers(delivery.res, { lastNodeJson: replyItem({ MsgType: 'text', Content: 'hi' }) });
		assert.equal(readReply(String(delivery.response.body), 'safe', OLD_AES_KEY).Content, 'hi');
	});

	test('an event may get a text reply; a transfer reply to an event becomes "success", and the log says why', async () => {
		const text = await deliver(pushCall(message('subscribe'), { mode: 'safe' }, { parameters: FROM_WORKFLOW }));
		n8nAnswers(text.res, { lastNodeJson: replyItem({ MsgType: 'text', Content: 'Welcome' }) });
		assert.equal(readReply(String(text.response.body), 'safe').Content, 'Welcome');

		const transfer = await deliver(pushCall(message('CLICK'), { mode: 'safe' }, { parameters: FROM_WORKFLOW }));
		n8nAnswers(transfer.res, { lastNodeJson: replyItem({ MsgType: 'transfer_customer_service' }) });
		assert.equal(transfer.response.body, 'success');
		assert.equal(transfer.response.contentType, 'text/plain');
		assert.deepEqual(logLines(transfer), [
			'WeChat push answered "success": the workflow replied transfer_customer_service to an event; only user messages can be handed to an agent',
		]);
	});
});

describe('Reply From Workflow: the fallback', () => {
	const transferFallback = { reply: 'fromWorkflow', options: { replyDeadline: 500, fallbackReply: 'transferToCustomerService' } };

	test('a workflow that has not replied by the deadline: the fallback goes out at the deadline, the late reply is dropped and logged', async () => {
		for (const [parameters, expected] of [
			[FROM_WORKFLOW, 'success'],
			[transferFallback, 'transfer_customer_service'],
		] as const) {
			clearDeduplicationStore();
			const delivery = await deliver(pushCall(message('text'), { mode: 'safe' }, { parameters }));
			assert.equal(delivery.response.sends, 0);
			await sleep(700);
			const answeredAfter = delivery.answeredAfter();
			assert.ok(answeredAfter !== undefined && answeredAfter >= 500, `answered at the deadline (${answeredAfter} ms)`);
			assert.equal(delivery.response.sends, 1);
			const body = String(delivery.response.body);
			if (expected === 'success') assert.equal(body, 'success');
			else {
				const fields = readReply(body, 'safe');
				assert.equal(fields.MsgType, 'transfer_customer_service');
				assert.equal(fields.TransInfo, undefined, 'the fallback lets WeChat choose the agent');
			}
			// n8n writes when the execution ends: nothing throws, nothing more is sent.
			assert.doesNotThrow(() => n8nAnswers(delivery.res, { lastNodeJson: replyItem({ MsgType: 'text', Content: 'late' }) }));
			assert.equal(delivery.response.sends, 1);
			const fallbackName = `the fallback reply (${expected === 'success' ? 'success' : 'transferToCustomerService'})`;
			assert.equal(logLines(delivery)[0], `WeChat push answered with ${fallbackName}: the workflow had not replied within 500 ms`);
			assert.match(
				logLines(delivery)[1],
				new RegExp(`^WeChat push: the workflow's answer came \\d+ ms after the push, after ${fallbackName.replace(/[()]/g, '\\$&')} had been sent at the 500 ms deadline; it was dropped$`),
			);
			assert.equal(logLines(delivery).length, 2);
			assertNoSecrets(delivery);
		}
	});

	test('a workflow that fails, ends without items, or whose last node is not a Reply: the fallback at once, with the reason logged', async () => {
		const cases: Array<[ExecutionEnd, string]> = [
			[{ workflowFailed: true }, 'the workflow failed'],
			[{ noItems: true }, 'the workflow ended without a reply'],
			[
				{ lastNodeJson: { openid: OPENID, sent: true } },
				'the last node that ran gave no passive reply (the reply is not an object); end each branch with Message → Reply',
			],
			[
				{ lastNodeJson: replyItem({ MsgType: 'music' } as unknown as PassiveReply) },
				'the last node that ran gave no passive reply (MsgType is not text, image, voice or transfer_customer_service); end each branch with Message → Reply',
			],
			[
				{ lastNodeJson: { [PASSIVE_REPLY_FIELD]: '<xml><MsgType>text</MsgType></xml>' } },
				'the last node that ran gave no passive reply (the reply is not an object); end each branch with Message → Reply',
			],
		];
		for (const [end, why] of cases) {
			clearDeduplicationStore();
			const delivery = await deliver(pushCall(message('text'), { mode: 'safe' }, { parameters: transferFallback }));
			n8nAnswers(delivery.res, end);
			assert.equal(delivery.response.sends, 1, why);
			assert.equal(delivery.response.status, 200, why);
			assert.equal(readReply(String(delivery.response.body), 'safe').MsgType, 'transfer_customer_service', why);
			assert.deepEqual(logLines(delivery), [
				`WeChat push answered with the fallback reply (transferToCustomerService): ${why}`,
			]);
			await sleep(10);
		}
	});

	test('n8n could not run the execution: its error goes out and the push is forgotten, so the next delivery runs it', async () => {
		const call = pushCall(message('text'), { mode: 'safe' }, { parameters: FROM_WORKFLOW });
		const first = await deliver(call);
		n8nAnswers(first.res, { notRun: true });
		assert.equal(first.response.status, 500);
		assert.equal(first.response.body, 'n8n could not run the execution');
		assert.deepEqual(logLines(first), [
			"WeChat push failed: n8n could not start the execution (HTTP 500); WeChat's next delivery of this push will run it",
		]);
		const retry = await deliver(call);
		assert.equal(retry.result.workflowData?.[0]?.length, 1, 'the retry starts the execution');
		n8nAnswers(retry.res, { lastNodeJson: replyItem({ MsgType: 'text', Content: 'ok' }) });
		assert.equal(readReply(String(retry.response.body), 'safe').Content, 'ok');
	});
});

describe("Reply From Workflow: WeChat's retries", () => {
	test('a retry during the run waits for the first answer and gets it, starting nothing; a later retry gets the same', async () => {
		for (const parameters of [FROM_WORKFLOW, { ...FROM_WORKFLOW, options: { ...FROM_WORKFLOW.options, deduplicate: false } }]) {
			clearDeduplicationStore();
			const call = pushCall(message('text'), { mode: 'safe' }, { parameters });
			const first = await deliver(call);
			const retry = deliver(call);
			await sleep(50);
			n8nAnswers(first.res, { lastNodeJson: replyItem({ MsgType: 'text', Content: 'decided' }) });
			const during = await retry;
			assert.deepEqual(during.result, { noWebhookResponse: true }, 'the retry starts nothing');
			assert.equal(during.response.body, first.response.body, 'the identical answer, byte for byte');
			const after = await deliver(call);
			assert.deepEqual(after.result, { noWebhookResponse: true });
			assert.equal(after.response.body, first.response.body);
			assert.equal(readReply(String(after.response.body), 'safe').Content, 'decided');
		}
	});

	test('a retry re-signed by WeChat (new timestamp and nonce, same MsgId) during a slow run gets the fallback the first delivery got', async () => {
		const fields = message('text');
		const first = await deliver(pushCall(fields, { mode: 'safe' }, { parameters: FROM_WORKFLOW }));
		const retry = await deliver(
			pushCall(fields, { mode: 'safe', timestamp: String(Math.floor(Date.now() / 1000) + 1), nonce: '778899' }, {
				parameters: FROM_WORKFLOW,
			}),
		);
		assert.deepEqual(retry.result, { noWebhookResponse: true });
		assert.equal(retry.response.body, 'success');
		assert.ok((retry.answeredAfter() ?? 0) >= 400, 'it waited for the first delivery (deadline 500 ms)');
		assert.equal(first.response.body, 'success');
		n8nAnswers(first.res, { lastNodeJson: replyItem({ MsgType: 'text', Content: 'too late' }) });
		const later = await deliver(pushCall(fields, { mode: 'safe', nonce: '112233' }, { parameters: FROM_WORKFLOW }));
		assert.equal(later.response.body, 'success', 'the late reply did not replace the answer WeChat got');
	});
});

describe('Reply From Workflow: robustness', () => {
	test('a response the trigger cannot take over gets the fallback at once, and the execution still starts', async () => {
		const call = pushCall(message('text'), { mode: 'safe' }, { parameters: FROM_WORKFLOW });
		const { context, response, res } = createWebhookContext(call);
		Object.defineProperty(res, 'json', { value: res.json, writable: false });
		const result = await trigger.webhook.call(context);
		assert.equal(result.noWebhookResponse, true, 'n8n must not send the last node as it is');
		assert.equal(result.workflowData?.[0]?.length, 1);
		assert.equal(response.sends, 1);
		assert.equal(response.body, 'success');
		assert.match(response.logs[0]?.message ?? '', /^WeChat push answer not prepared: TypeError: /);
	});
});
