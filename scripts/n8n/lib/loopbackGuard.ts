/**
 * scripts/n8n/netGuard.cjs inside every n8n process: the variables that preload it, and what it recorded — every
 * connection, lookup or datagram an n8n process tried towards anything other than loopback (each refused), plus one
 * "loaded" line per process, which proves the guard was active.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

const NET_GUARD = path.join(__dirname, '..', 'netGuard.cjs');

/** For n8n's environment; the task runner starts without NODE_OPTIONS, so processSockets.ts watches it instead. */
export function guardEnvironment(netLogFile: string): NodeJS.ProcessEnv {
	return { N8N_E2E_NET_LOG: netLogFile, NODE_OPTIONS: `--require ${NET_GUARD}` };
}

export interface GuardedAttempt {
	pid: number;
	kind: string;
	target: string;
}

export async function readGuardLog(netLogFile: string): Promise<{ attempts: GuardedAttempt[]; guardedPids: number[] }> {
	const entries = (await fs.readFile(netLogFile, 'utf8').catch(() => ''))
		.split('\n')
		.filter(Boolean)
		.map((line) => JSON.parse(line) as GuardedAttempt);
	return {
		attempts: entries.filter((entry) => entry.kind !== 'loaded'),
		guardedPids: entries.filter((entry) => entry.kind === 'loaded').map((entry) => entry.pid),
	};
}
