import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

import { ensureN8n, n8nVersionFrom } from '../n8n/lib/n8nInstall';
import { commandFailure, installSignalHandlers, onShutdown, run } from '../n8n/lib/processes';

/**
 * `npm run bench`: each scenario runs in a process of its own (its baseline measured in the same process and run),
 * with the WeChat emulator or the real n8n in yet another process; then the summary lines. Detail lines come first.
 * Not a test: nothing here fails on a figure; BENCHMARKS.md records and explains them. bulk-send-n8n and push-n8n need
 * the real n8n (2.41.0, or N8N_VERSION): installed into the cache first if it is not there yet, as `npm run test:e2e`
 * does.
 */
type Result = Record<string, number | string>;

const SCENARIOS = ['tokenCalls', 'chatExport', 'bulkSend', 'bulkSendN8n', 'pushDecrypt', 'pushN8n'] as const;
/** Scenarios that run the real n8n, installed into the cache first if it is not there. */
const NEEDS_N8N: ReadonlySet<string> = new Set(['bulkSendN8n', 'pushN8n']);

let running: ChildProcess | undefined;

// Ctrl-C reaches the scenario through the terminal's process group; a signal sent to this process alone is passed on.
// Either way this process waits (bounded) until the scenario has stopped what it started (n8n, the emulator), and an
// n8n install under way is stopped too.
installSignalHandlers((signal) => running?.kill(signal));
onShutdown(async () => {
	const child = running;
	if (!child || child.exitCode !== null || child.signalCode !== null) return;
	await new Promise((resolve) => child.once('exit', resolve));
});

/** Each scenario's summary line: its name, then its figures. */
const LINES: Record<(typeof SCENARIOS)[number], [string, (result: Result) => string]> = {
	tokenCalls: ['token-calls', (r) => `${r.tokenCalls}`],
	chatExport: [
		'chat-export',
		(r) =>
			`records=${r.records} calls=${r.calls} minimal=${r.minimal} time-ratio=${r.timeRatio} peak-mb=${r.peakMb}`,
	],
	bulkSend: [
		'bulk-send',
		(r) =>
			`items=${r.items} time-ratio=${r.timeRatio} peak-sockets=${r.peakSockets} peak-mb=${r.peakMb}\n` +
			`bulk-send-faults: delivered=${r.delivered} duplicates=${r.duplicates} failed=${r.failed} failed-but-delivered=${r.failedButDelivered}`,
	],
	bulkSendN8n: [
		'bulk-send-n8n',
		(r) =>
			`items=${r.items} ratio-vs-http-node=${r.ratio} ratio-vs-http-node-input-field=${r.ratioField} ratio-vs-http-node-fastest=${r.ratioFastest} ratio-vs-http-node-with-credential=${r.ratioWithCredential}`,
	],
	pushDecrypt: ['push-decrypt', (r) => `per-second=${r.perSecond} ratio-vs-baseline=${r.ratio}`],
	pushN8n: [
		'push-n8n',
		(r) =>
			`per-second=${r.perSecond} ratio-vs-webhook-node=${r.ratio} ratio-vs-webhook-node-v1-header-auth=${r.ratioSameIsolates}`,
	],
};

async function runScenario(name: string): Promise<Result> {
	const script = path.join(__dirname, `${name}.ts`);
	const child = spawn(process.execPath, ['--import', 'tsx', script], {
		cwd: path.resolve(__dirname, '..', '..'),
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	running = child;
	let stdout = '';
	child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
	const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
	running = undefined;
	const line = stdout.split('\n').find((text) => text.startsWith('RESULT '));
	if (code !== 0 || !line) throw new Error(`scenario ${name} failed (exit ${code})`);
	return JSON.parse(line.slice('RESULT '.length)) as Result;
}

async function main(): Promise<void> {
	process.stderr.write(
		`bench: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`,
	);
	// push-decrypt measures the built JavaScript, as n8n runs it.
	const build = await run('npm', ['run', 'build'], { cwd: path.resolve(__dirname, '..', '..'), timeoutMs: 5 * 60_000 });
	if (build.code !== 0) throw commandFailure('npm run build', build);
	// A scenario that fails says why on stderr and gets a "failed" line; the others still run and print theirs.
	const lines: string[] = [];
	let failures = 0;
	for (const name of SCENARIOS) {
		try {
			if (NEEDS_N8N.has(name)) {
				await ensureN8n(n8nVersionFrom([]), undefined, (text) => process.stderr.write(`  ${text}\n`));
			}
			const result = await runScenario(name);
			lines.push(`${LINES[name][0]}: ${LINES[name][1](result)}`);
		} catch (error) {
			failures += 1;
			process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
			lines.push(`${LINES[name][0]}: failed (see above)`);
		}
	}
	process.stdout.write(`${lines.join('\n')}\n`);
	if (failures > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
	process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
	process.exit(1);
});
