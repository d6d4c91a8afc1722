/**
 * `npm run test:e2e [-- options]`: e2e.test.ts under node's test runner, reporting TAP that ends in the runner's
 * summary (`# pass N`, `# fail N`); exits with the runner's code. `--n8n-version X` (or N8N_VERSION) picks the n8n;
 * every other argument goes to node's test runner, e.g. `--test-name-pattern="handshake"` runs one check (with the
 * shared set-up it needs). A wrapper because npm appends arguments after the file, where node would not read them.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

import { n8nVersionFrom } from '../lib/n8nInstall';

const args = process.argv.slice(2);
const version = n8nVersionFrom(args);
const runnerOptions = args.filter((arg, i) => !arg.startsWith('--n8n-version') && args[i - 1] !== '--n8n-version');
const reporter = runnerOptions.some((arg) => arg.startsWith('--test-reporter')) ? [] : ['--test-reporter=tap'];
const child = spawn(
	process.execPath,
	['--import', 'tsx', ...reporter, ...runnerOptions, path.join(__dirname, 'e2e.test.ts')],
	{ stdio: 'inherit', env: { ...process.env, N8N_VERSION: version } },
);
// Ctrl-C reaches both processes; a signal sent to this one alone (a CI timeout) is passed on: the tests stop n8n.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
child.once('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 143)));
