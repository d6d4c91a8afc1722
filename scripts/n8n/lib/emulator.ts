/**
 * The WeChat API emulator (test/emulator) in a process of its own, driven over its admin API: n8n calls it as it
 * would call WeChat, and the scripts seed it, inject faults and read what reached "WeChat" from its request log.
 * A separate process also keeps its work out of what the benchmarks measure.
 */
import path from 'node:path';
import type { WriteStream } from 'node:fs';

import { ROOT } from './packageUnderTest';
import { spawnTracked, stopChild } from './processes';
import { fetchWithTimeout } from './waits';

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
	/** The emulator process (it leads a process group of its own). */
	pid?: number;
	appId: string;
	appSecret: string;
	admin<T = Record<string, unknown>>(route: string, body?: unknown): Promise<T>;
	/** Every API request received so far, oldest first. */
	apiLog(): Promise<LoggedApiRequest[]>;
	stop(): Promise<void>;
}

/** Starts an empty emulator on `port` (default: any free one); its output goes to `log`, else its errors to stderr. */
export async function startEmulator(options: { log?: WriteStream; port?: number } = {}): Promise<EmulatorProcess> {
	const cli = path.join(ROOT, 'test', 'emulator', 'cli.ts');
	const child = spawnTracked(
		process.execPath,
		['--import', 'tsx', cli, '--port', String(options.port ?? 0), '--empty'],
		{
			cwd: ROOT,
			stdio: ['ignore', 'pipe', 'pipe'],
		},
	);
	child.stderr?.on('data', (chunk: Buffer) => (options.log ?? process.stderr).write(chunk));
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
		pid: child.pid,
		appId: 'wx_emulator_appid',
		appSecret: 'emulator_app_secret',
		admin,
		apiLog: async () => (await admin<{ requests: LoggedApiRequest[] }>('log')).requests,
		stop: () => stopChild(child, 5_000),
	};
}
