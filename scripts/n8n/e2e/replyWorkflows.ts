/**
 * The workflows of the "reply from workflow" checks (replyChecks.ts): triggers with Reply = From Workflow whose
 * branches end in Message → Reply. One workflow per trigger setting, its branch chosen by the push's text, so that
 * every reply type is checked in every mode and format without a workflow (and an n8n restart) per case.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';

import { CREDENTIAL_ID, CREDENTIAL_NAME } from '../lib/fixtures';
import type { WorkflowJson } from '../lib/n8nInstance';
import { CREDENTIAL_TYPE, NODE_TYPE, TRIGGER_TYPE } from '../lib/packageUnderTest';

type NodeJson = WorkflowJson['nodes'][number];

/** The push texts that pick a branch of the routing workflows, in the order of the Switch node's outputs. */
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
/** The slow workflows' Reply Deadline; their Wait is well past it, their answer must still be well within 5 s. */
export const SHORT_DEADLINE_MS = 1000;

const credentials = { [CREDENTIAL_TYPE]: { id: CREDENTIAL_ID, name: CREDENTIAL_NAME } };

function node(name: string, type: string, typeVersion: number, parameters: Record<string, unknown>): NodeJson {
	return { id: randomUUID(), name, type, typeVersion, position: [0, 0], parameters };
}

function reply(name: string, parameters: Record<string, unknown>): NodeJson {
	return { ...node(name, NODE_TYPE, 1, { resource: 'message', operation: 'reply', ...parameters }), credentials };
}

function trigger(
	webhookId: string,
	encryption: 'auto' | 'plaintext',
	options: { fallbackReply?: 'success' | 'transferToCustomerService'; replyDeadline?: number },
): NodeJson {
	return {
		...node('WeChat Customer Service Trigger', TRIGGER_TYPE, 1.1, {
			encryption,
			events: ['text'],
			reply: 'fromWorkflow',
			options,
		}),
		webhookId,
		credentials,
	};
}

function workflow(id: string, name: string, nodes: NodeJson[], links: Array<[string, string, number?]>): WorkflowJson {
	const connections: Record<string, { main: Array<Array<{ node: string; type: 'main'; index: 0 }>> }> = {};
	for (const [from, to, output = 0] of links) {
		const main = (connections[from] ??= { main: [] }).main;
		while (main.length <= output) main.push([]);
		main[output].push({ node: to, type: 'main', index: 0 });
	}
	nodes.forEach((entry, index) => (entry.position = [index * 220, 0]));
	return { id, name, nodes, connections, settings: { executionOrder: 'v1', timezone: 'Asia/Shanghai' } };
}

/** Trigger → Switch on the push's text → one branch per route, all but "no reply" and "fail" ending in a Reply. */
function routingWorkflow(
	id: string,
	webhookId: string,
	encryption: 'auto' | 'plaintext',
	fallbackReply: 'default' | 'transferToCustomerService',
	filesDir: string,
): WorkflowJson {
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
		slow: [
			node('Wait a Second', 'n8n-nodes-base.wait', 1.1, { resume: 'timeInterval', amount: 1, unit: 'seconds' }),
			reply('Reply After a Second', { replyType: 'text', content: AFTER_A_SECOND_TEXT }),
		],
	};
	const route = node('Route by Content', 'n8n-nodes-base.switch', 3.2, {
		mode: 'expression',
		numberOutputs: ROUTES.length,
		output: `={{ ${JSON.stringify(ROUTES)}.indexOf($json.Content) }}`,
	});
	const nodes = [trigger(webhookId, encryption, fallbackReply === 'default' ? {} : { fallbackReply }), route];
	const links: Array<[string, string, number?]> = [['WeChat Customer Service Trigger', route.name]];
	ROUTES.forEach((name, output) => {
		const chain = branches[name];
		nodes.push(...chain);
		links.push([route.name, chain[0].name, output]);
		for (let i = 1; i < chain.length; i++) links.push([chain[i - 1].name, chain[i].name]);
	});
	return workflow(id, `e2e: reply from workflow (${encryption}, fallback ${fallbackReply})`, nodes, links);
}

/** Trigger with a 1-second deadline → Wait 2.5 s → Reply: the fallback answers, the Reply comes too late. */
function slowWorkflow(
	id: string,
	webhookId: string,
	fallbackReply: 'success' | 'transferToCustomerService',
): WorkflowJson {
	const nodes = [
		trigger(webhookId, 'auto', { fallbackReply, replyDeadline: SHORT_DEADLINE_MS }),
		node('Wait 2.5 Seconds', 'n8n-nodes-base.wait', 1.1, { resume: 'timeInterval', amount: 2.5, unit: 'seconds' }),
		reply('Reply Too Late', { replyType: 'text', content: LATE_TEXT }),
	];
	return workflow(id, `e2e: slow workflow, fallback ${fallbackReply}`, nodes, [
		['WeChat Customer Service Trigger', 'Wait 2.5 Seconds'],
		['Wait 2.5 Seconds', 'Reply Too Late'],
	]);
}

/**
 * Ids of at most 16 characters (n8n 1.x's rule for workflow ids, see docs/incremental-export.md). The encrypted
 * workflow keeps the trigger's default options (fallback success, deadline 4 s), the plaintext one falls back to a
 * transfer, so that "no reply" and "fail" check both fallbacks.
 */
export function replyWorkflows(filesDir: string) {
	return {
		encrypted: routingWorkflow('e2eReplyAes', 'e2e00000-0000-4000-8000-0000000a0001', 'auto', 'default', filesDir),
		plaintext: routingWorkflow(
			'e2eReplyPlain',
			'e2e00000-0000-4000-8000-0000000a0002',
			'plaintext',
			'transferToCustomerService',
			filesDir,
		),
		slowSuccess: slowWorkflow('e2eSlowSuccess', 'e2e00000-0000-4000-8000-0000000a0003', 'success'),
		slowTransfer: slowWorkflow('e2eSlowTransfer', 'e2e00000-0000-4000-8000-0000000a0004', 'transferToCustomerService'),
	};
}
