/**
 * The package judged by the real n8n (2.41.0 by default; `N8N_VERSION=1.123.81` or `--n8n-version 1.123.81` for the
 * last 1.x), as node:test suites; `npm run test:e2e` runs them (run.ts). The package is built, packed and installed as
 * n8n's community-package installer does; workflows run through `n8n execute`, and the trigger through `n8n start`
 * with pushes delivered as WeChat delivers them. Every assertion reads what n8n produced (its execution output, its
 * stored executions) and what reached "WeChat" (the emulator's request log).
 *
 * Leaving loopback is checked two ways: scripts/n8n/netGuard.cjs inside every n8n process records (and refuses) any
 * connection, DNS lookup or datagram to a non-loopback address — a positive control proves it catches a deliberate one
 * from a workflow — and while `n8n start` runs, the sockets of its whole process tree (task runner included) are
 * sampled from /proc for remote addresses outside 127.0.0.0/8.
 *
 * Every wait is bounded, and a watchdog ends the run after 25 minutes; a failure, Ctrl-C or SIGTERM stops n8n and the
 * emulator. Each check can run alone (`--test-name-pattern`): the set-up it needs is in the suites' before hooks.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';

import { ENCODING_AES_KEY } from '../lib/fixtures';
import { PACKAGE_NAME } from '../lib/packageUnderTest';
import { installSignalHandlers, shutdown } from '../lib/processes';
import { E2eRun } from './e2eRun';
import { executeChecks } from './executeChecks';
import { scheduleChecks } from './scheduleChecks';
import { triggerChecks } from './triggerChecks';

const WATCHDOG_MS = 25 * 60_000;

installSignalHandlers((signal) => process.stderr.write(`\n${signal}: stopping n8n and the emulator\n`));
setTimeout(() => {
	process.stderr.write(`watchdog: the e2e run exceeded ${WATCHDOG_MS / 60_000} minutes; stopping it\n`);
	void shutdown().finally(() => process.exit(1));
}, WATCHDOG_MS).unref();

const e2e = new E2eRun();

describe(`e2e in the real n8n ${e2e.version}`, () => {
	before(() => e2e.setUp());
	after(() => e2e.tearDown());

	e2e.check(
		`set-up: n8n ${e2e.version} installed, package built, packed and installed as a community package`,
		async () => {
			const manifest = path.join(e2e.n8n.userFolder, '.n8n', 'nodes', 'node_modules', PACKAGE_NAME, 'package.json');
			const installed = JSON.parse(await fs.readFile(manifest, 'utf8')) as { n8n: { nodes: string[] } };
			assert.equal(installed.n8n.nodes.length, 2);
		},
	);

	// The import itself is part of the set-up above, which every other check needs.
	e2e.check(
		'import: credential of type weChatOfficialAccountApi (emulator base URL, push token, 43-char key) and all workflows',
		async () => assert.equal(ENCODING_AES_KEY.length, 43),
	);

	describe('workflows run by n8n execute', () => executeChecks(e2e));
	describe('a scheduled export behind n8n start, across a restart', () => scheduleChecks(e2e));
	describe('the trigger behind n8n start', () => triggerChecks(e2e));
});
