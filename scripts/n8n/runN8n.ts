/**
 * Runs the package inside the real n8n, the way a user gets it: the cached n8n install (scripts/n8n/install-n8n.sh),
 * the package built and packed with `npm pack`, the tarball installed into a throw-away n8n user folder exactly as n8n's
 * community-package installer does, then n8n's own CLI (import, execute, publish, start). Shared by e2e.ts, demo.ts
 * and dev.ts.
 *
 * Everything stays on 127.0.0.1: n8n gets an offline environment (the variables N8nInstance sets below), and
 * scripts/n8n/netGuard.cjs is preloaded into every n8n process to record (and refuse) any connection that is not
 * loopback. Every child process is started in its own process group and tracked, so a failure, Ctrl-C or SIGTERM still
 * stops n8n together with the task runner it spawned.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
	closeSync,
	createWriteStream,
	existsSync,
	mkdtempSync,
	openSync,
	promises as fs,
	readdirSync,
	readFileSync,
	readlinkSync,
	rmSync,
	type WriteStream,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const PACKAGE_NAME = 'n8n-nodes-wechat-customer-service';
export const NODE_TYPE = `${PACKAGE_NAME}.weChatCustomerService`;
export const TRIGGER_TYPE = `${PACKAGE_NAME}.weChatCustomerServiceTrigger`;
export const CREDENTIAL_TYPE = 'weChatOfficialAccountApi';
export const DEFAULT_N8N_VERSION = '2.41.0';

/** Fixed so that data written by one command can be read by the next and by `n8n start`. */
const ENCRYPTION_KEY = 'n8n-nodes-wechat-customer-service-e2e-key';
const NET_GUARD = path.join(__dirname, 'netGuard.cjs');

// ---------------------------------------------------------------------------------------------------------------
// Child processes: every one is tracked and killed with its whole process group on exit, failure or a signal.

const children = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void> | void> = [];
let shuttingDown = false;

/** Signals a process group (the child leads it: spawned detached); ESRCH when the group is gone is fine. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
	if (pid === undefined) return;
	try {
		process.kill(-pid, signal);
	} catch {
		// No such group any more.
	}
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
	if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
	// Negative pid: the child leads its own group, so n8n and the task runner it spawned get the signal together.
	signalGroup(child.pid, signal);
}

/** SIGTERM to the child's process group, SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) {
		children.delete(child);
		return;
	}
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	killGroup(child, 'SIGTERM');
	const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
	await exited;
	clearTimeout(timer);
	// The group may still hold a grandchild (the task runner) that ignored SIGTERM.
	signalGroup(child.pid, 'SIGKILL');
	children.delete(child);
}

/** Registers work to run at shutdown (folders to delete …), last registered first. */
export function onShutdown(cleanup: () => Promise<void> | void): void {
	cleanups.push(cleanup);
}

/** Stops every tracked child and runs the registered clean-ups; safe to call more than once. */
export async function shutdown(): Promise<void> {
	if (shuttingDown) return;
	shuttingDown = true;
	await Promise.all([...children].map((child) => stopChild(child)));
	for (const cleanup of cleanups.reverse()) {
		try {
			await cleanup();
		} catch (error) {
			process.stderr.write(`clean-up failed: ${String(error)}\n`);
		}
	}
}

let signalsInstalled = false;
/** Ctrl-C / SIGTERM: stop everything, then exit with 130 / 143. A hard exit still SIGKILLs the process groups. */
export function installSignalHandlers(onSignal?: (signal: NodeJS.Signals) => void): void {
	if (signalsInstalled) return;
	signalsInstalled = true;
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
		process.on(signal, () => {
			onSignal?.(signal);
			const hardStop = setTimeout(() => process.exit(signal === 'SIGINT' ? 130 : 143), 30_000);
			void shutdown().finally(() => {
				clearTimeout(hardStop);
				process.exit(signal === 'SIGINT' ? 130 : 143);
			});
		});
	}
	process.on('exit', () => {
		for (const child of children) killGroup(child, 'SIGKILL');
	});
	// A parent killed without passing the signal on (e.g. npm ended by a CI timeout) leaves this process orphaned:
	// treat that like SIGTERM so that n8n and the emulator do not outlive the run.
	const parent = process.ppid;
	const orphanWatch = setInterval(() => {
		if (process.ppid === parent) return;
		clearInterval(orphanWatch);
		process.emit('SIGTERM', 'SIGTERM');
	}, 2_000);
	orphanWatch.unref();
}

export interface RunResult {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
	timedOut: boolean;
}

export interface RunOptions {
	cwd?: string;
	env?: NodeJS.ProcessEnv;
	timeoutMs: number;
	/** Also appended to this file (the n8n log of the run). */
	log?: WriteStream;
}

/**
 * Runs a command to completion within a bounded time, capturing its output. The output goes to files, not pipes:
 * a Node child writes to a pipe (a socket pair) asynchronously, and n8n calls process.exit() right after printing,
 * which cut `n8n execute --rawOutput` off after about 2.5 MB of JSON. Writes to a file are synchronous.
 */
export function run(command: string, args: string[], options: RunOptions): Promise<RunResult> {
	return new Promise((resolve, reject) => {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'n8n-wechat-cs-run-'));
		const outPath = path.join(dir, 'stdout');
		const errPath = path.join(dir, 'stderr');
		const out = openSync(outPath, 'w');
		const err = openSync(errPath, 'w');
		let child: ChildProcess;
		try {
			child = spawn(command, args, {
				cwd: options.cwd ?? ROOT,
				env: options.env ?? process.env,
				stdio: ['ignore', out, err],
				detached: true,
			});
		} finally {
			closeSync(out);
			closeSync(err);
		}
		children.add(child);
		let timedOut = false;
		options.log?.write(`\n$ ${command} ${args.join(' ')}\n`);
		const timer = setTimeout(() => {
			timedOut = true;
			void stopChild(child, 5_000);
		}, options.timeoutMs);
		const collect = () => {
			const stdout = readFileSync(outPath, 'utf8');
			const stderr = readFileSync(errPath, 'utf8');
			rmSync(dir, { recursive: true, force: true });
			options.log?.write(stdout);
			options.log?.write(stderr);
			return { stdout, stderr };
		};
		child.once('error', (error) => {
			clearTimeout(timer);
			children.delete(child);
			collect();
			reject(error);
		});
		child.once('exit', (code, signal) => {
			clearTimeout(timer);
			children.delete(child);
			// The group may keep a grandchild (n8n's task runner) after the main process exited.
			signalGroup(child.pid, 'SIGKILL');
			resolve({ code, signal, ...collect(), timedOut });
		});
	});
}

function describeFailure(what: string, result: RunResult): Error {
	const tail = (result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n');
	const reason = result.timedOut ? 'timed out' : `exit ${result.code ?? result.signal}`;
	return new Error(`${what} failed (${reason})\n${tail}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Ports and HTTP helpers

/** A port that was free a moment ago on 127.0.0.1 (the kernel picks it). */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as net.AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** fetch with a hard deadline. */
export async function fetchWithTimeout(url: string, init: RequestInit = {}, timeoutMs = 10_000): Promise<Response> {
	return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}

/** Polls `check` until it returns a value other than undefined, at most `timeoutMs`. */
export async function waitFor<T>(
	what: string,
	check: () => Promise<T | undefined>,
	timeoutMs: number,
	everyMs = 250,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let lastError: unknown;
	while (Date.now() < deadline) {
		try {
			const value = await check();
			if (value !== undefined) return value;
		} catch (error) {
			lastError = error;
		}
		await sleep(everyMs);
	}
	throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (${String(lastError)})` : ''}`);
}

// ---------------------------------------------------------------------------------------------------------------
// The n8n install and the package tarball

export interface N8nInstall {
	version: string;
	dir: string;
	/** The Node this n8n version needs (24 for 2.x, 22 for 1.x). */
	nodeBinDir: string;
	nodeBin: string;
	n8nBin: string;
	major: number;
}

export function n8nVersionFrom(argv: string[] = process.argv.slice(2)): string {
	const inline = argv.find((arg) => arg.startsWith('--n8n-version='));
	if (inline) return inline.slice('--n8n-version='.length);
	const index = argv.indexOf('--n8n-version');
	if (index >= 0 && argv[index + 1]) return argv[index + 1];
	return process.env.N8N_VERSION || DEFAULT_N8N_VERSION;
}

/**
 * The cached install of `version`, installing it first when missing (several minutes, once per machine). The script
 * prints the folder as its last line; progress goes to `log` so a quiet run stays quiet.
 */
export async function ensureN8n(
	version: string,
	log?: WriteStream,
	say: (text: string) => void = () => {},
): Promise<N8nInstall> {
	const cacheRoot = process.env.N8N_CACHE_DIR || path.join(os.homedir(), '.cache', PACKAGE_NAME);
	let dir = path.join(cacheRoot, `n8n-${version}`);
	if (!existsSync(path.join(dir, '.complete'))) {
		say(`installing n8n ${version} into ${dir} (once per machine, about 7 minutes)…`);
		const result = await run('bash', [path.join(__dirname, 'install-n8n.sh'), version], {
			timeoutMs: 45 * 60_000,
			log,
		});
		if (result.code !== 0) throw describeFailure(`install-n8n.sh ${version}`, result);
		dir = result.stdout.trim().split('\n').pop() ?? dir;
	}
	const nodeBinDir = path.join(dir, readFileSync(path.join(dir, 'node-bin-dir'), 'utf8').trim());
	return {
		version,
		dir,
		nodeBinDir,
		nodeBin: path.join(nodeBinDir, 'node'),
		n8nBin: path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n'),
		major: Number(version.split('.')[0]),
	};
}

/** `npm run build`, then `npm pack` into `destination`; returns the tarball's path. */
export async function buildAndPack(destination: string, log?: WriteStream): Promise<string> {
	const build = await run('npm', ['run', 'build'], { timeoutMs: 5 * 60_000, log });
	if (build.code !== 0) throw describeFailure('npm run build', build);
	await fs.mkdir(destination, { recursive: true });
	const pack = await run('npm', ['pack', '--json', '--pack-destination', destination], { timeoutMs: 2 * 60_000, log });
	if (pack.code !== 0) throw describeFailure('npm pack', pack);
	const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string }>;
	return path.join(destination, info.filename);
}

// ---------------------------------------------------------------------------------------------------------------
// A throw-away n8n instance (user folder + CLI + server)

export interface CredentialInput {
	id: string;
	name: string;
	type: string;
	data: Record<string, unknown>;
}

export interface WorkflowJson {
	id: string;
	name: string;
	nodes: Array<Record<string, unknown> & { name: string; type: string; parameters: Record<string, unknown> }>;
	connections: Record<string, unknown>;
	settings?: Record<string, unknown>;
	active?: boolean;
	[key: string]: unknown;
}

export interface ExecutionOutput {
	/** `n8n execute --rawOutput`'s JSON: the run, with data.resultData.runData per node. */
	raw: Record<string, unknown>;
	/** The `json` of every output item of a node's last run, all outputs concatenated. */
	items(nodeName: string, output?: number): Array<Record<string, unknown>>;
	/** Whether the node ran at all. */
	ran(nodeName: string): boolean;
	error?: { message: string; description?: string; node?: string };
}

export interface N8nInstanceOptions {
	install: N8nInstall;
	/** Parent folder; default os.tmpdir(). */
	tmpRoot?: string;
	/** Keep the folder at the end (KEEP_N8N=1). */
	keep?: boolean;
	/** Fixed editor port (dev); default a free one. */
	port?: number;
	/** Extra environment for every n8n command. */
	env?: NodeJS.ProcessEnv;
}

function parseExecuteOutput(stdout: string): Record<string, unknown> | undefined {
	// Log lines can precede the JSON (and error lines follow it when the workflow failed). n8n pretty-prints it with
	// two-space indentation, so it starts with a line "{" and ends with the first line that is exactly "}".
	const lines = stdout.split('\n');
	const start = lines.findIndex((line) => line === '{');
	if (start < 0) return undefined;
	const end = lines.findIndex((line, index) => index > start && line === '}');
	if (end < 0) return undefined;
	try {
		return JSON.parse(lines.slice(start, end + 1).join('\n')) as Record<string, unknown>;
	} catch {
		return undefined;
	}
}

interface RunDataEntry {
	data?: { main?: Array<Array<{ json: Record<string, unknown> }> | null> };
	error?: { message: string; description?: string };
}

export function toExecutionOutput(raw: Record<string, unknown>): ExecutionOutput {
	const resultData = ((raw.data as Record<string, unknown> | undefined)?.resultData ?? {}) as {
		runData?: Record<string, RunDataEntry[]>;
		error?: { message: string; description?: string; node?: { name?: string } };
	};
	const runData = resultData.runData ?? {};
	return {
		raw,
		ran: (name) => (runData[name]?.length ?? 0) > 0,
		items(name, output) {
			const runs = runData[name];
			if (!runs?.length) return [];
			const main = runs[runs.length - 1].data?.main ?? [];
			const outputs = output === undefined ? main : [main[output]];
			return outputs.flatMap((items) => (items ?? []).map((item) => item.json));
		},
		error: resultData.error
			? {
					message: resultData.error.message,
					description: resultData.error.description,
					node: resultData.error.node?.name,
				}
			: undefined,
	};
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
	/** Every non-loopback connection attempt of an n8n process, one JSON line each (see netGuard.cjs). */
	readonly netLogFile: string;
	readonly port: number;
	readonly baseUrl: string;
	readonly log: WriteStream;
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
		this.keep = options.keep ?? process.env.KEEP_N8N === '1';
	}

	/** Creates the folder (removed at shutdown unless kept). */
	static async create(options: N8nInstanceOptions): Promise<N8nInstance> {
		const root = await fs.mkdtemp(path.join(options.tmpRoot ?? os.tmpdir(), 'n8n-wechat-cs-'));
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

	get kept(): boolean {
		return this.keep;
	}

	/** Keeps the folder (and its n8n.log) after shutdown, e.g. because the run failed. */
	preserve(): void {
		this.keep = true;
	}

	/** The environment of the notes: offline, sqlite, loopback only, no telemetry, fixed key. */
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
			N8N_E2E_NET_LOG: this.netLogFile,
			NODE_OPTIONS: `--require ${NET_GUARD}`,
			...this.extraEnv,
		};
		if (this.install.major >= 2) {
			// 2.x only: 1.x does not know the module and refuses to start with it.
			env.N8N_DISABLED_MODULES = 'mcp-registry';
		} else {
			env.N8N_RUNNERS_ENABLED = 'true';
			env.N8N_BLOCK_ENV_ACCESS_IN_NODE = 'true';
		}
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

	private async cliOrThrow(args: string[], timeoutMs?: number): Promise<RunResult> {
		const result = await this.cli(args, timeoutMs);
		if (result.code !== 0) throw describeFailure(`n8n ${args.join(' ')}`, result);
		return result;
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
		if (result.code !== 0) throw describeFailure('npm install <tarball> in .n8n/nodes', result);
	}

	async importCredentials(credentials: CredentialInput[]): Promise<void> {
		const file = path.join(this.root, `credentials-${Date.now()}.json`);
		await fs.writeFile(file, JSON.stringify(credentials, null, 2));
		const result = await this.cliOrThrow(['import:credentials', `--input=${file}`]);
		if (!/Successfully imported/.test(result.stdout + result.stderr)) {
			throw describeFailure('n8n import:credentials (no success line)', result);
		}
		await fs.rm(file, { force: true });
	}

	/** Imports workflows (each becomes inactive, as n8n does on import). */
	async importWorkflows(workflows: WorkflowJson[]): Promise<void> {
		const file = path.join(this.root, `workflows-${Date.now()}.json`);
		await fs.writeFile(file, JSON.stringify(workflows, null, 2));
		const result = await this.cliOrThrow(['import:workflow', `--input=${file}`]);
		if (!/Successfully imported/.test(result.stdout + result.stderr)) {
			throw describeFailure('n8n import:workflow (no success line)', result);
		}
	}

	/** `n8n execute --id <id> --rawOutput`: the run's JSON, also when the workflow failed. */
	async execute(workflowId: string, timeoutMs = 180_000): Promise<ExecutionOutput> {
		const result = await this.cli(['execute', `--id=${workflowId}`, '--rawOutput'], timeoutMs);
		if (result.timedOut) throw describeFailure(`n8n execute --id=${workflowId}`, result);
		const raw = parseExecuteOutput(result.stdout);
		if (raw === undefined) throw describeFailure(`n8n execute --id=${workflowId} (no JSON in the output)`, result);
		const output = toExecutionOutput(raw);
		if (result.code !== 0 && output.error === undefined) {
			// Seen now and then with n8n 2.41.0: the run finished and was printed and stored, then the process died with
			// SIGSEGV while exiting (a native module's teardown). The result stands; the crash is reported, not hidden.
			if (result.signal && raw.finished === true) {
				this.warnings.push(
					`n8n execute --id=${workflowId} finished, then the n8n process died with ${result.signal} while exiting`,
				);
			} else {
				throw describeFailure(`n8n execute --id=${workflowId}`, result);
			}
		}
		return output;
	}

	/** Activates a workflow so that `n8n start` serves its production webhooks and schedules. */
	async publish(workflowId: string): Promise<void> {
		if (this.install.major >= 2) {
			await this.cliOrThrow(['publish:workflow', `--id=${workflowId}`]);
		} else {
			await this.cliOrThrow(['update:workflow', `--id=${workflowId}`, '--active=true']);
		}
	}

	/** `n8n start`, output to the log file; resolves when /healthz/readiness answers 200 (bounded). */
	async start(timeoutMs = 120_000): Promise<void> {
		if (this.server) throw new Error('n8n is already running');
		const env = this.env(await freePort());
		this.log.write(`\n$ n8n start (port ${this.port})\n`);
		const child = spawn(this.install.nodeBin, [this.install.n8nBin, 'start'], {
			cwd: this.root,
			env,
			stdio: ['ignore', 'pipe', 'pipe'],
			detached: true,
		});
		children.add(child);
		this.server = child;
		child.stdout?.pipe(this.log, { end: false });
		child.stderr?.pipe(this.log, { end: false });
		let exited = false;
		child.once('exit', (code, signal) => {
			exited = true;
			children.delete(child);
			if (this.server === child && !shuttingDown) this.exitListener?.(code, signal);
		});
		await waitFor(
			`n8n ${this.install.version} to be ready on ${this.baseUrl} (log: ${this.logFile})`,
			async () => {
				if (exited) throw new Error(`n8n start exited (code ${child.exitCode}); see ${this.logFile}`);
				const response = await fetchWithTimeout(`${this.baseUrl}/healthz/readiness`, {}, 2_000);
				return response.status === 200 ? true : undefined;
			},
			timeoutMs,
			500,
		).catch((error: unknown) => {
			if (exited) throw new Error(`n8n start exited (code ${child.exitCode}); see ${this.logFile}`);
			throw error;
		});
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

	/** The lines of the connection log other than the guard's own "loaded" markers. */
	async nonLoopbackConnections(): Promise<Array<{ pid: number; kind: string; target: string }>> {
		const text = await fs.readFile(this.netLogFile, 'utf8').catch(() => '');
		return text
			.split('\n')
			.filter(Boolean)
			.map((line) => JSON.parse(line) as { pid: number; kind: string; target: string })
			.filter((entry) => entry.kind !== 'loaded');
	}

	/** Pids of n8n processes that loaded the guard (proves it was active). */
	async guardedPids(): Promise<number[]> {
		const text = await fs.readFile(this.netLogFile, 'utf8').catch(() => '');
		return text
			.split('\n')
			.filter(Boolean)
			.map((line) => JSON.parse(line) as { pid: number; kind: string })
			.filter((entry) => entry.kind === 'loaded')
			.map((entry) => entry.pid);
	}

	/**
	 * Runs SQL against n8n's sqlite database with n8n's own sqlite3 module and Node (the machine may have no sqlite3
	 * CLI). Read-only, so it is safe while `n8n start` runs.
	 */
	async query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
		const script = `
const sqlite3 = require(${JSON.stringify(path.join(this.install.dir, 'node_modules', 'sqlite3'))});
const db = new sqlite3.Database(process.argv[1], sqlite3.OPEN_READONLY, (error) => { if (error) { console.error(error.message); process.exit(2); } });
db.configure('busyTimeout', 5000);
db.all(process.argv[2], (error, rows) => { if (error) { console.error(error.message); process.exit(3); } process.stdout.write(JSON.stringify(rows)); db.close(); });
`;
		const result = await run(
			this.install.nodeBin,
			['-e', script, path.join(this.userFolder, '.n8n', 'database.sqlite'), sql],
			{ timeoutMs: 30_000, cwd: this.root },
		);
		if (result.code !== 0) throw describeFailure(`sqlite query ${sql}`, result);
		return JSON.parse(result.stdout) as T[];
	}
}

// ---------------------------------------------------------------------------------------------------------------
// The WeChat API emulator, in a child process driven over its admin API

/** An entry of the emulator's request log (GET /__emulator/log), as far as the scripts read it. */
export interface LoggedApiRequest {
	method: string;
	path: string;
	query: Record<string, string>;
	json?: unknown;
	multipart?: {
		fields: Record<string, string>;
		files: Array<{ field: string; filename: string; contentType: string; size: number; sha256: string }>;
	};
	response: { status: number; body: unknown };
}

export interface EmulatorProcess {
	baseUrl: string;
	appId: string;
	appSecret: string;
	admin<T = Record<string, unknown>>(route: string, body?: unknown): Promise<T>;
	stop(): Promise<void>;
}

export async function startEmulator(options: { log?: WriteStream; port?: number } = {}): Promise<EmulatorProcess> {
	const child = spawn(
		process.execPath,
		['--import', 'tsx', path.join(ROOT, 'test', 'emulator', 'cli.ts'), '--port', String(options.port ?? 0), '--empty'],
		{ cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
	);
	children.add(child);
	child.once('exit', () => children.delete(child));
	child.stderr?.on('data', (chunk: Buffer) => options.log?.write(chunk));
	const baseUrl = await new Promise<string>((resolve, reject) => {
		let output = '';
		const timer = setTimeout(() => reject(new Error('the emulator did not start within 60 s')), 60_000);
		child.stdout?.on('data', (chunk: Buffer) => {
			options.log?.write(chunk);
			output += chunk.toString();
			const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
			if (match) {
				clearTimeout(timer);
				resolve(match[1]);
			}
		});
		child.once('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`the emulator exited with ${code}`));
		});
	});

	async function admin<T>(route: string, body?: unknown): Promise<T> {
		const response = await fetchWithTimeout(
			`${baseUrl}/__emulator/${route}`,
			{
				method: body === undefined ? 'GET' : 'POST',
				headers: { 'content-type': 'application/json' },
				body: body === undefined ? undefined : JSON.stringify(body),
			},
			30_000,
		);
		const json = (await response.json()) as T;
		if (!response.ok) throw new Error(`emulator admin ${route}: HTTP ${response.status} ${JSON.stringify(json)}`);
		return json;
	}

	return {
		baseUrl,
		appId: 'wx_emulator_appid',
		appSecret: 'emulator_app_secret',
		admin,
		stop: () => stopChild(child, 5_000),
	};
}

// ---------------------------------------------------------------------------------------------------------------
// The credential and the examples

/** The push settings the scripts share with the emulator's push sender. */
export const PUSH_TOKEN = 'n8nWeChatDemoToken';
/** 43 characters of [A-Za-z0-9], as WeChat generates an EncodingAESKey. */
export const ENCODING_AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
/** The id and name the examples reference; stable so that workflows imported later find it. */
export const CREDENTIAL_ID = 'wechatEmulatorCred';
export const CREDENTIAL_NAME = 'WeChat Official Account (emulator)';

export function emulatorCredential(emulator: { baseUrl: string; appId: string; appSecret: string }): CredentialInput {
	return {
		id: CREDENTIAL_ID,
		name: CREDENTIAL_NAME,
		type: CREDENTIAL_TYPE,
		data: {
			appId: emulator.appId,
			appSecret: emulator.appSecret,
			issuer: 'stable',
			baseUrl: emulator.baseUrl,
			token: PUSH_TOKEN,
			encodingAESKey: ENCODING_AES_KEY,
		},
	};
}

export const EXAMPLES_DIR = path.join(ROOT, 'examples');

export async function readExample(name: string): Promise<WorkflowJson> {
	return JSON.parse(await fs.readFile(path.join(EXAMPLES_DIR, `${name}.json`), 'utf8')) as WorkflowJson;
}

/** A copy of the workflow whose WeChat nodes use the given credential (the examples ship with the emulator's). */
export function withCredential(workflow: WorkflowJson, credential: { id: string; name: string }): WorkflowJson {
	const copy = structuredClone(workflow);
	for (const node of copy.nodes) {
		const credentials = node.credentials as Record<string, unknown> | undefined;
		if (credentials?.[CREDENTIAL_TYPE]) credentials[CREDENTIAL_TYPE] = { id: credential.id, name: credential.name };
	}
	return copy;
}

export function findNode(workflow: WorkflowJson, name: string): WorkflowJson['nodes'][number] {
	const node = workflow.nodes.find((candidate) => candidate.name === name);
	if (!node) throw new Error(`workflow "${workflow.name}" has no node "${name}"`);
	return node;
}

/** Sets fields of a Set node (v3.4 "assignments") in a copy-free way: the scripts configure examples through them. */
export function setAssignment(workflow: WorkflowJson, nodeName: string, field: string, value: string | number): void {
	const node = findNode(workflow, nodeName);
	const assignments = (node.parameters.assignments as { assignments: Array<{ name: string; value: unknown }> })
		.assignments;
	const assignment = assignments.find((entry) => entry.name === field);
	if (!assignment) throw new Error(`node "${nodeName}" sets no field "${field}"`);
	assignment.value = value;
}

// ---------------------------------------------------------------------------------------------------------------
// Loopback HTTP receivers (the group-bot webhook, the image server) and sockets of a process tree

export interface Receiver {
	url: string;
	requests: Array<{
		method: string;
		path: string;
		headers: Record<string, string | string[] | undefined>;
		body: string;
	}>;
	close(): Promise<void>;
}

/** A loopback HTTP server recording what it receives; `respond` decides the answer (default `{"errcode":0}`). */
export async function startReceiver(
	respond?: (request: { method: string; path: string }) => { status?: number; type?: string; body: string | Buffer },
): Promise<Receiver> {
	const { createServer } = await import('node:http');
	const requests: Receiver['requests'] = [];
	const server = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			const entry = {
				method: request.method ?? '',
				path: request.url ?? '',
				headers: request.headers,
				body: Buffer.concat(chunks).toString('utf8'),
			};
			requests.push(entry);
			const answer = respond?.(entry) ?? { body: '{"errcode":0,"errmsg":"ok"}', type: 'application/json' };
			response.writeHead(answer.status ?? 200, { 'content-type': answer.type ?? 'application/json' });
			response.end(answer.body);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as net.AddressInfo;
	onShutdown(() => new Promise<void>((resolve) => server.close(() => resolve())));
	return {
		url: `http://127.0.0.1:${port}`,
		requests,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections?.();
				server.close(() => resolve());
			}),
	};
}

function descendants(pid: number): number[] {
	const found = [pid];
	for (let i = 0; i < found.length; i++) {
		let tasks: string[] = [];
		try {
			tasks = readdirSync(`/proc/${found[i]}/task`);
		} catch {
			continue;
		}
		for (const task of tasks) {
			try {
				const text = readFileSync(`/proc/${found[i]}/task/${task}/children`, 'utf8').trim();
				for (const child of text.split(/\s+/).filter(Boolean)) found.push(Number(child));
			} catch {
				// The task ended.
			}
		}
	}
	return found;
}

function hexToAddress(hex: string): string {
	const [ip, port] = hex.split(':');
	if (ip.length === 8) {
		const bytes = ip
			.match(/../g)!
			.map((byte) => parseInt(byte, 16))
			.reverse();
		return `${bytes.join('.')}:${parseInt(port, 16)}`;
	}
	// IPv6: four little-endian 32-bit words.
	const words = ip.match(/.{8}/g)!.map((word) => word.match(/../g)!.reverse().join(''));
	const groups = words
		.join('')
		.match(/.{4}/g)!
		.map((group) => group.replace(/^0+(?=.)/, ''));
	return `[${groups.join(':')}]:${parseInt(port, 16)}`;
}

function isLoopbackOrUnset(address: string): boolean {
	const host = address.replace(/:\d+$/, '').toLowerCase();
	return (
		host.startsWith('127.') ||
		host === '0.0.0.0' ||
		host === '[0:0:0:0:0:0:0:0]' ||
		host === '[0:0:0:0:0:0:0:1]' ||
		// IPv4-mapped loopback, ::ffff:127.x.y.z
		/^\[0:0:0:0:0:ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(host)
	);
}

/**
 * The remote addresses of TCP/UDP sockets held now by the process tree of `pid` that are neither loopback nor
 * unconnected. The second, independent check beside netGuard.cjs: it also sees the task runner, which n8n starts with
 * an environment of its own (no NODE_OPTIONS, so no guard).
 */
export function nonLoopbackSocketsOf(pid: number): string[] {
	const inodes = new Set<string>();
	for (const member of descendants(pid)) {
		let fds: string[] = [];
		try {
			fds = readdirSync(`/proc/${member}/fd`);
		} catch {
			continue;
		}
		for (const fd of fds) {
			try {
				const link = readlinkSync(`/proc/${member}/fd/${fd}`);
				const match = /^socket:\[(\d+)\]$/.exec(link);
				if (match) inodes.add(match[1]);
			} catch {
				// Closed meanwhile.
			}
		}
	}
	const found: string[] = [];
	for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
		let text = '';
		try {
			text = readFileSync(`/proc/net/${table}`, 'utf8');
		} catch {
			continue;
		}
		for (const line of text.split('\n').slice(1)) {
			const fields = line.trim().split(/\s+/);
			if (fields.length < 10 || !inodes.has(fields[9])) continue;
			const remote = hexToAddress(fields[2]);
			if (!isLoopbackOrUnset(remote)) found.push(`${table} ${hexToAddress(fields[1])} -> ${remote}`);
		}
	}
	return found;
}
