/**
 * `node --import tsx scripts/n8n/queue/staticDataCost.ts`: what the shared push memory costs per push.
 *
 * - CPU in the webhook process: `sharedPushMemory` recall + remember for a new push, with the copy empty, half and
 *   full, including the JSON round trip n8n makes of the static data (load and save).
 * - The database write n8n adds after the answer: the statement of n8n's `saveStaticDataById` (UPDATE workflow_entity
 *   SET "staticData" = …, "updatedAt" unchanged, one row) with the static data the trigger leaves, on PostgreSQL
 *   (Debian's, started here with fsync on) and on SQLite in WAL mode (n8n's default set-up), each through the driver
 *   n8n itself uses (`pg`, `sqlite3`), in the Node that runs n8n.
 * Prints one line per measurement; README "Running in queue mode" quotes them.
 */
import { createWriteStream, promises as fs, rmSync } from 'node:fs';
import type { IDataObject } from 'n8n-workflow';
import path from 'node:path';

import { contentDigest, memoryKey } from '../../../nodes/WeChatCustomerServiceTrigger/helpers/deduplicate';
import {
	SHARED_MAX_ENTRIES,
	sharedPushMemory,
} from '../../../nodes/WeChatCustomerServiceTrigger/helpers/sharedPushMemory';
import { ensureN8n } from '../lib/n8nInstall';
import { RecentlyShared } from '../../../nodes/WeChatCustomerServiceTrigger/helpers/sharedPushMemory';
import { installSignalHandlers, onShutdown, run, shutdown } from '../lib/processes';
import { ensureDebianPackages, servicesFolder, startPostgres } from './services';

const none = { recall: () => undefined, remember: () => true, forget: () => {} };
const success = { status: 200, contentType: 'text/plain', body: 'success' };
const NODE_KEY = 'node:WeChat Customer Service Trigger';

/** The static data after `pushes` accepted pushes (two entries each), as n8n would save it. */
function staticDataAfter(pushes: number): IDataObject {
	const node: IDataObject = {};
	const start = Date.now();
	for (let i = 0; i < pushes; i++) {
		sharedPushMemory(node, 'w/n', none, new RecentlyShared()).remember(
			[
				{ key: memoryKey(['w/n', 'request', String(i)]), contentDigest: contentDigest(`body ${i}`) },
				{ key: memoryKey(['w/n', 'message', String(i)]) },
			],
			success,
			start + 600_000,
			start,
			0,
		);
	}
	return { [NODE_KEY]: node };
}

function cpuPerPush(staticData: IDataObject, rounds: number): number {
	const text = JSON.stringify(staticData);
	// What this process wrote lately, written again with each save: as full as the copy, the worst case.
	const recent = new RecentlyShared();
	const began = process.hrtime.bigint();
	for (let i = 0; i < rounds; i++) {
		const loaded = JSON.parse(text) as Record<string, IDataObject>;
		const memory = sharedPushMemory(loaded[NODE_KEY] ?? (loaded[NODE_KEY] = {}), 'w/n', none, recent);
		const now = Date.now();
		const requestKey = memoryKey(['w/n', 'request', 'new', String(i)]);
		const pushKey = memoryKey(['w/n', 'message', 'new', String(i)]);
		memory.recall(requestKey, now);
		memory.recall(pushKey, now);
		memory.remember(
			[{ key: requestKey, contentDigest: contentDigest(String(i)) }, { key: pushKey }],
			success,
			now + 300_000,
			now,
			0,
		);
		JSON.stringify(loaded);
	}
	return Number(process.hrtime.bigint() - began) / 1e6 / rounds;
}

/** Runs in n8n's own Node with n8n's drivers: times `rounds` single-row updates per payload. */
const DRIVER_SCRIPT = `
const [modules, kind, port, dbFile, payloadFile, rounds] = process.argv.slice(1);
const payloads = JSON.parse(require('fs').readFileSync(payloadFile, 'utf8'));
const n = Number(rounds);
const report = (name, ms) => console.log(JSON.stringify({ name, ms }));
(async () => {
  if (kind === 'postgres') {
    const { Client } = require(modules + '/pg');
    const client = new Client({ host: '127.0.0.1', port: Number(port), user: 'n8n', database: 'n8n' });
    await client.connect();
    await client.query('CREATE TABLE workflow_entity (id varchar(36) PRIMARY KEY, "staticData" json, "updatedAt" timestamp(3) NOT NULL DEFAULT now())');
    await client.query("INSERT INTO workflow_entity (id) VALUES ('w')");
    for (const [name, data] of Object.entries(payloads)) {
      const began = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await client.query('UPDATE workflow_entity SET "staticData" = $1, "updatedAt" = "updatedAt" WHERE id = $2', [data, 'w']);
      report(name, Number(process.hrtime.bigint() - began) / 1e6 / n);
    }
    await client.end();
  } else {
    const sqlite3 = require(modules + '/sqlite3');
    const db = new sqlite3.Database(dbFile);
    const exec = (sql, params = []) => new Promise((resolve, reject) => db.run(sql, params, (e) => (e ? reject(e) : resolve())));
    await exec('PRAGMA journal_mode=WAL');
    await exec('CREATE TABLE workflow_entity (id varchar(36) PRIMARY KEY, staticData text, updatedAt datetime NOT NULL DEFAULT CURRENT_TIMESTAMP)');
    await exec("INSERT INTO workflow_entity (id) VALUES ('w')");
    for (const [name, data] of Object.entries(payloads)) {
      const began = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await exec('UPDATE workflow_entity SET staticData = ?, updatedAt = updatedAt WHERE id = ?', [data, 'w']);
      report(name, Number(process.hrtime.bigint() - began) / 1e6 / n);
    }
    db.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
`;

async function main(): Promise<void> {
	installSignalHandlers();
	const install = await ensureN8n('2.41.0', undefined, (text) => console.log(text));
	await ensureDebianPackages((text) => console.log(text));
	const folder = await servicesFolder();
	onShutdown(() => rmSync(folder, { recursive: true, force: true }));
	const sizes: Record<string, number> = { 'no push memory': 0, '100 pushes': 100, full: SHARED_MAX_ENTRIES / 2 };
	const payloads: Record<string, string> = {};
	for (const [name, pushes] of Object.entries(sizes)) {
		const staticData = pushes === 0 ? {} : staticDataAfter(pushes);
		payloads[name] = JSON.stringify(staticData);
		console.log(
			`cpu per push, ${name} (${payloads[name].length} characters): ${cpuPerPush(staticData, 300).toFixed(3)} ms`,
		);
	}
	const payloadFile = path.join(folder, 'payloads.json');
	await fs.writeFile(payloadFile, JSON.stringify(payloads));
	const postgres = await startPostgres(path.join(folder, 'postgres'), createWriteStream(path.join(folder, 'pg.log')));
	const modules = path.join(install.dir, 'node_modules');
	for (const kind of ['postgres', 'sqlite'] as const) {
		const result = await run(
			install.nodeBin,
			['-e', DRIVER_SCRIPT, modules, kind, String(postgres.port), path.join(folder, 'cost.sqlite'), payloadFile, '300'],
			{ timeoutMs: 10 * 60_000 },
		);
		if (result.code !== 0) throw new Error(`${kind}: ${result.stderr}`);
		for (const line of result.stdout.trim().split('\n')) {
			const { name, ms } = JSON.parse(line) as { name: string; ms: number };
			console.log(
				`${kind} static-data write per push, ${name} (${payloads[name].length} characters): ${ms.toFixed(2)} ms`,
			);
		}
	}
	await shutdown();
}

main().catch(async (error: unknown) => {
	console.error(error);
	await shutdown();
	process.exit(1);
});
