/**
 * `npm run test:e2e`: the package judged by the real n8n (2.41.0 by default; `N8N_VERSION=1.123.81` or
 * `--n8n-version 1.123.81` for the last 1.x). The package is built, packed and installed as n8n's community-package
 * installer does; workflows run through `n8n execute`, and the trigger through `n8n start` with pushes delivered as
 * WeChat delivers them. Every assertion reads what n8n produced (its execution output, its stored executions) and
 * what reached "WeChat" (the emulator's request log).
 *
 * Leaving loopback is checked two ways: scripts/n8n/netGuard.cjs inside every n8n process records (and refuses) any
 * connection, DNS lookup or datagram to a non-loopback address — a positive control proves it catches a deliberate one
 * from a workflow — and while `n8n start` runs, the sockets of its whole process tree (task runner included) are
 * sampled from /proc for remote addresses outside 127.0.0.0/8.
 *
 * Prints one line per check and a closing `e2e: N passed, M failed`; exits 1 on any failure. Every wait is bounded,
 * and a watchdog ends the run after 25 minutes.
 */
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { messageSignature, plainSignature } from '../../test/emulator/pushCrypto';
import { buildHandshake, buildPush, decryptReply, toXml as buildPushXml, xmlField } from '../../test/emulator/pushSender';
import {
	configuredExamples,
	executionData,
	executions,
	type ExampleName,
	headlessCopy,
	OFFICIAL_ACCOUNT,
	push,
	subscribeEvent,
	textMessage,
	TRIGGER_NODE,
	triggerUrl,
	waitForExecutions,
} from './examples';
import {
	buildAndPack,
	CREDENTIAL_ID,
	CREDENTIAL_NAME,
	CREDENTIAL_TYPE,
	ENCODING_AES_KEY,
	emulatorCredential,
	ensureN8n,
	type EmulatorProcess,
	type ExecutionOutput,
	fetchWithTimeout,
	installSignalHandlers,
	type LoggedApiRequest,
	N8nInstance,
	n8nVersionFrom,
	NODE_TYPE,
	nonLoopbackSocketsOf,
	PUSH_TOKEN,
	shutdown,
	sleep,
	startEmulator,
	startReceiver,
	TRIGGER_TYPE,
	waitFor,
	type WorkflowJson,
} from './runN8n';

const WATCHDOG_MS = 25 * 60_000;

// ---------------------------------------------------------------------------------------------------------------
// Reporting

const results: Array<{ name: string; ok: boolean; detail?: string }> = [];

async function check(name: string, body: () => Promise<void>): Promise<boolean> {
	const startedAt = Date.now();
	try {
		await body();
		results.push({ name, ok: true });
		process.stdout.write(`ok   ${name} (${((Date.now() - startedAt) / 1000).toFixed(1)} s)\n`);
		return true;
	} catch (error) {
		const detail = error instanceof Error ? error.message : String(error);
		results.push({ name, ok: false, detail });
		process.stdout.write(`FAIL ${name}\n     ${detail.split('\n').slice(0, 12).join('\n     ')}\n`);
		return false;
	}
}

function finish(extra: string[] = []): never {
	const passed = results.filter((result) => result.ok).length;
	const failed = results.length - passed;
	for (const line of extra) process.stdout.write(`${line}\n`);
	process.stdout.write(`e2e: ${passed} passed, ${failed} failed\n`);
	process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Workflows built for the checks: a Manual Trigger and a chain of nodes

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

// ---------------------------------------------------------------------------------------------------------------
// Data the checks seed into the emulator

const F = Array.from({ length: 8 }, (_, i) => `oE2eFollower${String(i + 1).padStart(16, '0')}`);
const WAITING = Array.from({ length: 4 }, (_, i) => `oE2eWaiting${String(i + 1).padStart(17, '0')}`);
const NEW_ACCOUNT = 'e2enew@emulator_oa';
const JPEG = Buffer.concat([
	Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'),
	Buffer.alloc(2048, 0x20),
	Buffer.from('ffd9', 'hex'),
]);
const BULK_YESTERDAY = 12_000;

/** Midnight (Beijing) of today and yesterday, in Unix seconds. */
function beijingDays(): { todayStart: number; yesterdayStart: number; day: string } {
	const now = Math.floor(Date.now() / 1000);
	const todayStart = Math.floor((now + 8 * 3600) / 86400) * 86400 - 8 * 3600;
	const yesterdayStart = todayStart - 86400;
	const day = new Date((yesterdayStart + 8 * 3600) * 1000).toISOString().slice(0, 10);
	return { todayStart, yesterdayStart, day };
}

async function apiLog(emulator: EmulatorProcess): Promise<LoggedApiRequest[]> {
	return (await emulator.admin<{ requests: LoggedApiRequest[] }>('log')).requests;
}

function isToken(request: LoggedApiRequest): boolean {
	return request.path === '/cgi-bin/token' || request.path === '/cgi-bin/stable_token';
}

function succeeded(output: ExecutionOutput, what: string): void {
	if (output.error) {
		throw new Error(
			`${what} failed in n8n: ${output.error.message}${output.error.node ? ` (node ${output.error.node})` : ''}${output.error.description ? ` — ${output.error.description}` : ''}`,
		);
	}
}

/** Runs `n8n execute` and returns the output with the emulator requests it caused. */
async function executeLogged(
	n8n: N8nInstance,
	emulator: EmulatorProcess,
	workflowId: string,
): Promise<{ output: ExecutionOutput; calls: LoggedApiRequest[] }> {
	const before = (await apiLog(emulator)).length;
	const output = await n8n.execute(workflowId);
	const calls = (await apiLog(emulator)).slice(before);
	return { output, calls };
}

function nonLoopbackIpv4(): string | undefined {
	for (const addresses of Object.values(os.networkInterfaces())) {
		for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
	}
	return undefined;
}

// ---------------------------------------------------------------------------------------------------------------

/** The trigger's refusal lines in n8n's log (it logs through n8n's logger at warn level). */
async function refusalLines(logFile: string): Promise<string[]> {
	const text = await fs.readFile(logFile, 'utf8').catch(() => '');
	return text.split('\n').filter((line) => line.includes('WeChat push refused'));
}

async function main(): Promise<void> {
	installSignalHandlers(() => process.stdout.write('\ninterrupted: stopping n8n and the emulator\n'));
	const watchdog = setTimeout(() => {
		process.stdout.write(`FAIL watchdog: the e2e run exceeded ${WATCHDOG_MS / 60_000} minutes\n`);
		results.push({ name: 'watchdog', ok: false });
		void shutdown().finally(() => finish());
	}, WATCHDOG_MS);
	watchdog.unref();

	const version = n8nVersionFrom();
	process.stdout.write(`e2e against the real n8n ${version}\n`);
	let n8n: N8nInstance | undefined;
	let emulator: EmulatorProcess | undefined;
	const notes: string[] = [];

	const setUp = await check(
		`set-up: n8n ${version} installed, package built, packed and installed as a community package`,
		async () => {
			const install = await ensureN8n(version, undefined, (text) => process.stdout.write(`     ${text}\n`));
			n8n = await N8nInstance.create({ install });
			const tarball = await buildAndPack(path.join(n8n.root, 'pack'), n8n.log);
			await n8n.installPackage(tarball);
			const installed = JSON.parse(
				await fs.readFile(
					path.join(
						n8n.userFolder,
						'.n8n',
						'nodes',
						'node_modules',
						'n8n-nodes-wechat-customer-service',
						'package.json',
					),
					'utf8',
				),
			) as { name: string; n8n: { nodes: string[] } };
			assert.equal(installed.n8n.nodes.length, 2);
			emulator = await startEmulator({ log: n8n.log });
		},
	);
	if (!setUp || !n8n || !emulator) {
		await shutdown();
		finish();
	}
	const instance = n8n as N8nInstance;
	const wechat = emulator as EmulatorProcess;
	// "Yesterday" must not change between seeding and the nightly export: do not start the next steps in the last
	// four minutes of a Beijing day.
	const untilMidnight = beijingDays().todayStart + 86400 - Date.now() / 1000;
	if (untilMidnight < 240) {
		process.stdout.write(`     waiting ${Math.ceil(untilMidnight)} s for Beijing midnight to pass\n`);
		await sleep((untilMidnight + 5) * 1000);
	}
	const { todayStart, yesterdayStart, day } = beijingDays();
	const imageServer = await startReceiver((request) =>
		request.path === '/img/welcome.jpg'
			? { type: 'image/jpeg', body: JPEG }
			: { status: 404, type: 'text/plain', body: 'no' },
	);
	const groupBot = await startReceiver();
	await fs.writeFile(path.join(instance.filesDir, 'avatar.jpg'), JPEG);
	await fs.writeFile(path.join(instance.filesDir, 'photo.jpg'), JPEG);

	// Boundary records of yesterday (Beijing): the second before and the start of today must stay out.
	const boundaryRecords = [
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

	const workflows: Record<string, WorkflowJson> = {};
	let examples: Record<ExampleName, WorkflowJson> | undefined;

	await check(
		'import: credential of type weChatOfficialAccountApi (emulator base URL, push token, 43-char key) and all workflows',
		async () => {
			await wechat.admin('seed', {
				accounts: [
					{ kf_account: 'alice@emulator_oa', kf_nick: 'Alice', kf_wx: 'alice_worker', online: true, accepted_case: 2 },
					{ kf_account: 'bob@emulator_oa', kf_nick: 'Bob', kf_wx: 'bob_worker', online: true, accepted_case: 1 },
					{ kf_account: 'carol@emulator_oa', kf_nick: 'Carol', kf_wx: 'carol_worker', online: false },
				],
				followers: [...F, ...WAITING],
				waiting: WAITING.map((openid, i) => ({ openid, latestTime: Math.floor(Date.now() / 1000) - (10 - i) * 60 })),
				chatRecords: {
					start: yesterdayStart + 1,
					end: todayStart - 2,
					count: BULK_YESTERDAY,
					openids: F,
					workers: ['alice@emulator_oa', 'bob@emulator_oa'],
					seed: 11,
				},
				records: boundaryRecords,
			});
			assert.equal(ENCODING_AES_KEY.length, 43);
			await instance.importCredentials([emulatorCredential(wechat)]);

			examples = await configuredExamples({
				credential: { id: CREDENTIAL_ID, name: CREDENTIAL_NAME },
				exportFolder: instance.filesDir,
				botWebhookUrl: `${groupBot.url}/cgi-bin/webhook/send?key=e2e`,
				threshold: 3,
				welcomeImageUrl: `${imageServer.url}/img/welcome.jpg`,
			});
			const control = nonLoopbackIpv4() ?? 'guard-control.invalid';
			workflows.guard = chain('e2eGuardControl', 'e2e: loopback guard control', [
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
			workflows.account = chain('e2eAccount', 'e2e: account', [
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
				readFile('Read Avatar', path.join(instance.filesDir, 'avatar.jpg')),
				weChat('Set Avatar', {
					resource: 'account',
					operation: 'setAvatar',
					kfAccount: byId(NEW_ACCOUNT),
					binaryPropertyName: 'data',
				}),
				weChat('Get Many', { resource: 'account', operation: 'getAll', returnAll: true }),
				weChat('Get Online', { resource: 'account', operation: 'getOnline', returnAll: true }, { executeOnce: true }),
				weChat(
					'Delete',
					{ resource: 'account', operation: 'delete', kfAccount: byId(NEW_ACCOUNT) },
					{ executeOnce: true },
				),
			]);
			workflows.message = chain('e2eMessage', 'e2e: message', [
				weChat('Typing', { resource: 'message', operation: 'typing', openId: F[3], command: 'Typing' }),
				weChat('Send Text', {
					resource: 'message',
					operation: 'send',
					openId: F[3],
					msgType: 'text',
					content: '你好 from the real n8n ✓',
					additionalFields: { kfAccount: byId('alice@emulator_oa') },
				}),
				readFile('Read Photo', path.join(instance.filesDir, 'photo.jpg')),
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
			workflows.session = chain('e2eSession', 'e2e: session', [
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
			workflows.chatRecord = chain('e2eChatRecord', 'e2e: chat records', [
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
			workflows.error = chain('e2eWeChatError', 'e2e: WeChat error', [
				weChat('Send To Stranger', {
					resource: 'message',
					operation: 'send',
					openId: 'oE2eNotAFollower000000000000',
					msgType: 'text',
					content: 'hello?',
				}),
			]);
			workflows.token = chain('e2eTokenRevoked', 'e2e: token revoked mid-run', [
				weChat('Get Many', { resource: 'account', operation: 'getAll', returnAll: true }),
			]);
			const ex = examples;
			workflows.escalationHeadless = headlessCopy(
				ex.escalation,
				'e2eEscalationHeadless',
				textMessage(F[5], '请帮我转人工客服'),
			);
			workflows.welcomeHeadless = headlessCopy(ex.welcome, 'e2eWelcomeHeadless', subscribeEvent(F[6]));
			// A second trigger workflow: hands every user message to Alice through the passive reply.
			const transfer = structuredClone(ex.escalation);
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
			workflows.transfer = transfer;

			await instance.importWorkflows([...Object.values(ex), ...Object.values(workflows)]);
		},
	);

	// --- Loopback guard: a positive control first, so that "zero recorded" later means something.
	await check(
		'loopback guard: a deliberate request from a workflow to a non-loopback address is recorded and refused',
		async () => {
			const output = await instance.execute('e2eGuardControl');
			const [item] = output.items('Request Outside');
			const recorded = await instance.nonLoopbackConnections();
			assert.ok(
				recorded.some((entry) => entry.target.includes(':9') || entry.target.includes('guard-control')),
				`nothing recorded: ${JSON.stringify(recorded)}`,
			);
			assert.match(JSON.stringify(item ?? {}), /e2e loopback guard/, 'the request was not refused by the guard');
			assert.ok((await instance.guardedPids()).length >= 2, 'the guard was not loaded into the n8n processes');
		},
	);
	const controlEntries = (await instance.nonLoopbackConnections()).length;

	// --- Account
	await check('Account: create, update, invite, set avatar from binary, get many, get online, delete', async () => {
		const { output, calls } = await executeLogged(instance, wechat, 'e2eAccount');
		succeeded(output, 'the account workflow');
		assert.deepEqual(output.items('Create'), [{ kf_account: NEW_ACCOUNT, nickname: 'E2E 客服', created: true }]);
		const listed = output.items('Get Many').find((item) => item.kf_account === NEW_ACCOUNT);
		assert.ok(listed, 'the new account is not in Get Many');
		assert.equal(listed.kf_nick, 'E2E Agent');
		assert.equal(listed.invite_wx, 'e2e_worker_01');
		assert.deepEqual(
			output
				.items('Get Online')
				.map((item) => item.kf_account)
				.sort(),
			['alice@emulator_oa', 'bob@emulator_oa'],
		);
		const api = calls.filter((call) => !isToken(call));
		assert.deepEqual(
			api.map((call) => call.path),
			[
				'/customservice/kfaccount/add',
				'/customservice/kfaccount/update',
				'/customservice/kfaccount/inviteworker',
				'/customservice/kfaccount/uploadheadimg',
				'/cgi-bin/customservice/getkflist',
				'/cgi-bin/customservice/getonlinekflist',
				'/customservice/kfaccount/del',
			],
		);
		assert.deepEqual(api[0].json, { kf_account: NEW_ACCOUNT, nickname: 'E2E 客服' });
		assert.deepEqual(api[2].json, { kf_account: NEW_ACCOUNT, invite_wx: 'e2e_worker_01' });
		assert.equal(api[3].query.kf_account, NEW_ACCOUNT);
		assert.equal(api[3].multipart?.files[0]?.size, JPEG.length);
		for (const call of api)
			assert.equal(
				(call.response.body as { errcode?: number }).errcode ?? 0,
				0,
				`${call.path} answered ${JSON.stringify(call.response.body)}`,
			);
		assert.equal(calls.filter(isToken).length, 1, 'expected exactly one token call for a fresh credential');
	});

	// --- Message
	await check('Message: typing, text as an agent, image uploaded from binary, news, menu', async () => {
		await wechat.admin('user-message', { openid: F[3] });
		const { output, calls } = await executeLogged(instance, wechat, 'e2eMessage');
		succeeded(output, 'the message workflow');
		const sends = calls.filter((call) => call.path === '/cgi-bin/message/custom/send');
		assert.equal(sends.length, 4);
		assert.deepEqual(sends[0].json, {
			touser: F[3],
			msgtype: 'text',
			text: { content: '你好 from the real n8n ✓' },
			customservice: { kf_account: 'alice@emulator_oa' },
		});
		const upload = calls.find((call) => call.path === '/cgi-bin/media/upload');
		assert.ok(upload, 'no media upload');
		assert.equal(upload.query.type, 'image');
		assert.equal(upload.multipart?.files[0]?.size, JPEG.length);
		const mediaId = (upload.response.body as { media_id: string }).media_id;
		assert.deepEqual(sends[1].json, { touser: F[3], msgtype: 'image', image: { media_id: mediaId } });
		assert.equal(output.items('Send Image')[0]?.media_id, mediaId);
		assert.deepEqual(sends[2].json, {
			touser: F[3],
			msgtype: 'news',
			news: {
				articles: [
					{
						title: 'Order shipped',
						description: 'Tap for tracking',
						url: 'https://example.com/track/1',
						picurl: 'https://example.com/p.jpg',
					},
				],
			},
		});
		assert.deepEqual((sends[3].json as { msgmenu: unknown }).msgmenu, {
			head_content: 'Satisfied?',
			list: [
				{ id: '101', content: 'Yes' },
				{ id: '102', content: 'No' },
			],
			tail_content: 'Thanks',
		});
		const typing = calls.find((call) => call.path === '/cgi-bin/message/custom/typing');
		assert.deepEqual(typing?.json, { touser: F[3], command: 'Typing' });
		for (const call of calls)
			assert.equal(
				(call.response.body as { errcode?: number }).errcode ?? 0,
				0,
				`${call.path} answered ${JSON.stringify(call.response.body)}`,
			);
	});

	// --- Session
	await check(
		'Session: offline agent refused (65415), create, get, get many, least-loaded create, close, get waiting',
		async () => {
			const { output, calls } = await executeLogged(instance, wechat, 'e2eSession');
			succeeded(output, 'the session workflow');
			assert.equal(output.items('Create').length, 1, 'the refused create should continue with one item');
			assert.deepEqual(output.items('Create With Alice'), [
				{ kf_account: 'alice@emulator_oa', openid: F[4], created: true },
			]);
			const [session] = output.items('Get');
			assert.equal(session.kf_account, 'alice@emulator_oa');
			assert.equal(session.inSession, true);
			assert.ok(
				output.items('Get Many').some((item) => item.openid === F[4] && item.kf_account === 'alice@emulator_oa'),
			);
			const [leastLoaded] = output.items('Create Least Loaded');
			// Alice served 2 + F[4] = 3, Bob 1: Bob is the least loaded.
			assert.equal(leastLoaded.kf_account, 'bob@emulator_oa');
			assert.equal(leastLoaded.selectedBy, 'leastLoaded');
			assert.deepEqual(output.items('Close')[0], { kf_account: 'alice@emulator_oa', openid: F[4], closed: true });
			const waiting = output.items('Get Waiting');
			assert.deepEqual(
				waiting.map((item) => item.openid),
				WAITING.slice(1),
			);
			assert.ok(waiting.every((item) => item.count === 3));
			const creates = calls.filter((call) => call.path === '/customservice/kfsession/create');
			assert.equal(
				(creates[0].response.body as { errcode?: number }).errcode,
				65415,
				'an offline agent should be refused with 65415',
			);
			assert.deepEqual(
				creates.map((call) => call.json),
				[
					{ kf_account: 'carol@emulator_oa', openid: F[4] },
					{ kf_account: 'alice@emulator_oa', openid: F[4] },
					{ kf_account: 'bob@emulator_oa', openid: WAITING[0] },
				],
			);
		},
	);

	// --- ChatRecord
	await check(
		`ChatRecord: any range in 24-hour windows with msgid paging (${BULK_YESTERDAY + 5} records), limit stops early`,
		async () => {
			const { output, calls } = await executeLogged(instance, wechat, 'e2eChatRecord');
			succeeded(output, 'the chat-record workflow');
			const all = output.items('Get Many All');
			assert.equal(all.length, BULK_YESTERDAY + boundaryRecords.length);
			const times = all.map((item) => Number(item.time));
			assert.ok(
				times.every((time, i) => i === 0 || times[i - 1] <= time),
				'records are not in time order',
			);
			assert.equal(all[0].text, 'before yesterday');
			assert.equal(all[all.length - 1].text, 'first second of today');
			assert.ok(all.every((item) => typeof item.opercodeLabel === 'string'));
			const pages = calls.filter((call) => call.path === '/customservice/msgrecord/getmsglist');
			for (const page of pages) {
				const body = page.json as { starttime: number; endtime: number; number: number; msgid: number };
				assert.ok(body.endtime - body.starttime <= 86400, `a query spans ${body.endtime - body.starttime} s`);
				assert.ok(body.number >= 1 && body.number <= 10000);
				assert.equal((page.response.body as { errcode?: number }).errcode ?? 0, 0);
			}
			assert.ok(
				pages.some((page) => (page.json as { msgid: number }).msgid > 1),
				'no msgid paging happened',
			);
			assert.equal(output.items('Get Many Limit').length, 25);
		},
	);

	// --- The examples, headless
	await check('example nightly-export.json (Run Now): yesterday, Beijing time, every record, CSV on disk', async () => {
		const ex = examples as Record<ExampleName, WorkflowJson>;
		const { output } = await executeLogged(instance, wechat, ex['nightly-export'].id);
		succeeded(output, 'nightly export');
		assert.equal(output.items('Export Settings')[0]?.day, day);
		const records = output.items("Get Yesterday's Chat Records");
		assert.equal(records.length, BULK_YESTERDAY + 3);
		const written = output.items('Write CSV to Disk')[0] as { fileName: string };
		assert.equal(written.fileName, path.join(instance.filesDir, `wechat-chat-records-${day}.csv`));
		const csv = (await fs.readFile(written.fileName, 'utf8')).trim().split('\n');
		assert.equal(csv.length, BULK_YESTERDAY + 3 + 1);
		assert.match(csv[0], /openid/);
		assert.match(csv[1], /first second of yesterday/);
		assert.match(csv[csv.length - 1], /last second of yesterday/);
		assert.ok(
			csv.some((line) => line.includes('"noon, ""quoted"", with a comma"')),
			'CSV quoting',
		);
	});

	await check(
		'example waiting-queue-alert.json (Run Now): 3 waiting > threshold 2 → one POST to the group bot',
		async () => {
			const ex = examples as Record<ExampleName, WorkflowJson>;
			const alert = structuredClone(ex['waiting-queue-alert']);
			// The same workflow with a lower threshold (the session check above took one user off the queue).
			const settings = alert.nodes.find((node) => node.name === 'Alert Settings');
			const assignments = (settings?.parameters.assignments as { assignments: Array<{ name: string; value: unknown }> })
				.assignments;
			assignments.find((entry) => entry.name === 'threshold')!.value = 2;
			alert.id = 'e2eQueueAlert';
			await instance.importWorkflows([alert]);
			groupBot.requests.length = 0;
			const { output } = await executeLogged(instance, wechat, 'e2eQueueAlert');
			succeeded(output, 'the waiting-queue alert');
			assert.equal(groupBot.requests.length, 1);
			const [request] = groupBot.requests;
			assert.equal(request.method, 'POST');
			assert.equal(request.path, '/cgi-bin/webhook/send?key=e2e');
			const body = JSON.parse(request.body) as { msgtype: string; text: { content: string } };
			assert.equal(body.msgtype, 'text');
			assert.match(body.text.content, /3 users are waiting/);
			// The shipped threshold (3) does not fire for 3 users.
			groupBot.requests.length = 0;
			const again = await instance.execute(ex['waiting-queue-alert'].id);
			succeeded(again, 'the waiting-queue alert with threshold 3');
			assert.equal(groupBot.requests.length, 0);
		},
	);

	await check(
		'example escalation.json, headless copy (Manual Trigger + sample push): "转人工" → least-loaded agent',
		async () => {
			await wechat.admin('user-message', { openid: F[5] });
			const { output, calls } = await executeLogged(instance, wechat, 'e2eEscalationHeadless');
			succeeded(output, 'the headless escalation');
			const online = calls.find((call) => call.path === '/cgi-bin/customservice/getonlinekflist');
			const loads = (online?.response.body as { kf_online_list: Array<{ kf_account: string; accepted_case: number }> })
				.kf_online_list;
			const least = [...loads].sort((a, b) => a.accepted_case - b.accepted_case)[0].kf_account;
			const create = calls.find((call) => call.path === '/customservice/kfsession/create');
			assert.deepEqual(create?.json, { kf_account: least, openid: F[5] });
			const told = calls.filter((call) => call.path === '/cgi-bin/message/custom/send');
			assert.equal(told.length, 1);
			assert.equal((told[0].json as { customservice?: { kf_account: string } }).customservice?.kf_account, least);
			assert.equal(output.ran('Automatic Answer'), false);
		},
	);

	await check(
		'example welcome.json, headless copy: welcome text, then an image downloaded by HTTP Request and sent from binary',
		async () => {
			await wechat.admin('user-message', { openid: F[6] });
			const { output, calls } = await executeLogged(instance, wechat, 'e2eWelcomeHeadless');
			succeeded(output, 'the headless welcome');
			const sends = calls.filter((call) => call.path === '/cgi-bin/message/custom/send');
			assert.deepEqual(
				sends.map((call) => (call.json as { msgtype: string }).msgtype),
				['text', 'image'],
			);
			assert.match((sends[0].json as { text: { content: string } }).text.content, /感谢关注/);
			const upload = calls.find((call) => call.path === '/cgi-bin/media/upload');
			assert.equal(upload?.multipart?.files[0]?.filename, 'welcome.jpg');
			assert.equal(upload?.multipart?.files[0]?.size, JPEG.length);
			assert.equal(
				(sends[1].json as { image: { media_id: string } }).image.media_id,
				(upload?.response.body as { media_id: string }).media_id,
			);
		},
	);

	await check(
		"a WeChat error fails the execution with the node named and WeChat's code in the message (40003)",
		async () => {
			const { output, calls } = await executeLogged(instance, wechat, 'e2eWeChatError');
			assert.ok(output.error, 'the execution should have failed');
			assert.equal(output.error.node, 'Send To Stranger');
			assert.match(output.error.message, /40003/);
			const sends = calls.filter((call) => call.path === '/cgi-bin/message/custom/send');
			assert.equal(sends.length, 1, 'a WeChat error that is not about the token must not be retried');
			assert.equal((sends[0].response.body as { errcode?: number }).errcode, 40003);
		},
	);

	await check(
		'token revoked between executions: the next workflow still succeeds, with one token call and one retry',
		async () => {
			await wechat.admin('revoke-token', {});
			const { output, calls } = await executeLogged(instance, wechat, 'e2eTokenRevoked');
			succeeded(output, 'the workflow after the token was revoked');
			assert.ok(output.items('Get Many').length >= 3);
			const lists = calls.filter((call) => call.path === '/cgi-bin/customservice/getkflist');
			assert.equal(lists.length, 2, `expected a rejected call and one retry, got ${lists.length}`);
			assert.equal((lists[0].response.body as { errcode?: number }).errcode, 40001);
			assert.equal((lists[1].response.body as { errcode?: number }).errcode ?? 0, 0);
			assert.equal(calls.filter(isToken).length, 1);
		},
	);

	// --- n8n start: the real trigger
	const ex = examples as Record<ExampleName, WorkflowJson> | undefined;
	const started = ex
		? await check(
				'n8n start with the escalation, welcome and transfer-reply workflows published; ready on /healthz/readiness',
				async () => {
					await instance.publish(ex.escalation.id);
					await instance.publish(ex.welcome.id);
					await instance.publish('e2eTransferReply');
					await instance.start();
					const url = triggerUrl(instance, ex.escalation);
					await waitFor(
						'the escalation trigger to be registered',
						async () => ((await fetchWithTimeout(`${url}?probe=1`, {}, 3_000)).status === 404 ? undefined : true),
						60_000,
						500,
					);
				},
			)
		: false;

	if (started && ex) {
		// Sockets of n8n's process tree, sampled while pushes are processed.
		const seenSockets = new Set<string>();
		const sampler = setInterval(() => {
			const pid = instance.serverPid;
			if (pid) for (const socket of nonLoopbackSocketsOf(pid)) seenSockets.add(socket);
		}, 200);
		const escalationUrl = triggerUrl(instance, ex.escalation);
		const transferUrl = triggerUrl(instance, workflows.transfer);

		await check(
			"editor REST API: owner set-up, login, credential Test (OK, and WeChat's reason for a wrong AppSecret), account picker search",
			async () => {
				const json = { 'content-type': 'application/json' };
				const owner = { email: 'e2e@example.com', password: 'E2e-Passw0rd', firstName: 'E2E', lastName: 'Owner' };
				const setup = await fetchWithTimeout(`${instance.baseUrl}/rest/owner/setup`, {
					method: 'POST',
					headers: json,
					body: JSON.stringify(owner),
				});
				assert.equal(setup.status, 200, await setup.text());
				const login = await fetchWithTimeout(`${instance.baseUrl}/rest/login`, {
					method: 'POST',
					headers: json,
					body: JSON.stringify({ email: owner.email, emailOrLdapLoginId: owner.email, password: owner.password }),
				});
				assert.equal(login.status, 200, await login.text());
				const cookie = login.headers
					.getSetCookie()
					.map((entry) => entry.split(';')[0])
					.join('; ');
				const rest = async (route: string, body: unknown) => {
					const response = await fetchWithTimeout(`${instance.baseUrl}/rest/${route}`, {
						method: 'POST',
						headers: { ...json, cookie },
						body: JSON.stringify(body),
					});
					const text = await response.text();
					assert.equal(response.status, 200, `${route}: ${text}`);
					return (JSON.parse(text) as { data: Record<string, unknown> }).data;
				};
				const data = emulatorCredential(wechat).data;
				const credentials = (extra: Record<string, unknown>) => ({
					credentials: { id: CREDENTIAL_ID, name: CREDENTIAL_NAME, type: CREDENTIAL_TYPE, data: { ...data, ...extra } },
				});
				assert.deepEqual(await rest('credentials/test', credentials({})), {
					status: 'OK',
					message: 'Connection successful!',
				});
				const wrong = await rest('credentials/test', credentials({ appSecret: 'not-the-secret' }));
				assert.equal(wrong.status, 'Error');
				assert.match(String(wrong.message), /40125/);
				const found = await rest('dynamic-node-parameters/resource-locator-results', {
					nodeTypeAndVersion: { name: NODE_TYPE, version: 1 },
					methodName: 'searchKfAccounts',
					path: 'parameters.kfAccount',
					currentNodeParameters: {
						resource: 'session',
						operation: 'close',
						kfAccount: { __rl: true, mode: 'list', value: '' },
					},
					credentials: { [CREDENTIAL_TYPE]: { id: CREDENTIAL_ID, name: CREDENTIAL_NAME } },
					filter: 'ali',
				});
				assert.deepEqual(
					(found.results as Array<{ value: string }>).map((result) => result.value),
					['alice@emulator_oa'],
				);
			},
		);

		await check(
			'GET handshake: echostr returned byte for byte as text/plain; a wrong signature gets no echostr',
			async () => {
				for (const echostr of ['7563542361852317345', 'gZ4k-Q1_x9TbLw0aR7uVe2NcYhD5pFj3sKm8oIqW6Ev']) {
					const { query } = buildHandshake({ token: PUSH_TOKEN, echostr });
					const response = await fetchWithTimeout(`${escalationUrl}?${new URLSearchParams(query)}`);
					const bytes = Buffer.from(await response.arrayBuffer());
					assert.equal(response.status, 200);
					assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
					assert.ok(bytes.equals(Buffer.from(echostr, 'utf8')), `answered ${JSON.stringify(bytes.toString())}`);
				}
				const { query } = buildHandshake({ token: 'not-the-token', echostr: '123456789' });
				const response = await fetchWithTimeout(`${escalationUrl}?${new URLSearchParams(query)}`);
				const text = await response.text();
				assert.notEqual(response.status, 200);
				assert.ok(!text.includes('123456789'));
			},
		);

		let executionsSoFar = 0;
		await check(
			'safe-mode XML push → one execution whose trigger item has the decrypted fields (64-bit MsgId exact)',
			async () => {
				await wechat.admin('user-message', { openid: F[7] });
				const message = textMessage(F[7], 'What time do you open? 几点开门？');
				const delivery = await push(escalationUrl, wechat.appId, message);
				assert.equal(delivery.deliveries.length, 1);
				assert.equal(delivery.deliveries[0].status, 200);
				assert.equal(delivery.deliveries[0].body, 'success');
				assert.match(delivery.built.body, /<Encrypt>/);
				assert.doesNotMatch(delivery.built.body, /几点开门/);
				const rows = await waitForExecutions(instance, ex.escalation.id, 1);
				executionsSoFar = rows.length;
				assert.equal(rows.length, 1);
				assert.equal(rows[0].status, 'success');
				const run = await executionData(instance, rows[0].id);
				const [item] = run.items(TRIGGER_NODE);
				assert.equal(item.ToUserName, OFFICIAL_ACCOUNT);
				assert.equal(item.FromUserName, F[7]);
				assert.equal(item.MsgType, 'text');
				assert.equal(item.Content, 'What time do you open? 几点开门？');
				assert.equal(item.MsgId, message.MsgId);
				assert.equal(String(item.CreateTime), String(message.CreateTime));
				assert.equal(item.Encrypt, undefined);
				assert.equal(run.ran('Automatic Answer'), true);
			},
		);

		await check('safe-mode JSON push: 64-bit MsgId kept as a string, execution runs', async () => {
			await wechat.admin('user-message', { openid: F[7] });
			const message = textMessage(F[7], 'json format');
			const delivery = await push(escalationUrl, wechat.appId, message, { format: 'json' });
			assert.equal(delivery.deliveries[0].status, 200);
			const rows = await waitForExecutions(instance, ex.escalation.id, executionsSoFar + 1);
			executionsSoFar = rows.length;
			const run = await executionData(instance, rows[rows.length - 1].id);
			assert.equal(run.items(TRIGGER_NODE)[0]?.MsgId, message.MsgId);
		});

		await check(
			'three deliveries of one push (WeChat retries) → identical answers, exactly one execution',
			async () => {
				await wechat.admin('user-message', { openid: F[7] });
				const delivery = await push(escalationUrl, wechat.appId, textMessage(F[7], 'delivered three times'), {
					forceDeliveries: 3,
				});
				assert.equal(delivery.deliveries.length, 3);
				assert.ok(
					delivery.deliveries.every((d) => d.status === 200 && d.body === 'success'),
					JSON.stringify(delivery.deliveries),
				);
				await waitForExecutions(instance, ex.escalation.id, executionsSoFar + 1);
				await sleep(3_000); // time for a duplicate execution to show up, if one were started
				const rows = await executions(instance, ex.escalation.id);
				assert.equal(rows.length, executionsSoFar + 1, `${rows.length - executionsSoFar} executions for one push`);
				executionsSoFar = rows.length;
			},
		);

		await check('a push with a forged msg_signature is rejected and starts nothing', async () => {
			const before = (await executions(instance)).length;
			const built = buildPush({
				mode: 'safe',
				format: 'xml',
				token: PUSH_TOKEN,
				encodingAESKey: ENCODING_AES_KEY,
				appId: wechat.appId,
				message: textMessage(F[7], 'forged'),
			});
			const query = new URLSearchParams({ ...built.query, msg_signature: '0'.repeat(40) });
			const response = await fetchWithTimeout(`${escalationUrl}?${query}`, {
				method: 'POST',
				body: built.body,
				headers: { 'content-type': 'text/xml' },
			});
			assert.ok(response.status >= 400 && response.status < 500, `answered ${response.status}`);
			await sleep(1_500);
			assert.equal((await executions(instance)).length, before);
		});

		await check(
			'trust: a captured safe-mode URL downgraded to plaintext is refused; bad padding, wrong AppID and invalid UTF-8 get one identical answer; each refusal leaves one secret-free line in the n8n log',
			async () => {
				const before = (await executions(instance)).length;
				const refusalsBefore = (await refusalLines(instance.logFile)).length;
				const post = async (query: Record<string, string>, body: string) => {
					const response = await fetchWithTimeout(`${escalationUrl}?${new URLSearchParams(query)}`, {
						method: 'POST',
						body,
						headers: { 'content-type': 'text/xml' },
					});
					return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
				};
				// Downgrade: the captured query without encrypt_type/msg_signature, under a forged plaintext body.
				const captured = buildPush({
					mode: 'safe',
					format: 'xml',
					token: PUSH_TOKEN,
					encodingAESKey: ENCODING_AES_KEY,
					appId: wechat.appId,
					message: textMessage(F[7], 'genuine'),
				});
				const { encrypt_type: _type, msg_signature: _signature, ...plainQuery } = captured.query;
				const downgraded = await post(plainQuery, buildPushXml(textMessage(F[6], 'forged by an attacker')));
				assert.equal(downgraded.status, 401, downgraded.body);
				// Padding oracle: someone who knows the Token signs ciphertexts of their own.
				const aesKey = Buffer.from(`${ENCODING_AES_KEY}=`, 'base64');
				const encryptRaw = (plaintext: Buffer) => {
					const cipher = createCipheriv('aes-256-cbc', aesKey, aesKey.subarray(0, 16));
					cipher.setAutoPadding(false);
					return Buffer.concat([cipher.update(plaintext), cipher.final()]).toString('base64');
				};
				const framed = (body: Buffer, appId: string, padWith?: number) => {
					const length = Buffer.alloc(4);
					length.writeUInt32BE(body.length);
					const frame = Buffer.concat([randomBytes(16), length, body, Buffer.from(appId)]);
					const fill = 32 - (frame.length % 32);
					return Buffer.concat([frame, Buffer.alloc(fill, padWith ?? fill)]);
				};
				const inner = Buffer.from(buildPushXml(textMessage(F[7], 'probe')));
				const probes = {
					'bad padding': encryptRaw(framed(inner, wechat.appId, 0)),
					'wrong AppID': encryptRaw(framed(inner, 'wxAnotherAccount0')),
					'invalid UTF-8': encryptRaw(framed(Buffer.from([0x3c, 0xff, 0xfe, 0x3e]), wechat.appId)),
				};
				const answers = new Set<string>();
				for (const encrypt of Object.values(probes)) {
					const timestamp = String(Math.floor(Date.now() / 1000));
					const nonce = String(100000 + Math.floor(Math.random() * 1e6));
					const query = {
						signature: plainSignature(PUSH_TOKEN, timestamp, nonce),
						timestamp,
						nonce,
						encrypt_type: 'aes',
						msg_signature: messageSignature(PUSH_TOKEN, timestamp, nonce, encrypt),
					};
					const answer = await post(query, `<xml><ToUserName><![CDATA[${OFFICIAL_ACCOUNT}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`);
					answers.add(JSON.stringify(answer));
				}
				assert.equal(answers.size, 1, [...answers].join(' | '));
				const [uniform] = [...answers].map((answer) => JSON.parse(answer) as { status: number; body: string });
				assert.equal(uniform.status, 400);
				assert.equal(uniform.body, '-40007 invalid encrypted push');
				await sleep(1_500);
				assert.equal((await executions(instance)).length, before, 'a refused push started an execution');
				const lines = (await refusalLines(instance.logFile)).slice(refusalsBefore);
				assert.equal(lines.length, 4, `refusal lines: ${lines.join(' | ')}`);
				assert.match(lines[0], /refused: -40001 encrypted push expected/);
				for (const line of lines) {
					for (const secret of [PUSH_TOKEN, ENCODING_AES_KEY, wechat.appSecret]) {
						assert.ok(!line.includes(secret), 'a secret in the n8n log');
					}
					assert.ok(!line.includes('forged by an attacker') && !line.includes('probe'), 'push content in the n8n log');
				}
			},
		);

		await check(
			'reply "Transfer to Customer Service": encrypted transfer_customer_service reply naming the agent',
			async () => {
				const message = textMessage(F[2], '转人工');
				const delivery = await push(transferUrl, wechat.appId, message);
				const [answer] = delivery.deliveries;
				assert.equal(answer.status, 200);
				const reply = decryptReply(answer.body ?? '', {
					token: PUSH_TOKEN,
					encodingAESKey: ENCODING_AES_KEY,
					appId: wechat.appId,
				});
				assert.equal(reply.signatureValid, true);
				assert.equal(xmlField(reply.plaintext, 'MsgType'), 'transfer_customer_service');
				assert.equal(xmlField(reply.plaintext, 'ToUserName'), F[2]);
				assert.equal(xmlField(reply.plaintext, 'FromUserName'), OFFICIAL_ACCOUNT);
				assert.match(
					reply.plaintext,
					/<TransInfo>\s*<KfAccount>(<!\[CDATA\[)?alice@emulator_oa(\]\]>)?<\/KfAccount>\s*<\/TransInfo>/,
				);
				await waitForExecutions(instance, 'e2eTransferReply', 1);
			},
		);

		await check(
			'subscribe push to welcome.json → welcome text and image sent; the same push to escalation.json starts nothing',
			async () => {
				const newcomer = 'oE2eNewcomer0000000000000001';
				await wechat.admin('seed', { followers: [newcomer] });
				const before = (await apiLog(wechat)).length;
				const escalationBefore = (await executions(instance, ex.escalation.id)).length;
				const event = subscribeEvent(newcomer);
				await push(triggerUrl(instance, ex.welcome), wechat.appId, event);
				const answer = await push(escalationUrl, wechat.appId, event);
				assert.equal(answer.deliveries[0].body, 'success');
				const [row] = await waitForExecutions(instance, ex.welcome.id, 1);
				assert.equal(row.status, 'success');
				const sends = (await apiLog(wechat))
					.slice(before)
					.filter((call) => call.path === '/cgi-bin/message/custom/send');
				assert.deepEqual(
					sends.map((call) => [(call.json as { touser: string }).touser, (call.json as { msgtype: string }).msgtype]),
					[
						[newcomer, 'text'],
						[newcomer, 'image'],
					],
				);
				await sleep(1_000);
				assert.equal(
					(await executions(instance, ex.escalation.id)).length,
					escalationBefore,
					'escalation (text only) ran for an event',
				);
			},
		);

		await check(
			'token revoked while n8n runs: the next push still hands the user to an agent (one token call)',
			async () => {
				await wechat.admin('revoke-token', {});
				await wechat.admin('user-message', { openid: F[1] });
				const before = (await apiLog(wechat)).length;
				await push(escalationUrl, wechat.appId, textMessage(F[1], 'human please'));
				const rows = await waitForExecutions(instance, ex.escalation.id, executionsSoFar + 1);
				executionsSoFar = rows.length;
				assert.equal(rows[rows.length - 1].status, 'success');
				const calls = (await apiLog(wechat)).slice(before);
				assert.equal(calls.filter(isToken).length, 1);
				assert.ok(
					calls.some(
						(call) =>
							call.path === '/customservice/kfsession/create' && (call.json as { openid: string }).openid === F[1],
					),
				);
				assert.ok(
					calls.some((call) => (call.response.body as { errcode?: number }).errcode === 40001),
					'the revoked token was never rejected',
				);
			},
		);

		clearInterval(sampler);
		await check(
			'nothing left loopback: no connection, lookup or datagram outside 127.0.0.0/8 by any n8n process',
			async () => {
				const recorded = (await instance.nonLoopbackConnections()).slice(controlEntries);
				assert.deepEqual(recorded, [], 'the guard recorded non-loopback attempts');
				assert.deepEqual([...seenSockets], [], 'sockets of the n8n process tree had non-loopback remote addresses');
				const guarded = await instance.guardedPids();
				assert.ok(guarded.includes(instance.serverPid ?? -1), 'the guard was not loaded into n8n start');
				notes.push(
					`loopback: guard active in ${guarded.length} n8n processes; ${controlEntries} control attempt(s) recorded and refused; 0 others; /proc sampling of n8n start's process tree saw no non-loopback socket`,
				);
			},
		);
	}

	await instance.stop();
	notes.push(...instance.warnings.map((warning) => `note: ${warning}`));
	const failed = results.some((result) => !result.ok);
	if (failed) {
		instance.preserve();
		notes.push(`n8n log: ${instance.logFile} (folder kept)`);
	}
	await shutdown();
	clearTimeout(watchdog);
	finish(notes);
}

main().catch(async (error: unknown) => {
	results.push({ name: 'e2e runner', ok: false, detail: String(error) });
	process.stdout.write(`FAIL e2e runner: ${error instanceof Error ? error.stack : String(error)}\n`);
	await shutdown();
	finish();
});
