/**
 * This repository's package as n8n sees it: its names once installed as a community package, and the tarball
 * `npm pack` makes of it (what n8n's community-package installer installs).
 */
import { promises as fs, type WriteStream } from 'node:fs';
import path from 'node:path';

import { commandFailure, run } from './processes';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const PACKAGE_NAME = 'n8n-nodes-wechat-customer-service';
export const NODE_TYPE = `${PACKAGE_NAME}.weChatCustomerService`;
export const TRIGGER_TYPE = `${PACKAGE_NAME}.weChatCustomerServiceTrigger`;
export const CREDENTIAL_TYPE = 'weChatOfficialAccountApi';

/** `npm run build`, then `npm pack` into `destination`; returns the tarball's path. */
export async function buildAndPack(destination: string, log?: WriteStream): Promise<string> {
	const build = await run('npm', ['run', 'build'], { cwd: ROOT, timeoutMs: 5 * 60_000, log });
	if (build.code !== 0) throw commandFailure('npm run build', build);
	await fs.mkdir(destination, { recursive: true });
	const pack = await run('npm', ['pack', '--json', '--pack-destination', destination], {
		cwd: ROOT,
		timeoutMs: 2 * 60_000,
		log,
	});
	if (pack.code !== 0) throw commandFailure('npm pack', pack);
	const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string }>;
	return path.join(destination, info.filename);
}
