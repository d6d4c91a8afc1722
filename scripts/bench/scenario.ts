import { installSignalHandlers, shutdown } from '../n8n/lib/processes';

/**
 * What every scenario script shares: it prints detail lines to stderr for the reader, and its figures as one JSON
 * line on stdout (`RESULT {...}`), which bench.ts collects.
 */
export function detail(line: string): void {
	process.stderr.write(`  ${line}\n`);
}

export function report(result: Record<string, number | string>): void {
	process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

export async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
	const start = process.hrtime.bigint();
	const value = await work();
	return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

/**
 * Runs a scenario's `main`, then stops what it started (the emulator, n8n: each in a process group of its own) and
 * exits 0, or 1 after printing the error. `onSignal` says what Ctrl-C or a signal interrupts.
 */
export function runScenario(main: () => Promise<void>, onSignal?: () => void): void {
	installSignalHandlers(onSignal);
	main().then(
		async () => {
			await shutdown();
			process.exit(0);
		},
		async (error: unknown) => {
			process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
			await shutdown();
			process.exit(1);
		},
	);
}
