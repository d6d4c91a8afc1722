import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';

import { buildPush, type BuiltPush } from '../../test/emulator/pushSender';
import { CREDENTIAL_ID, CREDENTIAL_NAME, ENCODING_AES_KEY, emulatorCredential, PUSH_TOKEN } from '../n8n/lib/fixtures';
import { ensureN8n, n8nVersionFrom } from '../n8n/lib/n8nInstall';
import { N8nInstance, type WorkflowJson } from '../n8n/lib/n8nInstance';
import { buildAndPack, CREDENTIAL_TYPE, TRIGGER_TYPE } from '../n8n/lib/packageUnderTest';
import { onShutdown, shutdown } from '../n8n/lib/processes';
import { sleep, waitFor } from '../n8n/lib/waits';
import { detail, report, runScenario } from './scenario';

/**
 * push-n8n: valid safe-mode pushes per second handled by this package's trigger inside the real n8n (`n8n start`,
 * sqlite, the offline loopback set-up of scripts/n8n/lib/n8nInstance.ts, the package built, packed and installed as n8n's
 * community-package installer does), against n8n's own Webhook node receiving the same kind of requests in another
 * published workflow of the same n8n instance, in the same run, and against that Webhook node paying what n8n
 * charges any trigger that reads a credential (`webhookAuth`, below).
 *
 * The workflows are "trigger → No Operation" and differ only in the trigger. All answer before the execution runs
 * (Webhook node: Respond Immediately; our trigger: its passive reply `success`). Execution data is saved for failed
 * executions only (EXECUTIONS_DATA_SAVE_ON_SUCCESS=none, EXECUTIONS_DATA_SAVE_ON_ERROR=all, no progress saving), the
 * same for all, so the figure is request handling and execution rather than sqlite writes of every execution.
 *
 * Every push is distinct (its own MsgId and nonce, timestamp and CreateTime of the moment it is built, just before its
 * round), so the trigger's replay memory never answers one from memory; the Webhook nodes get requests built the same
 * way (same query string, same body size, same Content-Type). A round sends a fixed number of pushes with a fixed
 * number in flight over keep-alive loopback connections. Its time runs from the first request until every push was
 * answered AND n8n has finished the one execution each push started (read from n8n's database): on n8n 2.x all
 * sides are answered once n8n has created the execution, but counting answers alone would still leave the executions
 * themselves out. Rounds alternate between the sides (ABC CBA) after a warm-up of each; the best round of each
 * side counts. A push answered with anything but 200 (for the trigger, 200 with a body other than `success`) is
 * delivered again, as WeChat does, three deliveries in all; a push with no 200 after three, an execution count other
 * than one per push, or a failed execution fails the scenario.
 *
 * For a quick look: PUSH_N8N_PUSHES and PUSH_N8N_WARM_UP change the round sizes; PUSH_N8N_PROFILE_DIR=<dir> runs n8n
 * with --cpu-prof into that folder.
 */
const PUSHES_PER_ROUND = Number(process.env.PUSH_N8N_PUSHES ?? 2_000);
const WARM_UP = Number(process.env.PUSH_N8N_WARM_UP ?? 200);
const IN_FLIGHT = 20;
const ROUNDS_PER_SIDE = 2;
const REQUEST_TIMEOUT_MS = 30_000;
const APP_ID = 'wx_bench_appid';
const TRIGGER_NAME = 'WeChat Customer Service Trigger';
const WEBHOOK_NAME = 'Webhook';
const WATCHDOG_MS = 40 * 60_000;
/** No execution created or finished for this long: the ones missing will not come. */
const STALL_MS = 60_000;

/**
 * `webhookAuth`: n8n's Webhook node once more, paying what n8n makes any trigger that authenticates pay: type version
 * 1 (n8n takes an expression isolate for the webhook phase of every start node except its own Webhook node of a later
 * version with static parameters: n8n's `LiveWebhooks.webhookPhaseNeedsIsolate`) and Header Auth (a credential read
 * in `webhook()` takes another: outside an execution n8n's `CredentialsHelper.getDecrypted` resolves the credential's
 * expressions in an isolate of its own). Our trigger pays both, as a community node that reads its Push Token and
 * EncodingAESKey from a credential (BENCHMARKS.md, push-n8n, has the profile and the measurements).
 */
type Side = 'trigger' | 'webhook' | 'webhookAuth' | 'webhookV1';
/**
 * PUSH_N8N_SIDES=trigger,webhook,webhookV1 (a comma list) measures only those. `webhookV1`, not measured by default, is
 * the Webhook node of type version 1 without authentication: the webhook phase's isolate alone, what n8n charges any
 * community trigger before its code runs.
 */
const SIDES = (process.env.PUSH_N8N_SIDES?.split(',') ?? ['trigger', 'webhook', 'webhookAuth']) as Side[];
const HEADER_AUTH = { name: 'X-Bench-Auth', value: randomBytes(24).toString('hex') };
const HEADER_AUTH_CREDENTIAL = { id: 'benchHeaderAuth0', name: 'bench header auth' };

let sequence = 0;

/** A push nobody has sent before: its own MsgId and nonce, timestamp and CreateTime now. */
function nextPush(): BuiltPush {
	sequence += 1;
	const now = Math.floor(Date.now() / 1000);
	return buildPush({
		mode: 'safe',
		format: 'xml',
		token: PUSH_TOKEN,
		appId: APP_ID,
		encodingAESKey: ENCODING_AES_KEY,
		timestamp: String(now),
		nonce: String(1_000_000_000 + sequence),
		message: {
			ToUserName: 'gh_bench_oa',
			FromUserName: `oBenchUser${String(sequence % 1000).padStart(18, '0')}`,
			CreateTime: now,
			MsgType: 'text',
			Content: `您好，我想咨询一下订单 #${100000 + (sequence % 900000)} 的物流情况，谢谢！Hello, where is my order?`,
			MsgId: String(24000000000000000n + BigInt(sequence)),
		},
	});
}

function workflow(id: string, name: string, trigger: WorkflowJson['nodes'][number]): WorkflowJson {
	return {
		id,
		name,
		nodes: [
			{ ...trigger, position: [0, 0] },
			{
				id: randomUUID(),
				name: 'Done',
				type: 'n8n-nodes-base.noOp',
				typeVersion: 1,
				position: [220, 0],
				parameters: {},
			},
		],
		connections: {
			[trigger.name]: { main: [[{ node: 'Done', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

/** n8n's Webhook node at `path` (POST, Respond Immediately); `headerAuth` sets Authentication = Header Auth. */
function webhookNode(path: string, typeVersion: number, headerAuth = false): WorkflowJson['nodes'][number] {
	return {
		id: randomUUID(),
		name: WEBHOOK_NAME,
		type: 'n8n-nodes-base.webhook',
		typeVersion,
		webhookId: path,
		parameters: {
			httpMethod: 'POST',
			path,
			...(headerAuth ? { authentication: 'headerAuth' } : {}),
			responseMode: 'onReceived',
			options: {},
		},
		...(headerAuth ? { credentials: { httpHeaderAuth: HEADER_AUTH_CREDENTIAL } } : {}),
	};
}

interface RoundResult {
	side: Side;
	pushes: number;
	seconds: number;
	perSecond: number;
}

/** WeChat delivers a push three times in all when it gets no 200 (docs/wechat-protocol.md §5). */
const DELIVERIES = 3;

/**
 * POSTs every push to `url` (plus the push's query) with `IN_FLIGHT` requests at a time. A push answered with anything
 * but 200 is delivered again, as WeChat does, up to three deliveries in all (at once: the other pushes keep the
 * machine busy meanwhile); the scenario fails when a push got no 200 in three. Resolves with the seconds until the
 * last answer and the number of repeated deliveries.
 */
async function send(
	side: Side,
	url: string,
	pushes: BuiltPush[],
	agent: http.Agent,
	authHeader = HEADER_AUTH.value,
): Promise<{ seconds: number; redeliveries: number }> {
	const failures: string[] = [];
	let redeliveries = 0;
	const post = (push: BuiltPush) =>
		new Promise<void>((resolve) => {
			const target = new URL(url);
			for (const [key, value] of Object.entries(push.query)) target.searchParams.append(key, value);
			const body = Buffer.from(push.body, 'utf8');
			const request = http.request(target, {
				method: 'POST',
				agent,
				headers: {
					'content-type': push.contentType,
					'content-length': String(body.length),
					...(side === 'webhookAuth' ? { [HEADER_AUTH.name]: authHeader } : {}),
				},
				timeout: REQUEST_TIMEOUT_MS,
			});
			request.once('timeout', () => request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
			request.once('error', (error) => {
				failures.push(`${side}: ${error.message}`);
				resolve();
			});
			request.once('response', (response) => {
				const chunks: Buffer[] = [];
				response.on('data', (chunk: Buffer) => chunks.push(chunk));
				response.once('error', (error) => {
					failures.push(`${side}: ${error.message}`);
					resolve();
				});
				response.once('end', () => {
					const text = Buffer.concat(chunks).toString('utf8');
					if (response.statusCode !== 200) {
						failures.push(`${side}: HTTP ${response.statusCode} ${text.slice(0, 200)}`);
					} else if (side === 'trigger' && text !== 'success') {
						failures.push(`${side}: HTTP 200 but "${text.slice(0, 200)}" instead of "success"`);
					}
					resolve();
				});
			});
			request.end(body);
		});

	let next = 0;
	const lost: string[] = [];
	const deliver = async (push: BuiltPush) => {
		for (let delivery = 1; delivery <= DELIVERIES; delivery++) {
			const before = failures.length;
			await post(push);
			if (failures.length === before) return;
			if (delivery < DELIVERIES) redeliveries += 1;
			else lost.push(failures[failures.length - 1]);
		}
	};
	const worker = async () => {
		while (next < pushes.length) await deliver(pushes[next++]);
	};
	const start = process.hrtime.bigint();
	await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, pushes.length) }, worker));
	const seconds = Number(process.hrtime.bigint() - start) / 1e9;
	if (lost.length > 0) {
		throw new Error(
			`push-n8n: ${lost.length} of ${pushes.length} ${side} pushes got no 200 in ${DELIVERIES} deliveries, e.g.\n  ${[...new Set(lost)].slice(0, 5).join('\n  ')}`,
		);
	}
	if (failures.length > 0) {
		detail(`push-n8n: ${side}: ${redeliveries} deliveries repeated after e.g. ${[...new Set(failures)].slice(0, 2).join('; ')}`);
	}
	return { seconds, redeliveries };
}

interface ExecutionCounts {
	/** Executions created since the database was: sqlite's AUTOINCREMENT sequence, which deleted rows keep. */
	created: number;
	unfinished: number;
	/** Kept because they did not succeed. */
	failed: number;
}

/**
 * One long-lived reader of n8n's sqlite database (read-only; n8n runs it in WAL mode, so reading never blocks n8n),
 * with n8n's own Node and sqlite3 module. Polling through `N8nInstance.query` would start a process per query, which
 * would compete with n8n for the CPU while its executions finish.
 */
async function openDatabaseReader(n8n: N8nInstance): Promise<{ executions(): Promise<ExecutionCounts> }> {
	const script = `
const sqlite3 = require(process.argv[1]);
const db = new sqlite3.Database(process.argv[2], sqlite3.OPEN_READONLY, (error) => { if (error) { console.error(error.message); process.exit(2); } });
db.configure('busyTimeout', 5000);
require('node:readline').createInterface({ input: process.stdin }).on('line', (sql) => {
	db.all(sql, (error, rows) => process.stdout.write(JSON.stringify(error ? { error: error.message } : { rows }) + '\\n'));
}).on('close', () => db.close(() => process.exit(0)));
`;
	const child = spawn(
		n8n.install.nodeBin,
		[
			'-e',
			script,
			path.join(n8n.install.dir, 'node_modules', 'sqlite3'),
			path.join(n8n.userFolder, '.n8n', 'database.sqlite'),
		],
		{ stdio: ['pipe', 'pipe', 'inherit'] },
	);
	onShutdown(() => {
		if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
	});
	process.once('exit', () => child.kill('SIGKILL'));
	// One query at a time, so that each answer line belongs to the one query waiting.
	const lines = createInterface({ input: child.stdout! });
	let answer: ((line: string) => void) | undefined;
	let exited = false;
	lines.on('line', (line) => answer?.(line));
	child.once('exit', () => {
		exited = true;
		answer?.(JSON.stringify({ error: `the sqlite reader exited with ${child.exitCode ?? child.signalCode}` }));
	});
	let queue: Promise<unknown> = Promise.resolve();
	const query = (sql: string) =>
		new Promise<Array<Record<string, unknown>>>((resolve, reject) => {
			if (exited) return reject(new Error('the sqlite reader has exited'));
			answer = (line) => {
				answer = undefined;
				const parsed = JSON.parse(line) as { rows?: Array<Record<string, unknown>>; error?: string };
				if (parsed.error !== undefined) reject(new Error(`sqlite: ${parsed.error}`));
				else resolve(parsed.rows ?? []);
			};
			child.stdin!.write(`${sql.replace(/\s+/g, ' ')}\n`);
		});
	const all = (sql: string) => {
		const result = queue.then(() => query(sql));
		queue = result.catch(() => undefined);
		return result;
	};
	// A successful execution is not saved: n8n marks its row deleted (deletedAt; pruning removes it later) and leaves
	// its status as it was ("running"). An unsaved failure would be deleted the same way, but failures are saved.
	const executions = async (): Promise<ExecutionCounts> => {
		const [row] = await all(`
			SELECT (SELECT seq FROM sqlite_sequence WHERE name = 'execution_entity') AS created,
				(SELECT COUNT(*) FROM execution_entity
					WHERE "deletedAt" IS NULL AND status IN ('new', 'running', 'waiting')) AS unfinished,
				(SELECT COUNT(*) FROM execution_entity
					WHERE "deletedAt" IS NULL AND status NOT IN ('new', 'running', 'waiting', 'success')) AS failed`);
		return {
			created: Number(row?.created ?? 0),
			unfinished: Number(row?.unfinished ?? 0),
			failed: Number(row?.failed ?? 0),
		};
	};
	return { executions };
}

async function main(): Promise<void> {
	const watchdog = setTimeout(() => {
		process.stderr.write(`push-n8n: exceeded ${WATCHDOG_MS / 60_000} minutes, stopping\n`);
		void shutdown().finally(() => process.exit(1));
	}, WATCHDOG_MS);
	watchdog.unref();

	const version = n8nVersionFrom([]);
	const install = await ensureN8n(version, undefined, detail);
	const n8n = await N8nInstance.create({
		install,
		env: {
			// The same for both workflows: failed executions are kept (there should be none), successful ones are not.
			EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'none',
			EXECUTIONS_DATA_SAVE_ON_ERROR: 'all',
			EXECUTIONS_DATA_SAVE_ON_PROGRESS: 'false',
			...(process.env.PUSH_N8N_PROFILE_DIR
				? {
						NODE_OPTIONS: `--require ${path.join(__dirname, '..', 'n8n', 'netGuard.cjs')} --cpu-prof --cpu-prof-dir=${process.env.PUSH_N8N_PROFILE_DIR}`,
					}
				: {}),
		},
	});
	try {
		await run(n8n);
	} catch (error) {
		n8n.preserve();
		process.stderr.write(`push-n8n: n8n log kept at ${n8n.logFile}\n`);
		throw error;
	}
}

async function run(n8n: N8nInstance): Promise<void> {
	const tarball = await buildAndPack(path.join(n8n.root, 'pack'), n8n.log);
	await n8n.installPackage(tarball);
	// The trigger needs only the push settings; the API base URL is never called (nothing listens there).
	await n8n.importCredentials([
		emulatorCredential({
			baseUrl: 'http://127.0.0.1:9',
			appId: APP_ID,
			appSecret: 'bench_app_secret_unused',
		}),
		{ ...HEADER_AUTH_CREDENTIAL, type: 'httpHeaderAuth', data: { ...HEADER_AUTH } },
	]);
	const triggerWebhookId = randomUUID();
	const triggerWorkflow = workflow('benchPushTrigger', 'bench: WeChat trigger → No Operation', {
		id: randomUUID(),
		name: TRIGGER_NAME,
		type: TRIGGER_TYPE,
		// What a node added today gets (saved version-1 nodes cost one more expression evaluation a push).
		typeVersion: 1.1,
		webhookId: triggerWebhookId,
		parameters: {
			events: ['*'],
			reply: 'success',
			kfAccount: '',
			options: {},
		},
		credentials: {
			[CREDENTIAL_TYPE]: { id: CREDENTIAL_ID, name: CREDENTIAL_NAME },
		},
	});
	// n8n's Webhook node: as added today (2.1), and of type version 1 with and without Header Auth.
	const webhookPaths = { webhook: randomUUID(), webhookAuth: randomUUID(), webhookV1: randomUUID() };
	const workflows = [
		triggerWorkflow,
		workflow('benchPushWebhook', 'bench: Webhook → No Operation', webhookNode(webhookPaths.webhook, 2.1)),
		workflow(
			'benchPushWebhookA',
			'bench: Webhook (v1, Header Auth) → No Operation',
			webhookNode(webhookPaths.webhookAuth, 1, true),
		),
		workflow('benchPushWebhook1', 'bench: Webhook (v1) → No Operation', webhookNode(webhookPaths.webhookV1, 1)),
	];
	await n8n.importWorkflows(workflows);
	for (const { id } of workflows) await n8n.publish(id);
	await n8n.start();

	const urls: Record<Side, string> = {
		trigger: `${n8n.baseUrl}/webhook/${triggerWebhookId}/webhook`,
		webhook: `${n8n.baseUrl}/webhook/${webhookPaths.webhook}`,
		webhookAuth: `${n8n.baseUrl}/webhook/${webhookPaths.webhookAuth}`,
		webhookV1: `${n8n.baseUrl}/webhook/${webhookPaths.webhookV1}`,
	};
	const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
	for (const side of SIDES) {
		await waitFor(
			`the ${side} workflow's webhook to answer`,
			async () => {
				await send(side, urls[side], [nextPush()], agent);
				return true;
			},
			60_000,
			500,
		);
	}

	// The trigger really verifies: a push with a wrong signature is refused.
	const forged = nextPush();
	forged.query.signature = '0'.repeat(40);
	const refused = await send('trigger', urls.trigger, [forged], agent).then(
		() => undefined,
		(error: Error) => error.message,
	);
	if (!refused?.includes('HTTP 401')) throw new Error(`a push with a wrong signature was not refused: ${refused}`);
	// So does the Header Auth side: a request with another header value is refused.
	const unauthorized = await send('webhookAuth', urls.webhookAuth, [nextPush()], agent, 'not-the-value').then(
		() => undefined,
		(error: Error) => error.message,
	);
	if (!unauthorized?.includes('HTTP 403')) {
		throw new Error(`a request with a wrong Header Auth value was not refused: ${unauthorized}`);
	}

	const database = await openDatabaseReader(n8n);
	const round = async (side: Side, count: number): Promise<RoundResult> => {
		const pushes = Array.from({ length: count }, nextPush);
		const before = await database.executions();
		const start = process.hrtime.bigint();
		// While the pushes go out: how many executions n8n has accepted but not finished (its backlog).
		let sending = true;
		let peakBacklog = 0;
		const sampler = (async () => {
			while (sending) {
				peakBacklog = Math.max(peakBacklog, (await database.executions()).unfinished);
				await sleep(250);
			}
		})();
		const { seconds: answerSeconds, redeliveries } = await send(side, urls[side], pushes, agent).finally(
			() => (sending = false),
		);
		await sampler;
		// Then until every push has its execution and every execution has finished, or nothing has changed for a while
		// (an execution n8n failed to create or to finish never will).
		let now = await database.executions();
		let lastChange = Date.now();
		while (now.created - before.created < count || now.unfinished > 0) {
			if (Date.now() - lastChange > STALL_MS) break;
			await sleep(50);
			const next = await database.executions();
			if (next.created !== now.created || next.unfinished !== now.unfinished || next.failed !== now.failed) {
				lastChange = Date.now();
			}
			now = next;
		}
		const seconds = Number(process.hrtime.bigint() - start) / 1e9;
		const created = now.created - before.created;
		const failed = now.failed - before.failed;
		if (created !== count || failed > 0 || now.unfinished > 0) {
			throw new Error(
				`push-n8n: n8n answered all ${count} ${side} pushes with 200 (${redeliveries} after a repeated delivery) in ${answerSeconds.toFixed(1)} s (up to ${peakBacklog} executions waiting), but created ${created} executions for them, of which ${failed} failed and ${now.unfinished} never finished (nothing changed for ${STALL_MS / 1000} s). Its log says why: ${n8n.logFile}`,
			);
		}
		const result = { side, pushes: count, seconds, perSecond: count / seconds };
		detail(
			`push-n8n: ${side.padEnd(11)} ${count} pushes, ${IN_FLIGHT} in flight: answered in ${answerSeconds.toFixed(1)} s (${redeliveries} deliveries repeated, ${(count / answerSeconds).toFixed(1)}/s, up to ${peakBacklog} executions waiting), all executions finished after ${seconds.toFixed(1)} s: ${result.perSecond.toFixed(1)}/s`,
		);
		return result;
	};

	for (const side of SIDES) await round(side, WARM_UP);
	const results: RoundResult[] = [];
	for (let i = 0; i < ROUNDS_PER_SIDE; i++) {
		// ABC CBA: no side always goes first or last.
		const order = i % 2 === 0 ? SIDES : [...SIDES].reverse();
		for (const side of order) results.push(await round(side, PUSHES_PER_ROUND));
	}
	agent.destroy();

	const best = (side: Side) => {
		const rates = results.filter((result) => result.side === side).map((result) => result.perSecond);
		return rates.length > 0 ? Math.max(...rates) : Number.NaN;
	};
	const trigger = best('trigger');
	const webhook = best('webhook');
	const webhookAuth = best('webhookAuth');
	const webhookV1 = best('webhookV1');
	detail(
		`push-n8n: n8n ${n8n.install.version}, best of ${ROUNDS_PER_SIDE}: trigger ${trigger.toFixed(1)}/s, Webhook node ${webhook.toFixed(1)}/s, Webhook node v1 with Header Auth ${webhookAuth.toFixed(1)}/s, Webhook node v1 ${webhookV1.toFixed(1)}/s`,
	);
	report({
		perSecond: Number(trigger.toFixed(1)),
		ratio: Number((trigger / webhook).toFixed(2)),
		ratioSameIsolates: Number((trigger / webhookAuth).toFixed(2)),
	});
}

runScenario(main, () => process.stderr.write('\npush-n8n interrupted: stopping n8n\n'));
