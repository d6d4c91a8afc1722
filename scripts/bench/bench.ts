import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

/**
 * `npm run bench`: each scenario runs in a process of its own (its baseline measured in the same process and run),
 * with the WeChat emulator in yet another process; then the four summary lines. Detail lines come first.
 * Not a test: nothing here fails on a figure; BENCHMARKS.md records and explains them.
 */
type Result = Record<string, number | string>;

const SCENARIOS = ['tokenCalls', 'chatExport', 'bulkSend', 'pushDecrypt'] as const;

async function runScenario(name: string): Promise<Result> {
	const script = path.join(__dirname, `${name}.ts`);
	const child = spawn(process.execPath, ['--import', 'tsx', script], {
		cwd: path.resolve(__dirname, '..', '..'),
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	let stdout = '';
	child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
	const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
	const line = stdout.split('\n').find((text) => text.startsWith('RESULT '));
	if (code !== 0 || !line) throw new Error(`scenario ${name} failed (exit ${code})`);
	return JSON.parse(line.slice('RESULT '.length)) as Result;
}

async function main(): Promise<void> {
	process.stderr.write(
		`bench: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`,
	);
	const results: Record<string, Result> = {};
	for (const name of SCENARIOS) results[name] = await runScenario(name);
	const { tokenCalls, chatExport, bulkSend, pushDecrypt } = results;
	const lines = [
		`token-calls: ${tokenCalls.tokenCalls}`,
		`chat-export: records=${chatExport.records} calls=${chatExport.calls} minimal=${chatExport.minimal} time-ratio=${chatExport.timeRatio} peak-mb=${chatExport.peakMb}`,
		`bulk-send: items=${bulkSend.items} time-ratio=${bulkSend.timeRatio}`,
		`push-decrypt: per-second=${pushDecrypt.perSecond} ratio-vs-baseline=${pushDecrypt.ratio}`,
	];
	process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
	process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
	process.exit(1);
});
