/**
 * What the queue-mode checks run: the WeChat account seeded into the emulator, the credentials (one per token source,
 * each imported without a token) and the workflows. `n8n execute` does not run in queue mode, so every workflow starts
 * the way production work reaches a worker: a Webhook node (or the WeChat trigger) called on a webhook process, which
 * puts the execution on the Redis queue for a worker to run.
 */
import { randomUUID } from 'node:crypto';

import type { CredentialInput, WorkflowJson } from '../lib/n8nInstance';
import { CREDENTIAL_TYPE, NODE_TYPE, TRIGGER_TYPE } from '../lib/packageUnderTest';
import { ENCODING_AES_KEY, PUSH_TOKEN } from '../lib/fixtures';
import { type BeijingDays, F, WAITING } from '../e2e/testData';

export const CHAT_RECORDS = 10_000;
/** Recipients of the token runs: 10 items per execution. */
export const RECIPIENTS = Array.from({ length: 10 }, (_, i) => `oQueueRecipient${String(i + 1).padStart(13, '0')}`);
export const NEW_ACCOUNT = 'queuenew@emulator_oa';

export type TokenSource = 'stable' | 'classic' | 'external';
export const TOKEN_SOURCES: TokenSource[] = ['stable', 'classic', 'external'];

/** Agents, followers (the e2e's and the recipients), a waiting queue and exactly 10,000 chat records yesterday. */
export function queueSeed(days: BeijingDays): Record<string, unknown> {
	return {
		accounts: [
			{ kf_account: 'alice@emulator_oa', kf_nick: 'Alice', kf_wx: 'alice_worker', online: true, accepted_case: 2 },
			{ kf_account: 'bob@emulator_oa', kf_nick: 'Bob', kf_wx: 'bob_worker', online: true, accepted_case: 1 },
		],
		followers: [...F, ...WAITING, ...RECIPIENTS],
		waiting: WAITING.map((openid, i) => ({ openid, latestTime: Math.floor(Date.now() / 1000) - (10 - i) * 60 })),
		chatRecords: {
			start: days.yesterdayStart + 1,
			end: days.todayStart - 2,
			count: CHAT_RECORDS,
			openids: F,
			workers: ['alice@emulator_oa', 'bob@emulator_oa'],
			seed: 12,
		},
	};
}

/** A credential per token source for the token checks, each used by nothing else; one more for everything else. */
type CredentialUse = TokenSource | 'resources';
const credentialId = (use: CredentialUse) => `queueCred${use[0].toUpperCase()}${use.slice(1)}`;
const credentialName = (use: CredentialUse) => `WeChat (emulator, ${use})`;

/** The credentials, each without a token (n8n fetches one on first use). */
export function queueCredentials(
	emulator: { baseUrl: string; appId: string; appSecret: string },
	centralTokenUrl: string,
): CredentialInput[] {
	return (['resources', ...TOKEN_SOURCES] as CredentialUse[]).map((use) => {
		const issuer: TokenSource = use === 'resources' ? 'stable' : use;
		return {
			id: credentialId(use),
			name: credentialName(use),
			type: CREDENTIAL_TYPE,
			data: {
				appId: emulator.appId,
				appSecret: issuer === 'external' ? '' : emulator.appSecret,
				issuer,
				externalTokenUrl: issuer === 'external' ? centralTokenUrl : '',
				baseUrl: emulator.baseUrl,
				token: PUSH_TOKEN,
				encodingAESKey: ENCODING_AES_KEY,
			},
		};
	});
}

type NodeJson = WorkflowJson['nodes'][number];

function weChat(
	name: string,
	parameters: Record<string, unknown>,
	use: CredentialUse = 'resources',
	extra = {},
): NodeJson {
	return {
		id: randomUUID(),
		name,
		type: NODE_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters,
		credentials: { [CREDENTIAL_TYPE]: { id: credentialId(use), name: credentialName(use) } },
		...extra,
	};
}

/** The production path of a Webhook node: POST /webhook/<path>. */
export const webhookPath = (workflowId: string) => `queue-${workflowId.toLowerCase()}`;

/** Webhook (POST, answered at once; a binary body becomes the binary property `data`) → nodes[0] → nodes[1] → … */
function fromWebhook(id: string, name: string, nodes: NodeJson[]): WorkflowJson {
	const all: NodeJson[] = [
		{
			id: randomUUID(),
			name: 'Webhook',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2,
			position: [0, 0],
			webhookId: randomUUID(),
			parameters: { httpMethod: 'POST', path: webhookPath(id), responseMode: 'onReceived', options: {} },
		},
		...nodes,
	];
	all.forEach((node, index) => (node.position = [index * 220, 0]));
	const connections: Record<string, unknown> = {};
	for (let i = 0; i < all.length - 1; i++) {
		connections[all[i].name] = { main: [[{ node: all[i + 1].name, type: 'main', index: 0 }]] };
	}
	return { id, name, nodes: all, connections, settings: { executionOrder: 'v1', timezone: 'Asia/Shanghai' } };
}

const byId = (value: string) => ({ __rl: true, mode: 'id', value });

/** The WeChat trigger alone (the execution is the trigger item), safe mode from the credential's key. */
function triggerWorkflow(
	id: string,
	name: string,
	webhookId: string,
	parameters: Record<string, unknown>,
): WorkflowJson {
	return {
		id,
		name,
		nodes: [
			{
				id: randomUUID(),
				name: 'WeChat Customer Service Trigger',
				type: TRIGGER_TYPE,
				typeVersion: 1,
				position: [0, 0],
				webhookId,
				// Queue mode: the push memory shared by the webhook processes.
				parameters: { encryption: 'safe', events: ['*'], options: { sharePushMemory: true }, ...parameters },
				credentials: { [CREDENTIAL_TYPE]: { id: credentialId('resources'), name: credentialName('resources') } },
			},
		],
		connections: {},
		settings: { executionOrder: 'v1' },
	};
}

export function queueWorkflows({ todayStart, yesterdayStart }: BeijingDays) {
	const account = fromWebhook('queueAccount', 'queue: account', [
		weChat('Create', { resource: 'account', operation: 'create', kfAccount: NEW_ACCOUNT, nickname: 'Queue 客服' }),
		weChat('Update', {
			resource: 'account',
			operation: 'update',
			kfAccount: byId(NEW_ACCOUNT),
			nickname: 'Queue Agent',
		}),
		weChat('Get Many', { resource: 'account', operation: 'getAll', returnAll: true }),
		weChat('Delete', { resource: 'account', operation: 'delete', kfAccount: byId(NEW_ACCOUNT) }, 'resources', {
			executeOnce: true,
		}),
	]);
	// The image arrives as the webhook request's body: the webhook process stores it (binary data mode `database` in
	// queue mode) and the worker reads it back to upload it.
	const message = fromWebhook('queueMessage', 'queue: message from binary', [
		// First: a node's output items do not carry their input's binary data on.
		weChat('Send Image', {
			resource: 'message',
			operation: 'send',
			openId: F[3],
			msgType: 'image',
			mediaSource: 'binary',
			binaryPropertyName: 'data',
		}),
		weChat('Typing', { resource: 'message', operation: 'typing', openId: F[3], command: 'Typing' }),
		weChat('Send Text', { resource: 'message', operation: 'send', openId: F[3], msgType: 'text', content: '队列 ✓' }),
	]);
	const session = fromWebhook('queueSession', 'queue: session', [
		weChat('Create', {
			resource: 'session',
			operation: 'create',
			openId: F[4],
			agentSelection: 'specific',
			kfAccount: byId('alice@emulator_oa'),
		}),
		weChat('Get', { resource: 'session', operation: 'get', openId: F[4] }),
		weChat('Get Many', {
			resource: 'session',
			operation: 'getAll',
			kfAccount: byId('alice@emulator_oa'),
			returnAll: true,
		}),
		weChat('Close', { resource: 'session', operation: 'close', openId: F[4], kfAccount: byId('alice@emulator_oa') }),
		weChat('Get Waiting', { resource: 'session', operation: 'getWaiting', returnAll: true }),
	]);
	const chatRecord = fromWebhook('queueChatRecord', 'queue: chat export', [
		weChat('Export', {
			resource: 'chatRecord',
			operation: 'getAll',
			startTime: String(yesterdayStart),
			endTime: String(todayStart),
			returnAll: true,
		}),
	]);
	// 10 items per execution: the request body's recipients, one item each, sent a text.
	const bulk = (source: TokenSource) =>
		fromWebhook(`queueBulk${source[0].toUpperCase()}${source.slice(1)}`, `queue: bulk send (${source})`, [
			{
				id: randomUUID(),
				name: 'Split Out',
				type: 'n8n-nodes-base.splitOut',
				typeVersion: 1,
				position: [0, 0],
				parameters: { fieldToSplitOut: 'body.recipients', include: 'noOtherFields', options: {} },
			},
			weChat(
				'Send',
				{
					resource: 'message',
					operation: 'send',
					openIdSource: 'inputField',
					openIdInputField: 'openid',
					msgType: 'text',
					content: 'queue bulk',
				},
				source,
			),
		]);
	const bulkWorkflows = Object.fromEntries(TOKEN_SOURCES.map((source) => [source, bulk(source)])) as Record<
		TokenSource,
		WorkflowJson
	>;
	const push = triggerWorkflow('queuePush', 'queue: push', 'a0000000-0000-4000-8000-00000000a001', {
		reply: 'success',
	});
	const transfer = triggerWorkflow('queueTransfer', 'queue: transfer reply', 'a0000000-0000-4000-8000-00000000a002', {
		reply: 'transferToCustomerService',
		kfAccount: 'alice@emulator_oa',
	});
	return { account, message, session, chatRecord, bulk: bulkWorkflows, push, transfer };
}

export type QueueWorkflows = ReturnType<typeof queueWorkflows>;
