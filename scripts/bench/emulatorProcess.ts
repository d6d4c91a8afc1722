import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/**
 * The WeChat emulator in a process of its own, so the scenario's process measures only n8n's engine and the node
 * (time, and peak memory for the chat export), not the emulator's work or its request log.
 */
export interface EmulatorProcess {
	baseUrl: string;
	appId: string;
	appSecret: string;
	admin<T = unknown>(route: string, body?: unknown): Promise<T>;
	stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '..', '..');

export async function startEmulatorProcess(): Promise<EmulatorProcess> {
	const child: ChildProcess = spawn(
		process.execPath,
		['--import', 'tsx', path.join(ROOT, 'test', 'emulator', 'cli.ts'), '--port', '0', '--empty'],
		{ cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
	);
	const baseUrl = await new Promise<string>((resolve, reject) => {
		let output = '';
		const timer = setTimeout(() => reject(new Error('the emulator did not start within 30 s')), 30_000);
		child.stdout?.on('data', (chunk: Buffer) => {
			output += chunk.toString();
			const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
			if (match) {
				clearTimeout(timer);
				resolve(match[1]);
			}
		});
		child.once('exit', (code) => reject(new Error(`the emulator exited with ${code}`)));
	});
	child.stdout?.resume();

	async function admin<T>(route: string, body?: unknown): Promise<T> {
		const response = await fetch(`${baseUrl}/__emulator/${route}`, {
			method: body === undefined ? 'GET' : 'POST',
			headers: { 'content-type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		if (!response.ok) throw new Error(`emulator admin ${route}: HTTP ${response.status}`);
		return (await response.json()) as T;
	}

	return {
		baseUrl,
		appId: 'wx_emulator_appid',
		appSecret: 'emulator_app_secret',
		admin,
		stop: async () => {
			if (child.exitCode !== null) return;
			const exited = new Promise((resolve) => child.once('exit', resolve));
			child.kill('SIGTERM');
			await exited;
		},
	};
}
