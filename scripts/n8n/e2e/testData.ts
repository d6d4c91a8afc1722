/**
 * What the e2e checks run against, beside the shipped examples: the WeChat account seeded into the emulator (agents,
 * followers, a waiting queue, a day of chat records with records on its edges) and the workflows built for the checks,
 * each a Manual Trigger and a chain of nodes.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

import { CREDENTIAL_ID, CREDENTIAL_NAME, type ExampleName, headlessCopy } from '../lib/fixtures';
import type { WorkflowJson } from '../lib/n8nInstance';
import { CREDENTIAL_TYPE, NODE_TYPE, TRIGGER_TYPE } from '../lib/packageUnderTest';
import { subscribeEvent, textMessage } from '../lib/pushes';

export const F = Array.from({ length: 8 }, (_, i) => `oE2eFollower${String(i + 1).padStart(16, '0')}`);
export const WAITING = Array.from({ length: 4 }, (_, i) => `oE2eWaiting${String(i + 1).padStart(17, '0')}`);
export const NEW_ACCOUNT = 'e2enew@emulator_oa';
/**
 * A second credential, the emulator's but with its AppID an expression over the item ({{ $json.appid }}), as n8n lets
 * a user write any credential field: n8n resolves it for each item (getCredentials with that item's index).
 */
export const ITEM_CREDENTIAL = { id: 'e2eItemCredential', name: 'e2e: AppID mapped from the item' };
/** An AppID the emulator does not know: WeChat answers 40013 (invalid appid) for its token. */
export const UNKNOWN_APPID = 'wx_e2e_unknown_account';
export const JPEG = Buffer.concat([
	Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'),
	Buffer.alloc(2048, 0x20),
	Buffer.from('ffd9', 'hex'),
]);
export const BULK_YESTERDAY = 12_000;

export interface BeijingDays {
	todayStart: number;
	yesterdayStart: number;
	/** Yesterday as YYYY-MM-DD. */
	day: string;
}

/** The media_ids the media-archive check seeds: a follower's picture and voice note. */
export const ARCHIVE_MEDIA = {
	image: 'e2eArchiveImage_0000000000000000000000000000000000000000000000000',
	voice: 'e2eArchiveVoice_0000000000000000000000000000000000000000000000000',
} as const;

/** An image or voice message push as the trigger outputs it (WeChat's field names, string values). */
function mediaMessage(kind: 'image' | 'voice', mediaId: string): Record<string, string> {
	return {
		ToUserName: 'gh_e2e_account',
		FromUserName: F[4],
		CreateTime: '1764150000',
		MsgType: kind,
		MediaId: mediaId,
		...(kind === 'image' ? { PicUrl: 'http://mmbiz.qpic.cn/e2e' } : { Format: 'amr' }),
		MsgId: kind === 'image' ? '24967187623118001' : '24967187623118002',
	};
}

/** Midnight (Beijing) of today and yesterday, in Unix seconds. */
export function beijingDays(): BeijingDays {
	const now = Math.floor(Date.now() / 1000);
	const todayStart = Math.floor((now + 8 * 3600) / 86400) * 86400 - 8 * 3600;
	const yesterdayStart = todayStart - 86400;
	const day = new Date((yesterdayStart + 8 * 3600) * 1000).toISOString().slice(0, 10);
	return { todayStart, yesterdayStart, day };
}

/** Records of yesterday (Beijing) on its edges: the second before and the start of today must stay out. */
export function boundaryRecords({ todayStart, yesterdayStart }: BeijingDays) {
	return [
		{ openid: F[0], opercode: 2002, text: 'before yesterday', time: yesterdayStart - 1, worker: 'alice@emulator_oa' },
		{
			openid: F[0],
			opercode: 2002,
			text: 'first second of yesterday',
			time: yesterdayStart,
			worker: 'alice@emulator_oa',
		},
		{
			openid: F[1],
			opercode: 2003,
			text: 'noon, "quoted", with a comma',
			time: yesterdayStart + 4 * 3600,
			worker: 'bob@emulator_oa',
		},
		{ openid: F[1], opercode: 2003, text: 'last second of yesterday', time: todayStart - 1, worker: 'bob@emulator_oa' },
		{ openid: F[2], opercode: 2002, text: 'first second of today', time: todayStart, worker: 'alice@emulator_oa' },
	];
}

/** Agents (Alice 2 open sessions, Bob 1, Carol offline), followers, a waiting queue and yesterday's records. */
export function accountSeed(days: BeijingDays): Record<string, unknown> {
	return {
		accounts: [
			{ kf_account: 'alice@emulator_oa', kf_nick: 'Alice', kf_wx: 'alice_worker', online: true, accepted_case: 2 },
			{ kf_account: 'bob@emulator_oa', kf_nick: 'Bob', kf_wx: 'bob_worker', online: true, accepted_case: 1 },
			{ kf_account: 'carol@emulator_oa', kf_nick: 'Carol', kf_wx: 'carol_worker', online: false },
		],
		followers: [...F, ...WAITING],
		waiting: WAITING.map((openid, i) => ({ openid, latestTime: Math.floor(Date.now() / 1000) - (10 - i) * 60 })),
		chatRecords: {
			start: days.yesterdayStart + 1,
			end: days.todayStart - 2,
			count: BULK_YESTERDAY,
			openids: F,
			workers: ['alice@emulator_oa', 'bob@emulator_oa'],
			seed: 11,
		},
		records: boundaryRecords(days),
	};
}

type NodeJson = WorkflowJson['nodes'][number];

const credentialRef = { [CREDENTIAL_TYPE]: { id: CREDENTIAL_ID, name: CREDENTIAL_NAME } };

function weChat(name: string, parameters: Record<string, unknown>, extra: Record<string, unknown> = {}): NodeJson {
	return {
		id: randomUUID(),
		name,
		type: NODE_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters,
		credentials: credentialRef,
		...extra,
	};
}

/** A Set node holding `items` and a Split Out node after it: the next node gets one input item per entry. */
function oneItemEach(name: string, items: Array<Record<string, string>>): NodeJson[] {
	return [
		{
			id: randomUUID(),
			name,
			type: 'n8n-nodes-base.set',
			typeVersion: 3.4,
			position: [0, 0],
			parameters: { mode: 'raw', jsonOutput: JSON.stringify({ sends: items }), options: {} },
		},
		{
			id: randomUUID(),
			name: 'One Item Each',
			type: 'n8n-nodes-base.splitOut',
			typeVersion: 1,
			position: [0, 0],
			parameters: { fieldToSplitOut: 'sends', options: {} },
		},
	];
}

function readFile(name: string, filePath: string): NodeJson {
	return {
		id: randomUUID(),
		name,
		type: 'n8n-nodes-base.readWriteFile',
		typeVersion: 1,
		position: [0, 0],
		parameters: { fileSelector: filePath, options: {} },
	};
}

/** Manual Trigger → nodes[0] → nodes[1] → … */
function chain(id: string, name: string, nodes: NodeJson[]): WorkflowJson {
	const all: NodeJson[] = [
		{
			id: randomUUID(),
			name: 'Start',
			type: 'n8n-nodes-base.manualTrigger',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
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

function nonLoopbackIpv4(): string | undefined {
	for (const addresses of Object.values(os.networkInterfaces())) {
		for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
	}
	return undefined;
}

/** The workflows of the checks; a guard control, one per resource, failure cases, headless examples, a reply. */
export function checkWorkflows(
	filesDir: string,
	{ todayStart, yesterdayStart }: BeijingDays,
	examples: Record<ExampleName, WorkflowJson>,
	appId: string,
	apiBaseUrl: string,
) {
	const control = nonLoopbackIpv4() ?? 'guard-control.invalid';
	const guard = chain('e2eGuardControl', 'e2e: loopback guard control', [
		{
			id: randomUUID(),
			name: 'Request Outside',
			type: 'n8n-nodes-base.httpRequest',
			typeVersion: 4.2,
			position: [0, 0],
			onError: 'continueRegularOutput',
			parameters: { url: `http://${control}:9/e2e-guard-control`, options: { timeout: 5000 } },
		},
	]);
	const account = chain('e2eAccount', 'e2e: account', [
		weChat('Create', { resource: 'account', operation: 'create', kfAccount: NEW_ACCOUNT, nickname: 'E2E 客服' }),
		weChat('Update', {
			resource: 'account',
			operation: 'update',
			kfAccount: byId(NEW_ACCOUNT),
			nickname: 'E2E Agent',
		}),
		weChat('Invite', {
			resource: 'account',
			operation: 'invite',
			kfAccount: byId(NEW_ACCOUNT),
			inviteWx: 'e2e_worker_01',
		}),
		readFile('Read Avatar', path.join(filesDir, 'avatar.jpg')),
		weChat('Set Avatar', {
			resource: 'account',
			operation: 'setAvatar',
			kfAccount: byId(NEW_ACCOUNT),
			binaryPropertyName: 'data',
		}),
		weChat('Get Many', { resource: 'account', operation: 'getAll', returnAll: true }),
		weChat('Get Online', { resource: 'account', operation: 'getOnline', returnAll: true }, { executeOnce: true }),
		weChat('Delete', { resource: 'account', operation: 'delete', kfAccount: byId(NEW_ACCOUNT) }, { executeOnce: true }),
	]);
	const message = chain('e2eMessage', 'e2e: message', [
		weChat('Typing', { resource: 'message', operation: 'typing', openId: F[3], command: 'Typing' }),
		weChat('Send Text', {
			resource: 'message',
			operation: 'send',
			openId: F[3],
			msgType: 'text',
			content: '你好 from the real n8n ✓',
			additionalFields: { kfAccount: byId('alice@emulator_oa') },
		}),
		readFile('Read Photo', path.join(filesDir, 'photo.jpg')),
		weChat('Send Image', {
			resource: 'message',
			operation: 'send',
			openId: F[3],
			msgType: 'image',
			mediaSource: 'binary',
			binaryPropertyName: 'data',
		}),
		weChat('Send News', {
			resource: 'message',
			operation: 'send',
			openId: F[3],
			msgType: 'news',
			title: 'Order shipped',
			description: 'Tap for tracking',
			url: 'https://example.com/track/1',
			picUrl: 'https://example.com/p.jpg',
		}),
		weChat('Send Menu', {
			resource: 'message',
			operation: 'send',
			openId: F[3],
			msgType: 'msgmenu',
			headContent: 'Satisfied?',
			menuItems: {
				item: [
					{ id: '101', content: 'Yes' },
					{ id: '102', content: 'No' },
				],
			},
			tailContent: 'Thanks',
		}),
	]);
	const session = chain('e2eSession', 'e2e: session', [
		weChat(
			'Create',
			{
				resource: 'session',
				operation: 'create',
				openId: F[4],
				agentSelection: 'specific',
				kfAccount: byId('carol@emulator_oa'),
			},
			{ onError: 'continueRegularOutput' },
		),
		weChat('Create With Alice', {
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
		weChat(
			'Create Least Loaded',
			{ resource: 'session', operation: 'create', openId: WAITING[0], agentSelection: 'leastLoaded' },
			{ executeOnce: true },
		),
		weChat('Close', {
			resource: 'session',
			operation: 'close',
			openId: F[4],
			kfAccount: byId('alice@emulator_oa'),
		}),
		weChat('Get Waiting', { resource: 'session', operation: 'getWaiting', returnAll: true }),
	]);
	const chatRecord = chain('e2eChatRecord', 'e2e: chat records', [
		weChat('Get Many All', {
			resource: 'chatRecord',
			operation: 'getAll',
			startTime: `={{ DateTime.fromSeconds(${yesterdayStart - 3600}).toISO() }}`,
			endTime: `={{ DateTime.fromSeconds(${todayStart + 3600}).toISO() }}`,
			returnAll: true,
		}),
		weChat(
			'Get Many Limit',
			{
				resource: 'chatRecord',
				operation: 'getAll',
				startTime: String(yesterdayStart),
				endTime: String(todayStart),
				returnAll: false,
				limit: 25,
			},
			{ executeOnce: true },
		),
	]);
	const error = chain('e2eWeChatError', 'e2e: WeChat error', [
		weChat('Send To Stranger', {
			resource: 'message',
			operation: 'send',
			openId: 'oE2eNotAFollower000000000000',
			msgType: 'text',
			content: 'hello?',
		}),
	]);
	const credentialPerItem = chain('e2eCredentialPerItem', 'e2e: credential resolved per item', [
		...oneItemEach('Two Accounts', [
			{ openid: F[3], appid: appId },
			{ openid: F[3], appid: UNKNOWN_APPID },
		]),
		weChat(
			'Send Per Account',
			{ resource: 'message', operation: 'send', openId: '={{ $json.openid }}', msgType: 'text', content: 'per item' },
			{
				credentials: { [CREDENTIAL_TYPE]: ITEM_CREDENTIAL },
				onError: 'continueRegularOutput',
			},
		),
	]);
	// Options → Same Credential for Every Item: three sends that share one read of the shared credential.
	const sameCredential = chain('e2eSameCredential', 'e2e: same credential for every item', [
		...oneItemEach('Three Followers', [F[2], F[3], F[4]].map((openid) => ({ openid }))),
		weChat('Send Sharing The Credential', {
			resource: 'message',
			operation: 'send',
			openIdSource: 'inputField',
			openIdInputField: 'openid',
			msgType: 'text',
			content: 'one credential read',
			requestOptions: { sameCredentialForEveryItem: true },
		}),
	]);
	// n8n's HTTP Request node authenticating with this package's credential (Authentication = Predefined Credential
	// Type), as a user does for an API the node does not cover: n8n calls the credential's authenticate with the older
	// request-library options (the address in `uri`).
	const httpRequestNode = chain('e2eHttpRequestNode', "e2e: n8n's HTTP Request node with the WeChat credential", [
		...oneItemEach('Two Followers', [F[2], F[3]].map((openid) => ({ openid }))),
		{
			id: randomUUID(),
			name: 'HTTP Request',
			type: 'n8n-nodes-base.httpRequest',
			typeVersion: 4.2,
			position: [0, 0],
			parameters: {
				method: 'POST',
				url: `${apiBaseUrl}/cgi-bin/message/custom/send`,
				authentication: 'predefinedCredentialType',
				nodeCredentialType: CREDENTIAL_TYPE,
				sendBody: true,
				specifyBody: 'json',
				jsonBody: '={"touser":"{{ $json.openid }}","msgtype":"text","text":{"content":"from the HTTP Request node"}}',
				options: {},
			},
			credentials: credentialRef,
		},
	]);
	const token = chain('e2eTokenRevoked', 'e2e: token revoked mid-run', [
		weChat('Get Many', { resource: 'account', operation: 'getAll', returnAll: true }),
	]);
	const escalationHeadless = headlessCopy(
		examples.escalation,
		'e2eEscalationHeadless',
		textMessage(F[5], '请帮我转人工客服'),
	);
	const welcomeHeadless = headlessCopy(examples.welcome, 'e2eWelcomeHeadless', subscribeEvent(F[6]));
	const archiveImageHeadless = headlessCopy(
		examples['archive-user-media'],
		'e2eArchiveImage',
		mediaMessage('image', ARCHIVE_MEDIA.image),
	);
	const archiveVoiceHeadless = headlessCopy(
		examples['archive-user-media'],
		'e2eArchiveVoice',
		mediaMessage('voice', ARCHIVE_MEDIA.voice),
	);
	// A second trigger workflow: hands every user message to Alice through the passive reply.
	const transfer = structuredClone(examples.escalation);
	transfer.id = 'e2eTransferReply';
	transfer.name = 'e2e: transfer_customer_service reply';
	transfer.nodes = transfer.nodes.filter((node) => node.type === TRIGGER_TYPE);
	transfer.nodes[0].webhookId = 'e2e00000-0000-4000-8000-00000000feed';
	transfer.nodes[0].parameters = {
		events: ['text'],
		reply: 'transferToCustomerService',
		kfAccount: 'alice@emulator_oa',
		options: {},
	};
	transfer.connections = {};
	return {
		guard,
		account,
		message,
		session,
		chatRecord,
		error,
		credentialPerItem,
		sameCredential,
		httpRequestNode,
		token,
		escalationHeadless,
		welcomeHeadless,
		archiveImageHeadless,
		archiveVoiceHeadless,
		transfer,
	};
}
