/**
 * The package in n8n's queue mode (`npm run test:queue`, run.ts): n8n 2.41.0 as one main, two workers and two webhook
 * processes on Redis and PostgreSQL from Debian (queueCluster.ts, services.ts). Every check starts its work the way
 * production work reaches a worker — an HTTP request to a webhook process — and asserts what n8n stored (executions,
 * their data, which worker ran them, the workflow's static data) and what reached "WeChat" (the emulator's log).
 *
 * Every wait is bounded and a watchdog ends the run after 40 minutes; a failure, Ctrl-C or SIGTERM stops every
 * process (processes.ts), and run.ts checks afterwards that no process or port was left behind.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { after, before, describe } from 'node:test';

import { buildPush, decryptReply, toXml, xmlField } from '../../../test/emulator/pushSender';
import { ENCODING_AES_KEY, PUSH_TOKEN } from '../lib/fixtures';
import { readGuardLog } from '../lib/loopbackGuard';
import { installSignalHandlers, shutdown } from '../lib/processes';
import { paddingOracleProbes, textMessage } from '../lib/pushes';
import { fetchWithTimeout, sleep, waitFor } from '../lib/waits';
import { beijingDays, F, JPEG } from '../e2e/testData';
import { WORKER_CONCURRENCY } from './queueCluster';
import { carriedOut, isToken, N8N_VERSION, QueueRun } from './queueRun';
import { CHAT_RECORDS, RECIPIENTS, type TokenSource } from './queueWorkflows';

const WATCHDOG_MS = 40 * 60_000;

installSignalHandlers((signal) =>
	process.stderr.write(`\n${signal}: stopping n8n, Redis, PostgreSQL and the emulator\n`),
);
setTimeout(() => {
	process.stderr.write(`watchdog: the queue run exceeded ${WATCHDOG_MS / 60_000} minutes; stopping it\n`);
	void shutdown().finally(() => process.exit(1));
}, WATCHDOG_MS).unref();

const queue = new QueueRun();

/** What one delivery of a push got back. */
interface Answer {
	status: number;
	contentType: string;
	body: string;
}

async function post(url: string, query: Record<string, string>, body: string): Promise<Answer> {
	const response = await fetchWithTimeout(
		`${url}?${new URLSearchParams(query)}`,
		{ method: 'POST', body, headers: { 'content-type': 'text/xml' } },
		30_000,
	);
	return {
		status: response.status,
		contentType: response.headers.get('content-type') ?? '',
		body: await response.text(),
	};
}

function safePush(message: Record<string, string | number>, extra: { timestamp?: string; nonce?: string } = {}) {
	return buildPush({
		mode: 'safe',
		format: 'xml',
		token: PUSH_TOKEN,
		encodingAESKey: ENCODING_AES_KEY,
		appId: queue.wechat.appId,
		message,
		...extra,
	});
}

async function refusalLines(logFile: string): Promise<string[]> {
	const text = await fs.readFile(logFile, 'utf8').catch(() => '');
	return text.split('\n').filter((line) => line.includes('WeChat push refused'));
}

describe(`n8n ${N8N_VERSION} in queue mode: main, 2 workers, 2 webhook processes, Redis, PostgreSQL`, () => {
	before(() => queue.setUp());
	after(() => queue.tearDown());

	// Filled by the token checks, printed as one figure: token requests to WeChat per source, and for `external` the
	// requests to the central token service.
	const tokenCalls: Partial<Record<TokenSource, number>> = {};
	let centralServiceCalls = 0;
	let pushDuplicates = 0;
	let duplicatesUnderLoad: number | undefined;

	queue.check("set-up: every process is up; the package is installed in each process's own user folder", async () => {
		for (const [name, instance] of Object.entries(queue.cluster.processes)) {
			const manifest = `${instance.userFolder}/.n8n/nodes/node_modules/n8n-nodes-wechat-customer-service/package.json`;
			assert.ok((await fs.stat(manifest)).isFile(), `${name}: package not installed`);
			const ready = await fetchWithTimeout(`${instance.baseUrl}/healthz/readiness`, {}, 5_000);
			assert.equal(ready.status, 200, `${name} is not ready`);
		}
	});

	// First, while no worker has fetched a token yet: a process reuses the token it fetched for another credential of
	// the same AppID, AppSecret and source.
	describe('token: 20 executions × 10 items at once, spread over both workers, from an empty credential', () => {
		/** Starts 20 executions at once, alternating the webhook processes; returns them when all ended. */
		const bulkRun = async (source: TokenSource, during?: () => Promise<void>) => {
			const workflow = queue.workflows.bulk[source];
			const before = (await queue.executions(workflow.id)).length;
			const logBefore = (await queue.wechat.apiLog()).length;
			const body = JSON.stringify({ recipients: RECIPIENTS.map((openid) => ({ openid })) });
			const webhooks = Object.values(queue.cluster.webhooks);
			const started = Promise.all(
				Array.from({ length: 20 }, (_, i) => queue.callWebhook(webhooks[i % 2].baseUrl, workflow.id, body)),
			);
			await during?.();
			await started;
			const rows = await queue.newExecutions(workflow.id, before, 20, 2_000);
			const calls = await queue.apiLogSince(logBefore);
			const workers = new Map<string, number>();
			let items = 0;
			let failedItems = 0;
			for (const row of rows) {
				const worker = await queue.workerOf(row.id);
				workers.set(worker, (workers.get(worker) ?? 0) + 1);
				const run = await queue.cluster.main.internals.executionData(row.id);
				assert.equal(run.error, undefined, `execution ${row.id}: ${run.error?.message}`);
				for (const item of run.items('Send')) {
					items++;
					if (item.sent !== true) failedItems++;
				}
			}
			const sends = calls.filter((call) => call.path === '/cgi-bin/message/custom/send');
			return { rows, calls, workers, items, failedItems, sends, tokenCalls: calls.filter(isToken) };
		};

		const tokenCheck = (source: TokenSource, limit: number, why: string) =>
			queue.check(`${source}: ${why}; zero failed items`, async (t) => {
				if (source === 'external') {
					// The company's central token service gets its token from WeChat once, as such a service does.
					const response = await fetchWithTimeout(`${queue.wechat.baseUrl}/cgi-bin/stable_token`, {
						method: 'POST',
						headers: { 'content-type': 'application/json' },
						body: JSON.stringify({
							grant_type: 'client_credential',
							appid: queue.wechat.appId,
							secret: queue.wechat.appSecret,
						}),
					});
					queue.centralToken = (await response.json()) as { access_token: string; expires_in: number };
				}
				const centralBefore = queue.centralTokenService.requests.length;
				const result = await bulkRun(source);
				const byWorker = [...result.workers.entries()].map(([name, count]) => `${name} ${count}`).join(', ');
				const central = queue.centralTokenService.requests.length - centralBefore;
				t.diagnostic(
					`executions per worker: ${byWorker}; token requests to WeChat: ${result.tokenCalls.length}` +
						(source === 'external' ? `; to the central service: ${central}` : ''),
				);
				assert.equal(result.rows.length, 20);
				assert.ok(
					result.rows.every((row) => row.status === 'success'),
					JSON.stringify(result.rows),
				);
				assert.equal(result.workers.size, 2, `not spread over both workers: ${byWorker}`);
				assert.equal(result.items, 200);
				assert.equal(result.failedItems, 0);
				assert.equal(result.sends.length, 200);
				assert.ok(result.sends.every((call) => (call.response.body as { errcode?: number }).errcode === 0));
				const counted = source === 'external' ? central : result.tokenCalls.length;
				assert.ok(counted <= limit, `${counted} token requests (limit ${limit})`);
				if (source === 'external') assert.equal(result.tokenCalls.length, 0, 'n8n asked WeChat for a token itself');
				tokenCalls[source] = result.tokenCalls.length;
				if (source === 'external') centralServiceCalls = central;
			});

		tokenCheck('stable', 2, 'at most one token request per worker');
		tokenCheck('classic', 2, 'at most one /cgi-bin/token per worker, so no storm of tokens invalidating each other');
		tokenCheck('external', 2, 'n8n never asks WeChat; at most one request per worker to the central token service');

		queue.check(
			'token revoked while both workers are busy: at most one refresh per worker, every item succeeds',
			async (t) => {
				let revokedAfter = 0;
				const earlierExecutions = new Set(queue.cluster.workerByExecution().keys());
				const logStart = (await queue.wechat.apiLog()).length;
				const result = await bulkRun('stable', async () => {
					// Revoke once both workers have started executions of this run and its sends are flowing.
					await waitFor(
						'both workers busy with sends',
						async () => {
							const sends = (await queue.apiLogSince(logStart)).filter(
								(call) => call.path === '/cgi-bin/message/custom/send',
							);
							const ran = new Set(
								[...queue.cluster.workerByExecution()]
									.filter(([id]) => !earlierExecutions.has(id))
									.map(([, worker]) => worker),
							);
							return ran.size === 2 && sends.length > 0 ? sends.length : undefined;
						},
						120_000,
						100,
					);
					revokedAfter = (await queue.wechat.apiLog()).length;
					await queue.wechat.admin('revoke-token', {});
				});
				const afterRevoke = (await queue.wechat.apiLog()).slice(revokedAfter);
				const refreshes = afterRevoke.filter(isToken).length;
				const rejected = afterRevoke.filter(
					(call) => (call.response.body as { errcode?: number }).errcode === 40001,
				).length;
				t.diagnostic(`after the revocation: ${rejected} requests rejected with 40001, ${refreshes} token requests`);
				assert.ok(rejected > 0, 'the revocation came after every send: nothing was tested');
				assert.ok(refreshes <= 2, `${refreshes} token refreshes for 2 workers`);
				assert.equal(result.items, 200);
				assert.equal(result.failedItems, 0);
				assert.ok(result.rows.every((row) => row.status === 'success'));
				queue.figure(
					`queue-token-calls: ${tokenCalls.stable ?? 'n/a'} (stable; 20 executions × 10 items at once from an empty ` +
						`credential, 2 workers of concurrency ${WORKER_CONCURRENCY}; classic ${tokenCalls.classic ?? 'n/a'}; ` +
						`external: 1 token request to WeChat in all, the central token service's own (n8n made ` +
						`${tokenCalls.external ?? 'n/a'}), and the service was asked ${centralServiceCalls} times, once per cold worker; ` +
						`token revoked mid-run: ${refreshes} refreshes)`,
				);
			},
		);
	});

	describe('every resource runs on a worker', () => {
		const runOnWorker = async (
			workflowId: string,
			webhook: 'webhookA' | 'webhookB',
			body: string | Buffer,
			type?: string,
		) => {
			const before = (await queue.executions(workflowId)).length;
			const logBefore = (await queue.wechat.apiLog()).length;
			await queue.callWebhook(queue.cluster.webhooks[webhook].baseUrl, workflowId, body, type);
			const [row] = await queue.newExecutions(workflowId, before, 1);
			const worker = await queue.workerOf(row.id);
			const run = await queue.cluster.main.internals.executionData(row.id);
			if (run.error) assert.fail(`${workflowId} failed on ${worker}: ${run.error.message} (${run.error.node ?? ''})`);
			assert.equal(row.status, 'success');
			return { row, worker, run, calls: await queue.apiLogSince(logBefore) };
		};

		queue.check('account: create, update, get many, delete', async (t) => {
			const { worker, run, calls } = await runOnWorker(queue.workflows.account.id, 'webhookA', '{}');
			t.diagnostic(`ran on ${worker}`);
			assert.deepEqual(
				carriedOut(calls).map((call) => call.path),
				[
					'/customservice/kfaccount/add',
					'/customservice/kfaccount/update',
					'/cgi-bin/customservice/getkflist',
					'/customservice/kfaccount/del',
				],
			);
			assert.ok(run.items('Get Many').some((item) => item.kf_account === 'queuenew@emulator_oa'));
			assert.deepEqual(run.items('Create'), [
				{ kf_account: 'queuenew@emulator_oa', nickname: 'Queue 客服', created: true },
			]);
			assert.equal(run.items('Delete').length, 1);
		});

		queue.check(
			'message from binary data: the JPEG the webhook process stored is read by the worker, uploaded and sent',
			async (t) => {
				// Typing needs a message from the user within the last 30 seconds.
				await queue.wechat.admin('user-message', { openid: F[3] });
				const { worker, run, calls } = await runOnWorker(queue.workflows.message.id, 'webhookB', JPEG, 'image/jpeg');
				t.diagnostic(`ran on ${worker}; binary data crossed from webhookB to ${worker} through the database`);
				const upload = calls.find((call) => call.path === '/cgi-bin/media/upload');
				assert.ok(upload?.multipart, 'no media upload reached WeChat');
				assert.equal(upload.multipart.files[0].size, JPEG.length);
				assert.equal(upload.multipart.files[0].sha256, createHash('sha256').update(JPEG).digest('hex'));
				const mediaId = (upload.response.body as { media_id: string }).media_id;
				const sends = carriedOut(calls)
					.filter((call) => call.path === '/cgi-bin/message/custom/send')
					.map((call) => call.json);
				assert.deepEqual(sends, [
					{ touser: F[3], msgtype: 'image', image: { media_id: mediaId } },
					{ touser: F[3], msgtype: 'text', text: { content: '队列 ✓' } },
				]);
				assert.equal(run.items('Send Text').length, 1);
			},
		);

		queue.check('session: create, get, get many, close, get waiting', async (t) => {
			const { worker, run, calls } = await runOnWorker(queue.workflows.session.id, 'webhookA', '{}');
			t.diagnostic(`ran on ${worker}`);
			const paths = carriedOut(calls).map((call) => call.path);
			assert.deepEqual(paths, [
				'/customservice/kfsession/create',
				'/customservice/kfsession/getsession',
				'/customservice/kfsession/getsessionlist',
				'/customservice/kfsession/close',
				'/customservice/kfsession/getwaitcase',
			]);
			assert.deepEqual(run.items('Create'), [{ kf_account: 'alice@emulator_oa', openid: F[4], created: true }]);
			assert.equal(run.items('Get')[0]?.kf_account, 'alice@emulator_oa');
			assert.deepEqual(run.items('Close'), [{ kf_account: 'alice@emulator_oa', openid: F[4], closed: true }]);
			assert.equal(run.items('Get Waiting').length, 4);
		});

		queue.check(`chat records: a ${CHAT_RECORDS.toLocaleString('en')}-record export of yesterday`, async (t) => {
			const { worker, run, calls } = await runOnWorker(queue.workflows.chatRecord.id, 'webhookB', '{}');
			const items = run.items('Export');
			t.diagnostic(`ran on ${worker}: ${items.length} records in ${calls.length} requests`);
			assert.equal(items.length, CHAT_RECORDS);
			const { yesterdayStart, todayStart } = beijingDays();
			assert.ok(items.every((item) => Number(item.time) >= yesterdayStart && Number(item.time) < todayStart));
			assert.ok(
				calls.filter((call) => call.path === '/customservice/msgrecord/getmsglist').length >= CHAT_RECORDS / 10_000,
			);
		});
	});

	describe('pushes over two webhook processes', () => {
		const urlOn = (process: 'webhookA' | 'webhookB', which: 'push' | 'transfer') =>
			queue.triggerUrl(queue.cluster.webhooks[process].baseUrl, which);

		const retriedAcross = async (which: 'push' | 'transfer', openid: string) => {
			const workflow = which === 'push' ? queue.workflows.push : queue.workflows.transfer;
			const before = (await queue.executions(workflow.id)).length;
			const built = safePush(textMessage(openid, `${which}: first to A, retried to B`));
			const answers: Answer[] = [await post(urlOn('webhookA', which), built.query, built.body)];
			for (let retry = 0; retry < 2; retry++) {
				await sleep(5_000); // WeChat retries 5 s after a delivery it did not get an answer for
				answers.push(await post(urlOn('webhookB', which), built.query, built.body));
			}
			const rows = await queue.newExecutions(workflow.id, before, 1, 3_000);
			pushDuplicates += rows.length - 1;
			return { answers, rows };
		};

		queue.check(
			'the same push to webhook A, then its two retries to B 5 s apart → one execution, identical answers',
			async () => {
				const { answers, rows } = await retriedAcross('push', F[0]);
				assert.deepEqual(
					answers.map((answer) => [answer.status, answer.body]),
					Array(3).fill([200, 'success']),
				);
				assert.equal(rows.length, 1, `${rows.length} executions for one push`);
				assert.ok(await queue.workerOf(rows[0].id));
			},
		);

		queue.check(
			'the same with the encrypted transfer_customer_service reply: the retries get it byte for byte',
			async () => {
				const { answers, rows } = await retriedAcross('transfer', F[1]);
				assert.equal(new Set(answers.map((answer) => JSON.stringify(answer))).size, 1, JSON.stringify(answers));
				const reply = decryptReply(answers[0].body, {
					token: PUSH_TOKEN,
					encodingAESKey: ENCODING_AES_KEY,
					appId: queue.wechat.appId,
				});
				assert.equal(reply.signatureValid, true);
				assert.equal(xmlField(reply.plaintext, 'MsgType'), 'transfer_customer_service');
				assert.equal(xmlField(reply.plaintext, 'ToUserName'), F[1]);
				assert.equal(rows.length, 1, `${rows.length} executions for one push`);
			},
		);

		queue.check('100 distinct pushes spread over A and B (10 in flight) → 100 executions, none lost', async (t) => {
			const workflow = queue.workflows.push;
			const before = (await queue.executions(workflow.id)).length;
			const pushes = Array.from({ length: 100 }, (_, i) => safePush(textMessage(F[i % F.length], `distinct ${i}`)));
			const answers: Answer[] = [];
			for (let i = 0; i < pushes.length; i += 10) {
				const batch = pushes
					.slice(i, i + 10)
					.map((built, j) => post(urlOn((i + j) % 2 === 0 ? 'webhookA' : 'webhookB', 'push'), built.query, built.body));
				answers.push(...(await Promise.all(batch)));
			}
			assert.ok(
				answers.every((answer) => answer.status === 200 && answer.body === 'success'),
				JSON.stringify(answers.find((a) => a.body !== 'success')),
			);
			const rows = await queue.newExecutions(workflow.id, before, 100, 3_000);
			assert.equal(rows.length, 100);
			assert.ok(rows.every((row) => row.status === 'success'));
			const workers = new Set(await Promise.all(rows.map((row) => queue.workerOf(row.id))));
			const stored = await queue.cluster.main.internals.staticData(workflow.id);
			t.diagnostic(`ran on ${[...workers].join(' and ')}; static data after the run: ${stored.chars} characters`);

			// Then WeChat retries each of them, 5 s later, on the other process, 10 in flight: the shared copy lost
			// entries wherever two saves overlapped, until the process that wrote them saved again.
			await sleep(5_000);
			const retried: Answer[] = [];
			for (let i = 0; i < pushes.length; i += 10) {
				const batch = pushes
					.slice(i, i + 10)
					.map((built, j) => post(urlOn((i + j) % 2 === 0 ? 'webhookB' : 'webhookA', 'push'), built.query, built.body));
				retried.push(...(await Promise.all(batch)));
			}
			assert.ok(retried.every((answer) => answer.status === 200 && answer.body === 'success'));
			await sleep(5_000);
			const afterRetries = (await queue.executions(workflow.id)).slice(before);
			duplicatesUnderLoad = afterRetries.length - 100;
			t.diagnostic(`retries of the 100 on the other process: ${duplicatesUnderLoad} second executions`);
			assert.ok(duplicatesUnderLoad >= 0);
		});

		queue.check(
			'the trust attacks are refused on both webhook processes, each with one secret-free log line',
			async () => {
				for (const process of ['webhookA', 'webhookB'] as const) {
					const instance = queue.cluster.webhooks[process];
					const url = urlOn(process, 'push');
					const executionsBefore = (await queue.executions(queue.workflows.push.id)).length;
					const refusalsBefore = (await refusalLines(instance.logFile)).length;
					// Forged msg_signature.
					const genuine = safePush(textMessage(F[2], 'genuine'));
					const forged = await post(url, { ...genuine.query, msg_signature: '0'.repeat(40) }, genuine.body);
					assert.equal(forged.status, 401, `${process}: ${forged.body}`);
					// A captured safe-mode URL downgraded to plaintext, under a body of the attacker's.
					const { encrypt_type: _type, msg_signature: _signature, ...plainQuery } = genuine.query;
					const downgraded = await post(url, plainQuery, toXml(textMessage(F[6], 'forged by an attacker')));
					assert.equal(downgraded.status, 401, `${process}: ${downgraded.body}`);
					// Padding oracle: ciphertexts of one's own, signed with the Token; one identical answer for all.
					const answers = new Set<string>();
					for (const probe of paddingOracleProbes(queue.wechat.appId, textMessage(F[2], 'probe'))) {
						answers.add(JSON.stringify(await post(url, probe.query, probe.body)));
					}
					assert.equal(answers.size, 1, [...answers].join(' | '));
					assert.equal((JSON.parse([...answers][0]) as Answer).body, '-40007 invalid encrypted push');
					await sleep(1_500);
					assert.equal(
						(await queue.executions(queue.workflows.push.id)).length,
						executionsBefore,
						`${process} started an execution`,
					);
					const lines = (await refusalLines(instance.logFile)).slice(refusalsBefore);
					assert.equal(lines.length, 5, `${process} refusal lines: ${lines.join(' | ')}`);
					for (const line of lines) {
						for (const secret of [PUSH_TOKEN, ENCODING_AES_KEY, queue.wechat.appSecret])
							assert.ok(!line.includes(secret));
						assert.ok(!line.includes('forged by an attacker') && !line.includes('probe'));
					}
				}
			},
		);

		queue.check(
			'a push accepted by A and delivered again to B re-signed under a new timestamp and nonce starts nothing',
			async () => {
				const before = (await queue.executions(queue.workflows.push.id)).length;
				const message = textMessage(F[3], 'accepted on A');
				const accepted = safePush(message, { nonce: String(200000 + Math.floor(Math.random() * 1e6)) });
				assert.equal((await post(urlOn('webhookA', 'push'), accepted.query, accepted.body)).status, 200);
				await queue.newExecutions(queue.workflows.push.id, before, 1);
				await sleep(1_000); // A's save of the static data
				// The same MsgId, encrypted and signed afresh: what a WeChat retry with a new URL looks like.
				const again = safePush(message, { nonce: String(300000 + Math.floor(Math.random() * 1e6)) });
				assert.notEqual(again.query.msg_signature, accepted.query.msg_signature);
				const onB = await post(urlOn('webhookB', 'push'), again.query, again.body);
				assert.deepEqual([onB.status, onB.body], [200, 'success']);
				await sleep(1_500);
				assert.equal((await queue.executions(queue.workflows.push.id)).length, before + 1);
			},
		);

		queue.check('figure: duplicate executions from retries that reached the other webhook process', async () => {
			queue.figure(
				`queue-push-duplicates: ${pushDuplicates} (2 pushes, each delivered to webhook A and retried twice to B 5 s ` +
					`apart; 0 is the goal. Under load, 100 pushes 10 in flight each retried once on the other process: ` +
					`${duplicatesUnderLoad ?? 'not run'} second executions)`,
			);
			assert.equal(pushDuplicates, 0);
		});
	});

	queue.check(
		'nothing left loopback: no connection, lookup or datagram outside 127.0.0.0/8 by any n8n process',
		async () => {
			for (const [name, instance] of Object.entries(queue.cluster.processes)) {
				const { attempts, guardedPids } = await readGuardLog(instance.netLogFile);
				assert.deepEqual(attempts, [], `${name}: the guard recorded non-loopback attempts`);
				assert.ok(guardedPids.includes(instance.serverPid ?? -1), `${name}: the guard was not loaded`);
			}
		},
	);
});
