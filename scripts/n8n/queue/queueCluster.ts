/**
 * n8n 2.41.0 in queue mode as a company runs it when one process is not enough: one main (`n8n start`: editor,
 * activation, schedules), two workers (`n8n worker`: run the executions taken off the Redis queue) and two webhook
 * processes (`n8n webhook`: receive production webhooks behind a load balancer and queue their executions), all on
 * one PostgreSQL and one Redis. Each process is an N8nInstance of its own — own user folder with the package
 * installed as the community-package installer does, own log, own loopback guard — sharing the encryption key, the
 * database, Redis and the folder Read/Write Files may use.
 */
import { promises as fs, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { type N8nInstall } from '../lib/n8nInstall';
import { N8nInstance } from '../lib/n8nInstance';
import { freePort } from '../lib/ports';
import { onShutdown } from '../lib/processes';
import { psqlJson, type Service } from './services';

/** Modest on a shared 2-core machine; still lets 20 executions run 5 at a time on each worker. */
export const WORKER_CONCURRENCY = 5;

export type ProcessName = 'main' | 'worker1' | 'worker2' | 'webhookA' | 'webhookB';

export interface QueueServices {
	postgres: Service & { database: string; user: string };
	redis: Service;
}

export class QueueCluster {
	readonly main: N8nInstance;
	readonly workers: Record<'worker1' | 'worker2', N8nInstance>;
	readonly webhooks: Record<'webhookA' | 'webhookB', N8nInstance>;
	readonly filesDir: string;

	private constructor(
		readonly services: QueueServices,
		readonly processes: Record<ProcessName, N8nInstance>,
		filesDir: string,
	) {
		this.main = processes.main;
		this.workers = { worker1: processes.worker1, worker2: processes.worker2 };
		this.webhooks = { webhookA: processes.webhookA, webhookB: processes.webhookB };
		this.filesDir = filesDir;
	}

	/** Creates the five instances (nothing started yet) and installs the packed package into each. */
	static async create(install: N8nInstall, services: QueueServices, tarball: string): Promise<QueueCluster> {
		const filesDir = await fs.mkdtemp(path.join(os.tmpdir(), 'n8n-wechat-cs-queue-files-'));
		onShutdown(() => rmSync(filesDir, { recursive: true, force: true }));
		const { postgres, redis } = services;
		const shared: NodeJS.ProcessEnv = {
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: '127.0.0.1',
			DB_POSTGRESDB_PORT: String(postgres.port),
			DB_POSTGRESDB_DATABASE: postgres.database,
			DB_POSTGRESDB_USER: postgres.user,
			// The cluster trusts loopback connections; n8n still wants a value.
			DB_POSTGRESDB_PASSWORD: 'unused',
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: String(redis.port),
			N8N_RESTRICT_FILE_ACCESS_TO: filesDir,
			// A worker waits this long for running executions when stopped.
			N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '5',
		};
		const postgresQuery = <T>(sql: string) => psqlJson<T>(postgres, sql);
		const make = async (extra: (port: number) => NodeJS.ProcessEnv = () => ({})) => {
			const port = await freePort();
			return await N8nInstance.create({ install, port, env: { ...shared, ...extra(port) }, postgresQuery });
		};
		const worker = (port: number): NodeJS.ProcessEnv => ({
			QUEUE_HEALTH_CHECK_ACTIVE: 'true',
			QUEUE_HEALTH_CHECK_PORT: String(port),
			N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
		});
		const processes: Record<ProcessName, N8nInstance> = {
			main: await make(),
			worker1: await make(worker),
			worker2: await make(worker),
			webhookA: await make(),
			webhookB: await make(),
		};
		await Promise.all(Object.values(processes).map((instance) => instance.installPackage(tarball)));
		return new QueueCluster(services, processes, filesDir);
	}

	/** Main first (it registers the published workflows' webhooks in the database), then the others together. */
	async start(): Promise<void> {
		await this.main.start(180_000);
		await Promise.all([
			this.workers.worker1.start(180_000, ['worker', `--concurrency=${WORKER_CONCURRENCY}`]),
			this.workers.worker2.start(180_000, ['worker', `--concurrency=${WORKER_CONCURRENCY}`]),
			this.webhooks.webhookA.start(180_000, ['webhook']),
			this.webhooks.webhookB.start(180_000, ['webhook']),
		]);
	}

	async stop(): Promise<void> {
		await Promise.all(Object.values(this.processes).map((instance) => instance.stop()));
	}

	/** Which worker ran each execution, from the workers' own logs. */
	workerByExecution(): Map<string, 'worker1' | 'worker2'> {
		const ran = new Map<string, 'worker1' | 'worker2'>();
		for (const name of ['worker1', 'worker2'] as const) {
			const instance = this.workers[name];
			const log = readFileSync(instance.logFile, 'utf8');
			for (const id of instance.internals.workerExecutionIds(log)) ran.set(id, name);
		}
		return ran;
	}

	/** Every port the cluster listened on: n8n's five, PostgreSQL and Redis (for the check that none is left). */
	ports(): number[] {
		return [
			...Object.values(this.processes).map((instance) => instance.port),
			this.services.postgres.port,
			this.services.redis.port,
		];
	}
}
