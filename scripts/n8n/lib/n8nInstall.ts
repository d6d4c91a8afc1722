/**
 * Which n8n a run uses, and its cached install (scripts/n8n/install-n8n.sh: n8n plus the Node it needs, once per
 * machine and version, outside the repository).
 */
import { existsSync, readFileSync, type WriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { assertSupportedN8nVersion } from './n8nInternals';
import { PACKAGE_NAME } from './packageUnderTest';
import { commandFailure, run } from './processes';

export const DEFAULT_N8N_VERSION = '2.41.0';

export interface N8nInstall {
	version: string;
	dir: string;
	/** The Node this n8n version needs (24 for 2.x, 22 for 1.x). */
	nodeBinDir: string;
	nodeBin: string;
	n8nBin: string;
	major: number;
}

/** `--n8n-version X`, `--n8n-version=X`, else N8N_VERSION, else the default. */
export function n8nVersionFrom(argv: string[] = process.argv.slice(2)): string {
	const inline = argv.find((arg) => arg.startsWith('--n8n-version='));
	if (inline) return inline.slice('--n8n-version='.length);
	const index = argv.indexOf('--n8n-version');
	if (index >= 0 && argv[index + 1]) return argv[index + 1];
	return process.env.N8N_VERSION || DEFAULT_N8N_VERSION;
}

/**
 * The cached install of `version`, installing it first when missing (several minutes, once per machine). The script
 * prints the folder as its last line; progress goes to `log` so a quiet run stays quiet. An untested version is
 * refused before the install, not after seven minutes of it.
 */
export async function ensureN8n(
	version: string,
	log?: WriteStream,
	say: (text: string) => void = () => {},
): Promise<N8nInstall> {
	assertSupportedN8nVersion(version);
	const cacheRoot = process.env.N8N_CACHE_DIR || path.join(os.homedir(), '.cache', PACKAGE_NAME);
	let dir = path.join(cacheRoot, `n8n-${version}`);
	if (!existsSync(path.join(dir, '.complete'))) {
		say(`installing n8n ${version} into ${dir} (once per machine, about 7 minutes)…`);
		const result = await run('bash', [path.join(__dirname, '..', 'install-n8n.sh'), version], {
			timeoutMs: 45 * 60_000,
			log,
		});
		if (result.code !== 0) throw commandFailure(`install-n8n.sh ${version}`, result);
		dir = result.stdout.trim().split('\n').pop() ?? dir;
	}
	const nodeBinDir = path.join(dir, readFileSync(path.join(dir, 'node-bin-dir'), 'utf8').trim());
	return {
		version,
		dir,
		nodeBinDir,
		nodeBin: path.join(nodeBinDir, 'node'),
		n8nBin: path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n'),
		major: Number(version.split('.')[0]),
	};
}
