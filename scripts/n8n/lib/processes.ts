/**
 * The scripts' child processes (n8n, the task runner n8n spawns, npm, the emulator). Each leads a process group of its
 * own and is tracked, so that a failure, Ctrl-C, SIGTERM or an orphaned run still stops it together with whatever it
 * spawned; commands run to completion within a bounded time.
 */
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const children = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void> | void> = [];
let shuttingDown: Promise<void> | undefined;

/** Signals a process group (its leader was spawned detached); ESRCH when the group is gone is fine. */
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

/** Starts `command` as the leader of a new process group, tracked (and stopped at shutdown) until it exits. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions): ChildProcess {
	const child = spawn(command, args, { ...options, detached: true });
	children.add(child);
	child.once('exit', () => children.delete(child));
	child.once('error', () => children.delete(child));
	return child;
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

/** Stops every tracked child, then runs the clean-ups. A second call (a signal during shutdown) waits for the first. */
export function shutdown(): Promise<void> {
	shuttingDown ??= (async () => {
		await Promise.all([...children].map((child) => stopChild(child)));
		for (const cleanup of cleanups.reverse()) {
			try {
				await cleanup();
			} catch (error) {
				process.stderr.write(`clean-up failed: ${String(error)}\n`);
			}
		}
	})();
	return shuttingDown;
}

export function isShuttingDown(): boolean {
	return shuttingDown !== undefined;
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
			child = spawnTracked(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', out, err] });
		} finally {
			closeSync(out);
			closeSync(err);
		}
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
			collect();
			reject(error);
		});
		child.once('exit', (code, signal) => {
			clearTimeout(timer);
			// The group may keep a grandchild (n8n's task runner) after the main process exited.
			signalGroup(child.pid, 'SIGKILL');
			resolve({ code, signal, ...collect(), timedOut });
		});
	});
}

/** An error naming the command, why it ended, and the last lines it printed. */
export function commandFailure(what: string, result: RunResult): Error {
	const tail = (result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n');
	const reason = result.timedOut ? 'timed out' : `exit ${result.code ?? result.signal}`;
	return new Error(`${what} failed (${reason})\n${tail}`);
}
