/**
 * What the queue-mode checks share — Redis and PostgreSQL from Debian, the emulator, a central token service, and
 * n8n in queue mode (queueCluster.ts) with the package installed in every process and the workflows published — with
 * the set-up and teardown that make and remove it, and the figures the run reports.
 */
import { createWriteStream, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';

import { type EmulatorProcess, type LoggedApiRequest, startEmulator } from '../lib/emulator';
import { ensureN8n } from '../lib/n8nInstall';
import type { ExecutionRow } from '../lib/n8nInternals';
import { buildAndPack } from '../lib/packageUnderTest';
import { isShuttingDown, onShutdown, shutdown } from '../lib/processes';
import { type Receiver, startReceiver } from '../lib/receiver';
import { fetchWithTimeout, sleep, waitFor } from '../lib/waits';
import { beijingDays } from '../e2e/testData';
import { QueueCluster } from './queueCluster';
import { queueCredentials, queueSeed, queueWorkflows, type QueueWorkflows, webhookPath } from './queueWorkflows';
import { ensureDebianPackages, servicesFolder, startPostgres, startRedis } from './services';

export const N8N_VERSION = '2.41.0';

export function isToken(request: LoggedApiRequest): boolean {
	return request.path === '/cgi-bin/token' || request.path === '/cgi-bin/stable_token';
}

/** WeChat's answers to a request whose access token it did not accept: nothing was done, and the node resends. */
const TOKEN_REJECTED = [40001, 40014, 42001];

/**
 * The API requests WeChat carried out: not token requests, and not those it refused for their token. A worker whose
 * copy of the token another worker's earlier refresh made stale gets 40001 once and sends again with a new token.
 */
export function carriedOut(requests: LoggedApiRequest[]): LoggedApiRequest[] {
	return requests.filter((request) => {
		if (isToken(request)) return false;
		const errcode = (request.response.body as { errcode?: unknown } | undefined)?.errcode;
		return !(typeof errcode === 'number' && TOKEN_REJECTED.includes(errcode));
	});
}

export class QueueRun {
	cluster!: QueueCluster;
	wechat!: EmulatorProcess;
	workflows!: QueueWorkflows;
	/** The company's central token service (中控服务器): hands out one token it obtained from "WeChat" itself. */
	centralTokenService!: Receiver;
	centralToken?: { access_token: string; expires_in: number };
	folder!: string;
	log!: WriteStream;
	/** Lines for the summary: the figures (`queue-token-calls: …`). */
	readonly figures: string[] = [];
	private failed = false;

	async guard<T>(work: () => Promise<T>): Promise<T> {
		try {
			return await work();
		} catch (error) {
			// A check that failed keeps the folders (n8n's logs) for a look; work cut short by Ctrl-C or SIGTERM does not.
			if (!isShuttingDown()) this.failed = true;
			throw error;
		}
	}

	check(name: string, body: (t: TestContext) => Promise<void>): void {
		test(name, async (t) => await this.guard(() => body(t)));
	}

	figure(line: string): void {
		this.figures.push(line);
		process.stdout.write(`# ${line}\n`);
		// The runner (run.ts) prints the figures again beside the summary.
		if (process.env.QUEUE_FIGURES_FILE) writeFileSync(process.env.QUEUE_FIGURES_FILE, `${this.figures.join('\n')}\n`);
	}

	async setUp(): Promise<void> {
		await this.guard(async () => {
			const say = (text: string) => process.stdout.write(`# ${text}\n`);
			const install = await ensureN8n(N8N_VERSION, undefined, say);
			const started = Date.now();
			const { installed } = await ensureDebianPackages(say);
			if (installed.length) say(`installed ${installed.join(', ')} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
			this.folder = await servicesFolder();
			onShutdown(() => {
				if (this.failed || process.env.KEEP_N8N === '1') {
					process.stderr.write(`queue run folder kept: ${this.folder}\n`);
					return;
				}
				rmSync(this.folder, { recursive: true, force: true });
			});
			this.log = createWriteStream(path.join(this.folder, 'services.log'));
			onShutdown(() => new Promise<void>((resolve) => this.log.end(() => resolve())));
			const [postgres, redis] = await Promise.all([
				startPostgres(path.join(this.folder, 'postgres'), this.log),
				startRedis(path.join(this.folder, 'redis'), this.log),
			]);
			this.wechat = await startEmulator({ log: this.log });
			this.centralTokenService = await startReceiver(() =>
				this.centralToken
					? { body: JSON.stringify(this.centralToken) }
					: { status: 503, type: 'text/plain', body: 'no token yet' },
			);
			const tarball = await buildAndPack(path.join(this.folder, 'pack'), this.log);
			this.cluster = await QueueCluster.create(install, { postgres, redis }, tarball);

			const days = beijingDays();
			await this.wechat.admin('seed', queueSeed(days));
			// The bulk runs send 800 messages to 10 followers; WeChat's per-follower window is not what is tested.
			await this.wechat.admin('settings', { sendQuotaPerWindow: 100_000 });
			this.workflows = queueWorkflows(days);
			const { main } = this.cluster;
			await main.importCredentials(queueCredentials(this.wechat, `${this.centralTokenService.url}/token`));
			const all = [
				this.workflows.account,
				this.workflows.message,
				this.workflows.session,
				this.workflows.chatRecord,
				...Object.values(this.workflows.bulk),
				this.workflows.push,
				this.workflows.transfer,
			];
			await main.importWorkflows(all);
			for (const workflow of all) await main.publish(workflow.id);
			await this.cluster.start();
			this.recordResources();
			for (const webhook of Object.values(this.cluster.webhooks)) {
				await webhook.waitForWebhook(this.triggerUrl(webhook.baseUrl, 'push'));
			}
		});
	}

	/**
	 * For run.ts's check after the run that nothing is left: every process group started (n8n's five with their task
	 * runners, PostgreSQL, Redis, the emulator), every port listened on, and the folders.
	 */
	private recordResources(): void {
		const file = process.env.QUEUE_RESOURCES_FILE;
		if (!file) return;
		const instances = Object.values(this.cluster.processes);
		const { postgres, redis } = this.cluster.services;
		const resources = {
			processGroups: [
				...instances.map((instance) => instance.serverPid),
				postgres.pid,
				redis.pid,
				this.wechat.pid,
			].filter((pid): pid is number => pid !== undefined),
			ports: [
				...this.cluster.ports(),
				Number(new URL(this.wechat.baseUrl).port),
				Number(new URL(this.centralTokenService.url).port),
			],
			folders: [this.folder, this.cluster.filesDir, ...instances.map((instance) => instance.root)],
		};
		writeFileSync(file, JSON.stringify(resources));
	}

	async tearDown(): Promise<void> {
		await this.cluster?.stop();
		if (this.failed && this.cluster) for (const instance of Object.values(this.cluster.processes)) instance.preserve();
		await shutdown();
	}

	/** The production URL of the push or transfer trigger on a webhook process. */
	triggerUrl(baseUrl: string, which: 'push' | 'transfer'): string {
		const workflow = which === 'push' ? this.workflows.push : this.workflows.transfer;
		return `${baseUrl}/webhook/${String(workflow.nodes[0].webhookId)}/webhook`;
	}

	/** POSTs to a Webhook-node workflow on a webhook process; n8n answers at once and queues the execution. */
	async callWebhook(
		baseUrl: string,
		workflowId: string,
		body: string | Buffer,
		contentType = 'application/json',
	): Promise<void> {
		const response = await fetchWithTimeout(
			`${baseUrl}/webhook/${webhookPath(workflowId)}`,
			{ method: 'POST', body, headers: { 'content-type': contentType } },
			60_000,
		);
		const text = await response.text();
		if (response.status !== 200) throw new Error(`webhook ${workflowId} answered ${response.status}: ${text}`);
	}

	executions(workflowId: string): Promise<ExecutionRow[]> {
		return this.cluster.main.internals.executions(workflowId);
	}

	/** Waits until `count` executions of the workflow have ended (bounded), and returns them. */
	async waitForExecutions(workflowId: string, count: number, timeoutMs = 240_000): Promise<ExecutionRow[]> {
		return await this.cluster.main.internals.waitForExecutions(workflowId, count, timeoutMs);
	}

	/** The executions that appeared after `before`, once `expected` of them ended; then waits `settleMs` for extras. */
	async newExecutions(workflowId: string, before: number, expected: number, settleMs = 0): Promise<ExecutionRow[]> {
		await this.waitForExecutions(workflowId, before + expected);
		if (settleMs) await sleep(settleMs);
		return (await this.executions(workflowId)).slice(before);
	}

	/** Which worker ran the execution; waits a moment for the worker's log line (bounded). */
	async workerOf(executionId: string): Promise<'worker1' | 'worker2'> {
		return await waitFor(
			`the worker log line of execution ${executionId}`,
			async () => this.cluster.workerByExecution().get(executionId),
			30_000,
			500,
		);
	}

	async apiLogSince(index: number): Promise<LoggedApiRequest[]> {
		return (await this.wechat.apiLog()).slice(index);
	}
}
