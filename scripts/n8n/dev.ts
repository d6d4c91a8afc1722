/**
 * `npm run dev`: the real n8n editor on http://127.0.0.1:5678 (N8N_DEV_PORT to change) with the package freshly built,
 * packed and installed as a community package, the WeChat emulator with its demo account, the emulator credential and
 * the six examples imported (Escalation, Escalation by Workflow and Welcome published), and an owner account set up so that you can log in
 * at once. Runs until Ctrl-C, then stops n8n and the emulator and removes the temporary n8n folder (KEEP_N8N=1 keeps
 * it). `--n8n-version 1.123.81` (or N8N_VERSION) runs the last n8n 1.x instead of 2.41.0.
 */
import path from 'node:path';

import { startEmulator } from './lib/emulator';
import {
	configuredExamples,
	CREDENTIAL_ID,
	CREDENTIAL_NAME,
	emulatorCredential,
	ENCODING_AES_KEY,
	PUSH_TOKEN,
	SAMPLE_JPEG,
	triggerUrl,
} from './lib/fixtures';
import { ensureN8n, n8nVersionFrom } from './lib/n8nInstall';
import { N8nInstance } from './lib/n8nInstance';
import { buildAndPack } from './lib/packageUnderTest';
import { portIsFree } from './lib/ports';
import { installSignalHandlers, shutdown } from './lib/processes';
import { OFFICIAL_ACCOUNT } from './lib/pushes';
import { startReceiver } from './lib/receiver';

const OWNER = { email: 'demo@example.com', password: 'Demo-Passw0rd', firstName: 'Demo', lastName: 'Owner' };

async function main(): Promise<void> {
	installSignalHandlers((signal) => process.stdout.write(`\n${signal}: stopping n8n and the emulator…\n`));
	const version = n8nVersionFrom();
	const port = Number(process.env.N8N_DEV_PORT ?? 5678);
	if (!(await portIsFree(port))) {
		throw new Error(`port ${port} on 127.0.0.1 is in use (another n8n?). Stop it, or set N8N_DEV_PORT.`);
	}
	const say = (text: string) => process.stdout.write(`${text}\n`);

	say(`Building the package and installing it into n8n ${version}…`);
	const install = await ensureN8n(version, undefined, say);
	const n8n = await N8nInstance.create({ install, port });
	try {
		await n8n.installPackage(await buildAndPack(path.join(n8n.root, 'pack'), n8n.log));
		// The emulator's usual port when it is free, so that the credential matches `npm run emulator` habits.
		const emulator = await startEmulator({ log: n8n.log, port: (await portIsFree(8765)) ? 8765 : 0 });
		const seeded = await emulator.admin<{ demo: { recentFollowers: string[] } }>('seed', { demo: true });
		const imageServer = await startReceiver((request) =>
			request.path === '/brand/welcome.jpg'
				? { type: 'image/jpeg', body: SAMPLE_JPEG }
				: { status: 404, type: 'text/plain', body: 'not found' },
		);
		const groupBot = await startReceiver((request) => {
			say(`[group bot] ${request.method} ${request.path}`);
			return { type: 'application/json', body: '{"errcode":0,"errmsg":"ok"}' };
		});
		const examples = await configuredExamples({
			credential: { id: CREDENTIAL_ID, name: CREDENTIAL_NAME },
			exportFolder: n8n.filesDir,
			botWebhookUrl: `${groupBot.url}/cgi-bin/webhook/send?key=dev`,
			welcomeImageUrl: `${imageServer.url}/brand/welcome.jpg`,
		});

		say('Importing the emulator credential and the examples…');
		await n8n.importCredentials([emulatorCredential(emulator)]);
		await n8n.importWorkflows(Object.values(examples));
		await n8n.publish(examples.escalation.id);
		await n8n.publish(examples['escalation-by-workflow'].id);
		await n8n.publish(examples.welcome.id);
		say(`Starting n8n on ${n8n.baseUrl}…`);
		await n8n.start();
		n8n.onServerExit((code, signal) => {
			process.stderr.write(`\nn8n exited unexpectedly (${signal ?? `code ${code}`}); log: ${n8n.logFile}\n`);
			n8n.preserve();
			void shutdown().finally(() => process.exit(1));
		});
		// First start of a fresh n8n: create the owner through the same call the set-up screen makes.
		const owner = await n8n.internals.setUpOwner(OWNER);
		if (owner.status !== 200)
			throw new Error(`owner set-up answered HTTP ${owner.status}: ${owner.text.slice(0, 300)}`);

		const escalationUrl = triggerUrl(n8n, examples.escalation);
		const samplePush = {
			url: escalationUrl,
			mode: 'safe',
			format: 'xml',
			token: PUSH_TOKEN,
			appId: emulator.appId,
			encodingAESKey: ENCODING_AES_KEY,
			message: {
				ToUserName: OFFICIAL_ACCOUNT,
				FromUserName: seeded.demo.recentFollowers[7],
				CreateTime: Math.floor(Date.now() / 1000),
				MsgType: 'text',
				Content: '我要转人工',
				MsgId: '24967187623118849',
			},
		};
		say(
			[
				'',
				`n8n ${version} is running: ${n8n.baseUrl}`,
				`  log in as ${OWNER.email} / ${OWNER.password}`,
				`  credential "${CREDENTIAL_NAME}" → WeChat emulator ${emulator.baseUrl} (AppID ${emulator.appId})`,
				'  workflows: the six examples; Escalation, Escalation by Workflow and Welcome are published',
				`  files written by workflows: ${n8n.filesDir}`,
				`  n8n log: ${n8n.logFile}`,
				'',
				'Send the escalation trigger a push as WeChat would (signed, safe mode):',
				`  curl -s -X POST ${emulator.baseUrl}/__emulator/push -H 'content-type: application/json' \\`,
				`    -d '${JSON.stringify(samplePush)}'`,
				`Then see what reached "WeChat": ${emulator.baseUrl}/__emulator/log?kind=api`,
				`For the workflow-decided reply (escalation-by-workflow.json), send it to ${triggerUrl(n8n, examples['escalation-by-workflow'])}`,
				'',
				'Offline by design: connections from n8n beyond 127.0.0.1 are refused (scripts/n8n/netGuard.cjs).',
				'After changing the nodes, stop with Ctrl-C and run npm run dev again (it rebuilds and reinstalls).',
				'Ctrl-C stops n8n and the emulator.',
			].join('\n'),
		);
	} catch (error) {
		n8n.preserve();
		process.stderr.write(
			`\nnpm run dev failed: ${error instanceof Error ? error.message : String(error)}\nn8n log: ${n8n.logFile}\n`,
		);
		await shutdown();
		process.exit(1);
	}
	// Runs until a signal: installSignalHandlers stops everything and exits.
}

main().catch(async (error: unknown) => {
	process.stderr.write(`npm run dev failed: ${error instanceof Error ? error.message : String(error)}\n`);
	await shutdown();
	process.exit(1);
});
