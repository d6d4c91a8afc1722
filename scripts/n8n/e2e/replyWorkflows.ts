/**
 * The workflow of the "reply from workflow" checks (replyChecks.ts): WeChat triggers with Reply = From Workflow whose
 * branches end in Message → Reply. One workflow with four triggers, each on a URL of its own: a trigger accepts
 * either plaintext or encrypted pushes, and Fallback Reply and Reply Deadline are per trigger. One workflow costs one
 * `n8n publish` before n8n starts; an execution runs only what follows the trigger that received its push, and n8n
 * answers with the last node of that run.
 *
 * - Plaintext Trigger, Encrypted Trigger → Route by Content: the push's text picks the branch, so every reply type
 *   is checked in every mode and format. The plaintext one falls back to a transfer, the encrypted one keeps the
 *   default options (success, 4 s), so that "no reply" and "fail" check both fallbacks.
 * - Slow Trigger (Fallback Success / Transfer), Reply Deadline 1 s → Wait 2.5 s → a Reply that comes too late.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';

import { CREDENTIAL_ID, CREDENTIAL_NAME } from '../lib/fixtures';
import type { WorkflowJson } from '../lib/n8nInstance';
import { CREDENTIAL_TYPE, NODE_TYPE, TRIGGER_TYPE } from '../lib/packageUnderTest';

type NodeJson = WorkflowJson['nodes'][number];

/** The push texts that pick a branch after Route by Content, in the order of the Switch node's outputs. */
export const ROUTES = [
	'text',
	'image',
	'voice',
	'transfer to alice',
	'transfer',
	'image from binary',
	'no reply',
	'fail',
	'slow',
] as const;
export type Route = (typeof ROUTES)[number];

/** What the branches reply: characters XML must escape, Chinese, an emoji and a line break, compared exactly. */
export const REPLY_TEXT = 'Passive reply <b>&amp;</b> "quoted" — 您好，已收到 ✓\nsecond line';
export const LATE_TEXT = 'This reply comes after the deadline';
export const AFTER_A_SECOND_TEXT = 'Replied after a second, within the deadline';
export const REPLY_MEDIA = { image: 'e2eReplyImage_0000000000000001', voice: 'e2eReplyVoice_0000000000000001' };
export const AGENT = 'alice@emulator_oa';
/** The slow triggers' Reply Deadline; their Wait is well past it, their answer must still be well within 5 s. */
export const SHORT_DEADLINE_MS = 1000;
export const SLOW_WAIT_SECONDS = 2.5;

/** The webhook ids of the four triggers: each is a URL of its own (triggerUrl in fixtures.ts). */
export const REPLY_TRIGGERS = {
	plaintext: { name: 'Plaintext Trigger', webhookId: 'e2e00000-0000-4000-8000-0000000a0001' },
	encrypted: { name: 'Encrypted Trigger', webhookId: 'e2e00000-0000-4000-8000-0000000a0002' },
	slowSuccess: { name: 'Slow Trigger, Fallback Success', webhookId: 'e2e00000-0000-4000-8000-0000000a0003' },
	slowTransfer: { name: 'Slow Trigger, Fallback Transfer', webhookId: 'e2e00000-0000-4000-8000-0000000a0004' },
} as const;
export type ReplyTrigger = keyof typeof REPLY_TRIGGERS;

const credentials = { [CREDENTIAL_TYPE]: { id: CREDENTIAL_ID, name: CREDENTIAL_NAME } };

function node(name: string, type: string, typeVersion: number, parameters: Record<string, unknown>): NodeJson {
	return { id: randomUUID(), name, type, typeVersion, position: [0, 0], parameters };
}

function reply(name: string, parameters: Record<string, unknown>): NodeJson {
	return { ...node(name, NODE_TYPE, 1, { resource: 'message', operation: 'reply', ...parameters }), credentials };
}

function trigger(
	which: ReplyTrigger,
	encryption: 'auto' | 'plaintext',
	options: { fallbackReply?: 'transferToCustomerService'; replyDeadline?: number },
): NodeJson {
	const { name, webhookId } = REPLY_TRIGGERS[which];
	return {
		...node(name, TRIGGER_TYPE, 1.1, { encryption, events: ['text'], reply: 'fromWorkflow', options }),
		webhookId,
		credentials,
	};
}

function wait(name: string, seconds: number): NodeJson {
	return node(name, 'n8n-nodes-base.wait', 1.1, { resume: 'timeInterval', amount: seconds, unit: 'seconds' });
}

/**
 * Id of at most 16 characters (n8n 1.x's rule for workflow ids, see docs/incremental-export.md); `filesDir` holds
 * photo.jpg, the file the "image from binary" branch uploads.
 */
export function replyWorkflow(filesDir: string): WorkflowJson {
	const branches: Record<Route, NodeJson[]> = {
		text: [reply('Reply Text', { replyType: 'text', content: REPLY_TEXT })],
		image: [reply('Reply Image', { replyType: 'image', mediaSource: 'mediaId', mediaId: REPLY_MEDIA.image })],
		voice: [reply('Reply Voice', { replyType: 'voice', mediaSource: 'mediaId', mediaId: REPLY_MEDIA.voice })],
		'transfer to alice': [
			reply('Reply Transfer to Alice', {
				replyType: 'transferToCustomerService',
				kfAccount: { __rl: true, mode: 'id', value: AGENT },
			}),
		],
		transfer: [reply('Reply Transfer', { replyType: 'transferToCustomerService' })],
		'image from binary': [
			node('Read Photo', 'n8n-nodes-base.readWriteFile', 1, {
				fileSelector: path.join(filesDir, 'photo.jpg'),
				options: {},
			}),
			reply('Reply Image From Binary', { replyType: 'image', mediaSource: 'binary', binaryPropertyName: 'data' }),
		],
		'no reply': [node('Not a Reply', 'n8n-nodes-base.noOp', 1, {})],
		fail: [
			node('Fail', 'n8n-nodes-base.stopAndError', 1, {
				errorType: 'errorMessage',
				errorMessage: 'e2e: this workflow fails on purpose',
			}),
		],
		slow: [wait('Wait a Second', 1), reply('Reply After a Second', { replyType: 'text', content: AFTER_A_SECOND_TEXT })],
	};
	const route = node('Route by Content', 'n8n-nodes-base.switch', 3.2, {
		mode: 'expression',
		numberOutputs: ROUTES.length,
		output: `={{ ${JSON.stringify(ROUTES)}.indexOf($json.Content) }}`,
	});
	const slowWait = wait('Wait Past the Deadline', SLOW_WAIT_SECONDS);
	const lateReply = reply('Reply Too Late', { replyType: 'text', content: LATE_TEXT });
	const nodes: NodeJson[] = [
		trigger('plaintext', 'plaintext', { fallbackReply: 'transferToCustomerService' }),
		trigger('encrypted', 'auto', {}),
		trigger('slowSuccess', 'auto', { replyDeadline: SHORT_DEADLINE_MS }),
		trigger('slowTransfer', 'auto', { fallbackReply: 'transferToCustomerService', replyDeadline: SHORT_DEADLINE_MS }),
		route,
		slowWait,
		lateReply,
	];
	const links: Array<[string, string, number?]> = [
		[REPLY_TRIGGERS.plaintext.name, route.name],
		[REPLY_TRIGGERS.encrypted.name, route.name],
		[REPLY_TRIGGERS.slowSuccess.name, slowWait.name],
		[REPLY_TRIGGERS.slowTransfer.name, slowWait.name],
		[slowWait.name, lateReply.name],
	];
	ROUTES.forEach((name, output) => {
		const chain = branches[name];
		nodes.push(...chain);
		links.push([route.name, chain[0].name, output]);
		for (let i = 1; i < chain.length; i++) links.push([chain[i - 1].name, chain[i].name]);
	});

	const connections: Record<string, { main: Array<Array<{ node: string; type: 'main'; index: 0 }>> }> = {};
	for (const [from, to, output = 0] of links) {
		const main = (connections[from] ??= { main: [] }).main;
		while (main.length <= output) main.push([]);
		main[output].push({ node: to, type: 'main', index: 0 });
	}
	nodes.forEach((entry, index) => (entry.position = [(index % 8) * 220, Math.floor(index / 8) * 200]));
	return {
		id: 'e2eReplyFromFlow',
		name: 'e2e: reply from workflow (four triggers)',
		nodes,
		connections,
		settings: { executionOrder: 'v1', timezone: 'Asia/Shanghai' },
	};
}
