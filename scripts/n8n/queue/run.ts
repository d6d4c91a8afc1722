/**
 * `npm run test:queue [-- options]`: queue.test.ts under node's test runner (TAP), then what a reviewer needs at the
 * end of a long log — the figures, `queue: N passed, M failed`, the run time — and a check that the run left nothing
 * behind: no process of the process groups it started (n8n's five with their task runners, PostgreSQL, Redis, the
 * emulator), no process working in its folders, no port it listened on still taken, no folder left (unless a failure
 * kept it for a look). Exits non-zero when a check failed or something was left. Options go to node's test runner,
 * e.g. `--test-name-pattern="pushes"` (the set-up always runs).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { portIsFree } from '../lib/ports';

const started = Date.now();
const scratch = mkdtempSync(path.join(os.tmpdir(), 'n8n-wechat-cs-queue-run-'));
const figuresFile = path.join(scratch, 'figures');
const resourcesFile = path.join(scratch, 'resources.json');

const runnerOptions = process.argv.slice(2);
const reporter = runnerOptions.some((arg) => arg.startsWith('--test-reporter')) ? [] : ['--test-reporter=tap'];
const child = spawn(
	process.execPath,
	['--import', 'tsx', ...reporter, ...runnerOptions, path.join(__dirname, 'queue.test.ts')],
	{
		stdio: ['ignore', 'pipe', 'inherit'],
		env: { ...process.env, QUEUE_FIGURES_FILE: figuresFile, QUEUE_RESOURCES_FILE: resourcesFile },
	},
);
let output = '';
child.stdout.on('data', (chunk: Buffer) => {
	process.stdout.write(chunk);
	output += chunk.toString();
});
// Ctrl-C reaches both processes; a signal sent to this one alone (a CI timeout) is passed on: the tests stop n8n.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));

function alive(processGroup: number): boolean {
	try {
		process.kill(-processGroup, 0);
		return true;
	} catch {
		return false;
	}
}

/** Processes whose working folder or command line is inside one of `folders`. */
function processesIn(folders: string[]): string[] {
	const found: string[] = [];
	for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
		try {
			const cwd = readlinkSync(`/proc/${pid}/cwd`);
			const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
			if (folders.some((folder) => cwd.startsWith(folder) || cmdline.includes(folder)))
				found.push(`${pid} ${cmdline.slice(0, 120)}`);
		} catch {
			// Gone, or not ours to read.
		}
	}
	return found;
}

async function leftovers(failedTests: boolean): Promise<string[]> {
	if (!existsSync(resourcesFile)) return [];
	const resources = JSON.parse(readFileSync(resourcesFile, 'utf8')) as {
		processGroups: number[];
		ports: number[];
		folders: string[];
	};
	const left: string[] = [];
	// Stopped processes release their ports a moment after exiting: look again for up to 10 s.
	for (let attempt = 0; attempt < 20; attempt++) {
		left.length = 0;
		for (const group of resources.processGroups) if (alive(group)) left.push(`process group ${group}`);
		left.push(...processesIn(resources.folders).map((entry) => `process ${entry}`));
		for (const port of resources.ports) if (!(await portIsFree(port))) left.push(`port ${port}`);
		if (left.length === 0) break;
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
	// A failed run keeps its folders (n8n's logs) on purpose, and says so.
	const keptOnPurpose = failedTests || process.env.KEEP_N8N === '1';
	if (!keptOnPurpose) for (const folder of resources.folders) if (existsSync(folder)) left.push(`folder ${folder}`);
	return left;
}

child.once('exit', (code) => {
	void (async () => {
		const pass = Number(/^# pass (\d+)$/m.exec(output)?.[1] ?? 0);
		const fail =
			Number(/^# fail (\d+)$/m.exec(output)?.[1] ?? 0) + Number(/^# cancelled (\d+)$/m.exec(output)?.[1] ?? 0);
		const failedTests = fail > 0 || code !== 0;
		const left = await leftovers(failedTests);
		const figures = existsSync(figuresFile) ? readFileSync(figuresFile, 'utf8').trim() : '';
		rmSync(scratch, { recursive: true, force: true });
		const seconds = Math.round((Date.now() - started) / 1000);
		process.stdout.write('\n');
		if (figures) process.stdout.write(`${figures}\n`);
		const clean = failedTests
			? 'no process or port left behind; folders kept for a look'
			: 'no process, port or folder left behind';
		process.stdout.write(`queue-leftovers: ${left.length} (${left.length ? left.join('; ') : clean})\n`);
		process.stdout.write(`queue: ${pass} passed, ${fail} failed (${Math.floor(seconds / 60)} min ${seconds % 60} s)\n`);
		const failed = code !== 0 || fail > 0 || pass === 0 || left.length > 0;
		process.exit(failed ? code || 1 : 0);
	})();
});
