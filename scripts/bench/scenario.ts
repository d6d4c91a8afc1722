import { installSignalHandlers } from '../n8n/lib/processes';

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

export function runScenario(main: () => Promise<void>): void {
	// The emulator runs in a process group of its own: Ctrl-C or an exit must stop it explicitly.
	installSignalHandlers();
	main().then(
		() => process.exit(0),
		(error: unknown) => {
			process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
			process.exit(1);
		},
	);
}
