/**
 * Redis and PostgreSQL for n8n's queue mode, as an operator would run them: Debian's own packages (installed once per
 * machine with apt-get, skipped when present), each started by this script on a free loopback port with its data in a
 * throw-away folder — no system service, nothing left running. Both run in the foreground as tracked children
 * (processes.ts), so a failure, Ctrl-C or SIGTERM stops them with everything else.
 */
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { freePort } from '../lib/ports';
import { commandFailure, onShutdown, run, spawnTracked, stopChild } from '../lib/processes';
import { sleep, waitFor } from '../lib/waits';

const isRoot = process.getuid?.() === 0;

/** The newest PostgreSQL server binaries Debian installed (/usr/lib/postgresql/<major>/bin), if any. */
function postgresBinDir(): string | undefined {
	const base = '/usr/lib/postgresql';
	if (!existsSync(base)) return undefined;
	const majors = readdirSync(base)
		.filter((name) => /^\d+$/.test(name) && existsSync(path.join(base, name, 'bin', 'initdb')))
		.sort((a, b) => Number(a) - Number(b));
	return majors.length ? path.join(base, majors[majors.length - 1], 'bin') : undefined;
}

function redisServerBin(): string | undefined {
	return ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((candidate) => existsSync(candidate));
}

/**
 * `apt-get update && apt-get install -y --no-install-recommends redis-server postgresql` for what is missing (as root,
 * or through `sudo -n`). Debian's packages start no service here: this script starts its own instances.
 */
export async function ensureDebianPackages(say: (text: string) => void): Promise<{ installed: string[] }> {
	const missing = [...(redisServerBin() ? [] : ['redis-server']), ...(postgresBinDir() ? [] : ['postgresql'])];
	if (missing.length === 0) return { installed: [] };
	say(`installing ${missing.join(' and ')} from Debian (apt-get, once per machine)…`);
	const prefix = isRoot ? [] : ['sudo', '-n'];
	const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
	const apt = async (args: string[]) => {
		const [command, ...rest] = [...prefix, 'apt-get', ...args];
		const result = await run(command, rest, { env, timeoutMs: 15 * 60_000 });
		if (result.code !== 0) throw commandFailure(`apt-get ${args.join(' ')}`, result);
	};
	await apt(['update']);
	await apt(['install', '-y', '--no-install-recommends', ...missing]);
	if (!redisServerBin() || !postgresBinDir())
		throw new Error(`apt-get installed ${missing.join(', ')}, yet a binary is missing`);
	return { installed: missing };
}

export interface Service {
	port: number;
	pid?: number;
	stop(): Promise<void>;
}

/** A command as the `postgres` user when running as root (initdb and postgres refuse root), else as is. */
function asPostgresUser(command: string, args: string[]): [string, string[]] {
	if (!isRoot) return [command, args];
	// setpriv execs the command itself, so the tracked child is postgres, not a wrapper that may not pass signals on.
	return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--reset-env', command, ...args]];
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port and (optionally) answers a probe. */
function tcpProbe(port: number, send?: string, expect?: RegExp): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = net.connect({ host: '127.0.0.1', port });
		let answer = '';
		const done = (ok: boolean) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(2_000, () => done(false));
		socket.once('error', () => done(false));
		socket.once('connect', () => {
			if (!send) return done(true);
			socket.write(send);
		});
		socket.on('data', (chunk: Buffer) => {
			answer += chunk.toString();
			if (expect?.test(answer)) done(true);
		});
	});
}

/**
 * A fresh PostgreSQL cluster in `folder` (initdb, trust authentication for the `n8n` role, loopback TCP only) with a
 * database `n8n`.
 */
export async function startPostgres(
	folder: string,
	log: NodeJS.WritableStream,
): Promise<Service & { database: string; user: string }> {
	const bin = postgresBinDir();
	if (!bin) throw new Error('PostgreSQL is not installed');
	const dataDir = path.join(folder, 'data');
	const socketDir = path.join(folder, 'socket');
	await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
	await fs.mkdir(socketDir, { recursive: true });
	if (isRoot) await run('chown', ['-R', 'postgres:postgres', folder], { timeoutMs: 30_000 });
	const [initdb, initArgs] = asPostgresUser(path.join(bin, 'initdb'), [
		'-D',
		dataDir,
		'-U',
		'n8n',
		'--auth=trust',
		'-E',
		'UTF8',
		'--no-sync',
	]);
	const init = await run(initdb, initArgs, { timeoutMs: 3 * 60_000 });
	if (init.code !== 0) throw commandFailure('initdb', init);

	const port = await freePort();
	const [postgres, args] = asPostgresUser(path.join(bin, 'postgres'), [
		'-D',
		dataDir,
		'-p',
		String(port),
		'-k',
		socketDir,
		'-c',
		'listen_addresses=127.0.0.1',
		// Durability as an operator runs it (fsync on): the static-data write cost measured here must be the real one.
		'-c',
		'max_connections=200',
	]);
	const child = spawnTracked(postgres, args, { stdio: ['ignore', 'pipe', 'pipe'] });
	child.stdout?.pipe(log, { end: false });
	child.stderr?.pipe(log, { end: false });
	let exited = false;
	child.once('exit', () => (exited = true));
	await waitFor(
		`PostgreSQL on 127.0.0.1:${port}`,
		async () => {
			if (exited) throw new Error('postgres exited during start-up (see the log)');
			return (await tcpProbe(port)) ? true : undefined;
		},
		60_000,
		300,
	);
	const createdb = await run(path.join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'n8n', 'n8n'], {
		timeoutMs: 60_000,
	});
	if (createdb.code !== 0) throw commandFailure('createdb', createdb);
	// SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for every client to disconnect).
	const stop = async () => {
		if (child.exitCode !== null || child.signalCode !== null) return;
		child.kill('SIGINT');
		await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(10_000)]);
		await stopChild(child, 5_000);
	};
	onShutdown(stop);
	return { port, pid: child.pid, database: 'n8n', user: 'n8n', stop };
}

/** Runs SQL through psql against the cluster; returns the rows as JSON objects. */
export async function psqlJson<T>(
	postgres: { port: number; database: string; user: string },
	sql: string,
): Promise<T[]> {
	const bin = postgresBinDir();
	if (!bin) throw new Error('PostgreSQL is not installed');
	const wrapped = `SELECT coalesce(json_agg(t), '[]'::json) FROM (${sql}) t`;
	const result = await run(
		path.join(bin, 'psql'),
		[
			'-h',
			'127.0.0.1',
			'-p',
			String(postgres.port),
			'-U',
			postgres.user,
			'-d',
			postgres.database,
			'-At',
			'-v',
			'ON_ERROR_STOP=1',
			'-c',
			wrapped,
		],
		{ timeoutMs: 60_000, env: { ...process.env, PGCONNECT_TIMEOUT: '10' } },
	);
	if (result.code !== 0) throw commandFailure(`psql ${sql.slice(0, 80)}`, result);
	return JSON.parse(result.stdout) as T[];
}

/** Redis without persistence, on loopback, its working folder in `folder`. */
export async function startRedis(folder: string, log: NodeJS.WritableStream): Promise<Service> {
	const bin = redisServerBin();
	if (!bin) throw new Error('redis-server is not installed');
	await fs.mkdir(folder, { recursive: true });
	const port = await freePort();
	const child = spawnTracked(
		bin,
		[
			'--port',
			String(port),
			'--bind',
			'127.0.0.1',
			'--save',
			'',
			'--appendonly',
			'no',
			'--dir',
			folder,
			'--daemonize',
			'no',
		],
		{ stdio: ['ignore', 'pipe', 'pipe'] },
	);
	child.stdout?.pipe(log, { end: false });
	child.stderr?.pipe(log, { end: false });
	let exited = false;
	child.once('exit', () => (exited = true));
	await waitFor(
		`Redis on 127.0.0.1:${port}`,
		async () => {
			if (exited) throw new Error('redis-server exited during start-up (see the log)');
			return (await tcpProbe(port, 'PING\r\n', /\+PONG/)) ? true : undefined;
		},
		30_000,
		200,
	);
	const stop = () => stopChild(child, 5_000);
	onShutdown(stop);
	return { port, pid: child.pid, stop };
}

/** A folder the `postgres` user can enter (os.tmpdir()'s mkdtemp folders are private to the creating user). */
export async function servicesFolder(): Promise<string> {
	const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'n8n-wechat-cs-queue-services-'));
	await fs.chmod(folder, 0o755);
	return folder;
}
