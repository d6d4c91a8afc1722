/**
 * A throw-away n8n: its own folder (user folder, files, log, temp) and n8n's own CLI — the package installed as the
 * community-package installer installs it, import, execute, publish — and `n8n start`. Everything stays on
 * 127.0.0.1: n8n gets an offline environment (env() below) and netGuard.cjs preloaded. What differs between n8n
 * versions is asked of `internals`.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, promises as fs, rmSync, type WriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { guardEnvironment } from './loopbackGuard';
import type { N8nInstall } from './n8nInstall';
import { type ExecutionOutput, N8nInternals } from './n8nInternals';
import { freePort } from './ports';
import { commandFailure, isShuttingDown, onShutdown, run, type RunResult, spawnTracked, stopChild } from './processes';
import { fetchWithTimeout, waitFor } from './waits';

/** Fixed so that data written by one command can be read by the next and by `n8n start`. */
const ENCRYPTION_KEY = 'n8n-nodes-wechat-customer-service-e2e-key';

/** An entry of the file `n8n import:credentials` reads. */
export interface CredentialInput {
	id: string;
	name: string;
	type: string;
	data: Record<string, unknown>;
}

/** A workflow as exported by n8n and read by `n8n import:workflow`. */
export interface WorkflowJson {
	id: string;
	name: string;
	nodes: Array<Record<string, unknown> & { name: string; type: string; parameters: Record<string, unknown> }>;
	connections: Record<string, unknown>;
	settings?: Record<string, unknown>;
	active?: boolean;
	[key: string]: unknown;
}

export interface N8nInstanceOptions {
	install: N8nInstall;
	/** Fixed editor port (dev); default a free one. */
	port?: number;
	/** Extra environment for every n8n command. */
	env?: NodeJS.ProcessEnv;
	/** Queue mode: how to read n8n's PostgreSQL database (the env must point n8n at the same one). */
	postgresQuery?: <T>(sql: string) => Promise<T[]>;
}

export class N8nInstance {
	readonly install: N8nInstall;
	/** The temp folder holding everything of this instance. */
	readonly root: string;
	/** N8N_USER_FOLDER (n8n keeps its data in `<userFolder>/.n8n`). */
	readonly userFolder: string;
	/** Where Read/Write Files from Disk may read and write (N8N_RESTRICT_FILE_ACCESS_TO). */
	readonly filesDir: string;
	readonly logFile: string;
	/** TMPDIR of the n8n processes. */
	readonly tmpDir: string;
	/** netGuard.cjs's record of this instance's processes (read it with readGuardLog). */
	readonly netLogFile: string;
	readonly port: number;
	readonly baseUrl: string;
	readonly log: WriteStream;
	readonly internals: N8nInternals;
	readonly postgresQuery?: <T>(sql: string) => Promise<T[]>;
	/** Things that went wrong in n8n itself without failing the run (reported by the scripts). */
	readonly warnings: string[] = [];
	private readonly extraEnv: NodeJS.ProcessEnv;
	private keep: boolean;
	private server?: ChildProcess;
	private exitListener?: (code: number | null, signal: NodeJS.Signals | null) => void;

	private constructor(options: N8nInstanceOptions, root: string, port: number) {
		this.install = options.install;
		this.root = root;
		this.userFolder = path.join(root, 'user');
		this.filesDir = path.join(root, 'files');
		this.logFile = path.join(root, 'n8n.log');
		this.tmpDir = path.join(root, 'tmp');
		this.netLogFile = path.join(root, 'non-loopback-connections.jsonl');
		this.port = port;
		this.baseUrl = `http://127.0.0.1:${port}`;
		this.log = createWriteStream(this.logFile, { flags: 'a' });
		this.extraEnv = options.env ?? {};
		// KEEP_N8N=1 keeps the folder (its n8n.log, its database) for a look after the run.
		this.keep = process.env.KEEP_N8N === '1';
		this.postgresQuery = options.postgresQuery;
		this.internals = new N8nInternals(this);
	}

	/** Creates the folder (removed at shutdown unless kept). */
	static async create(options: N8nInstanceOptions): Promise<N8nInstance> {
		const root = await fs.mkdtemp(path.join(os.tmpdir(), 'n8n-wechat-cs-'));
		const instance = new N8nInstance(options, root, options.port ?? (await freePort()));
		await fs.mkdir(path.join(instance.userFolder, '.n8n', 'nodes'), { recursive: true });
		await fs.mkdir(instance.filesDir, { recursive: true });
		await fs.mkdir(instance.tmpDir, { recursive: true });
		await fs.writeFile(instance.netLogFile, '');
		onShutdown(async () => {
			await new Promise<void>((resolve) => instance.log.end(() => resolve()));
			if (!instance.keep) rmSync(root, { recursive: true, force: true });
		});
		return instance;
	}

	/** Keeps the folder (and its n8n.log) after shutdown, e.g. because the run failed. */
	preserve(): void {
		this.keep = true;
	}

	/** Offline, sqlite, loopback only, no telemetry, fixed key. */
	env(brokerPort: number): NodeJS.ProcessEnv {
		const env: NodeJS.ProcessEnv = {
			// Only what n8n needs from the outside: the cached Node first on PATH (the task runner is spawned as `node`).
			PATH: `${this.install.nodeBinDir}:${process.env.PATH ?? ''}`,
			HOME: process.env.HOME,
			LANG: process.env.LANG ?? 'C.UTF-8',
			TZ: process.env.TZ,
			N8N_USER_FOLDER: this.userFolder,
			DB_TYPE: 'sqlite',
			N8N_ENCRYPTION_KEY: ENCRYPTION_KEY,
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_HOST: '127.0.0.1',
			N8N_PORT: String(this.port),
			N8N_PROTOCOL: 'http',
			WEBHOOK_URL: `${this.baseUrl}/`,
			N8N_SECURE_COOKIE: 'false',
			N8N_RUNNERS_MODE: 'internal',
			N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
			N8N_RUNNERS_BROKER_PORT: String(brokerPort),
			N8N_DIAGNOSTICS_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_TEMPLATES_ENABLED: 'false',
			N8N_PERSONALIZATION_ENABLED: 'false',
			N8N_AI_ENABLED: 'false',
			N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
			// `execute --rawOutput` prints its JSON only at level info.
			N8N_LOG_LEVEL: 'info',
			N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
			// WeChat accounts live in Beijing time; the examples' "yesterday" is a Beijing day.
			GENERIC_TIMEZONE: 'Asia/Shanghai',
			// Read/Write Files from Disk may only touch this folder (n8n 2.x restricts file access by default).
			N8N_RESTRICT_FILE_ACCESS_TO: this.filesDir,
			// n8n also writes below os.tmpdir() (data-table uploads …): keep that inside this throw-away folder.
			TMPDIR: this.tmpDir,
			...guardEnvironment(this.netLogFile),
			...this.extraEnv,
			...this.internals.versionEnvironment(),
		};
		for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
		return env;
	}

	/** Runs `n8n <args>` to completion (bounded). */
	async cli(args: string[], timeoutMs = 120_000): Promise<RunResult> {
		// A fresh broker port per command: `n8n execute` starts its own task broker, maybe while `n8n start` runs.
		const env = this.env(await freePort());
		return await run(this.install.nodeBin, [this.install.n8nBin, ...args], {
			cwd: this.root,
			env,
			timeoutMs,
			log: this.log,
		});
	}

	private async cliOrThrow(args: string[], success?: RegExp): Promise<void> {
		const result = await this.cli(args);
		if (result.code !== 0) throw commandFailure(`n8n ${args.join(' ')}`, result);
		if (success && !success.test(result.stdout + result.stderr)) {
			throw commandFailure(`n8n ${args[0]} (no success line)`, result);
		}
	}

	/** Installs the tarball the way n8n's community-package installer does. */
	async installPackage(tarball: string): Promise<void> {
		const nodesDir = path.join(this.userFolder, '.n8n', 'nodes');
		await fs.writeFile(
			path.join(nodesDir, 'package.json'),
			`${JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2)}\n`,
		);
		const result = await run(
			'npm',
			['install', '--omit=dev', '--ignore-scripts', '--legacy-peer-deps', '--no-audit', '--no-fund', tarball],
			{ cwd: nodesDir, timeoutMs: 5 * 60_000, log: this.log },
		);
		if (result.code !== 0) throw commandFailure('npm install <tarball> in .n8n/nodes', result);
	}

	async importCredentials(credentials: CredentialInput[]): Promise<void> {
		const file = path.join(this.root, `credentials-${Date.now()}.json`);
		await fs.writeFile(file, JSON.stringify(credentials, null, 2));
		await this.cliOrThrow(['import:credentials', `--input=${file}`], /Successfully imported/);
		await fs.rm(file, { force: true });
	}

	/** Imports workflows (each becomes inactive, as n8n does on import). */
	async importWorkflows(workflows: WorkflowJson[]): Promise<void> {
		const file = path.join(this.root, `workflows-${Date.now()}.json`);
		await fs.writeFile(file, JSON.stringify(workflows, null, 2));
		await this.cliOrThrow(['import:workflow', `--input=${file}`], /Successfully imported/);
	}

	/** `n8n execute --id <id> --rawOutput`: the run, also when the workflow failed. */
	async execute(workflowId: string, timeoutMs = 180_000): Promise<ExecutionOutput> {
		const what = `n8n execute --id=${workflowId}`;
		const result = await this.cli(['execute', `--id=${workflowId}`, '--rawOutput'], timeoutMs);
		if (result.timedOut) throw commandFailure(what, result);
		const output = this.internals.parseExecuteOutput(result.stdout);
		if (output === undefined) throw commandFailure(`${what} (no JSON in the output)`, result);
		if (result.code !== 0 && output.error === undefined) {
			// Seen now and then with n8n 2.41.0: the run finished and was printed and stored, then the process died with
			// SIGSEGV while exiting (a native module's teardown). The result stands; the crash is reported, not hidden.
			if (!result.signal || output.raw.finished !== true) throw commandFailure(what, result);
			this.warnings.push(`${what} finished, then the n8n process died with ${result.signal} while exiting`);
		}
		return output;
	}

	/** Activates a workflow so that `n8n start` serves its production webhooks and schedules. */
	async publish(workflowId: string): Promise<void> {
		await this.cliOrThrow(this.internals.publishArgs(workflowId));
	}

	/** Deactivates a workflow (takes effect at the next `n8n start`). */
	async unpublish(workflowId: string): Promise<void> {
		await this.cliOrThrow(this.internals.unpublishArgs(workflowId));
	}

	/**
	 * `n8n start` (or, in queue mode, `n8n worker …` / `n8n webhook`), output to the log file; resolves when
	 * /healthz/readiness answers 200 (bounded). A worker answers it on its health-check port (QUEUE_HEALTH_CHECK_PORT).
	 */
	async start(timeoutMs = 120_000, command: string[] = ['start']): Promise<void> {
		if (this.server) throw new Error('n8n is already running');
		const env = this.env(await freePort());
		this.log.write(`\n$ n8n ${command.join(' ')} (port ${this.port})\n`);
		const child = spawnTracked(this.install.nodeBin, [this.install.n8nBin, ...command], {
			cwd: this.root,
			env,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		this.server = child;
		child.stdout?.pipe(this.log, { end: false });
		child.stderr?.pipe(this.log, { end: false });
		let exited = false;
		child.once('exit', (code, signal) => {
			exited = true;
			if (this.server === child && !isShuttingDown()) this.exitListener?.(code, signal);
		});
		const exitedError = () => new Error(`n8n ${command[0]} exited (code ${child.exitCode}); see ${this.logFile}`);
		await waitFor(
			`n8n ${this.install.version} to be ready on ${this.baseUrl} (log: ${this.logFile})`,
			async () => {
				if (exited) throw exitedError();
				const response = await fetchWithTimeout(`${this.baseUrl}/healthz/readiness`, {}, 2_000);
				return response.status === 200 ? true : undefined;
			},
			timeoutMs,
			500,
		).catch((error: unknown) => {
			throw exited ? exitedError() : error;
		});
	}

	/** Waits until n8n serves a production webhook: activation can finish a moment after readiness (bounded). */
	async waitForWebhook(url: string): Promise<void> {
		const probe = async () => ((await fetchWithTimeout(`${url}?probe=1`, {}, 3_000)).status === 404 ? undefined : true);
		await waitFor(`n8n to serve ${url}`, probe, 60_000, 500);
	}

	/** The pid of the running `n8n start` (its process group holds the task runner too). */
	get serverPid(): number | undefined {
		return this.server?.pid;
	}

	/** Called when `n8n start` exits on its own (not through stop()). */
	onServerExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
		this.exitListener = listener;
	}

	async stop(): Promise<void> {
		if (!this.server) return;
		const server = this.server;
		this.server = undefined;
		await stopChild(server, 20_000);
	}
}
