/**
 * `npm run demo`: the package in a real n8n, end to end, on this machine only. Builds and packs the package, installs
 * it into a throw-away n8n (2.41.0 by default; N8N_VERSION=1.123.81 or --n8n-version for the last 1.x), starts the
 * WeChat emulator with its demo account, imports the six example workflows, runs the scheduled ones once headlessly,
 * publishes the trigger-started ones, starts n8n and sends it pushes the way WeChat does (signed, safe-mode
 * encrypted), decrypting the passive replies as WeChat would. Then it tells what happened, stops everything and exits
 * 0. n8n's own output goes to a log file whose path is printed only on failure.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { decryptReply, xmlField } from '../../test/emulator/pushSender';
import { startEmulator } from './lib/emulator';
import {
	configuredExamples,
	CREDENTIAL_ID,
	CREDENTIAL_NAME,
	emulatorCredential,
	ENCODING_AES_KEY,
	PUSH_TOKEN,
	SAMPLE_JPEG,
	TRIGGER_NODE,
	triggerUrl,
} from './lib/fixtures';
import { readGuardLog } from './lib/loopbackGuard';
import { ensureN8n, n8nVersionFrom } from './lib/n8nInstall';
import { N8nInstance } from './lib/n8nInstance';
import { buildAndPack } from './lib/packageUnderTest';
import { installSignalHandlers, shutdown } from './lib/processes';
import { push, subscribeEvent, textMessage } from './lib/pushes';
import { startReceiver } from './lib/receiver';

interface DemoAccount {
	recentFollowers: string[];
	waiting: string[];
}

function short(openid: string): string {
	return `${openid.slice(0, 8)}…`;
}

function clip(text: string, max = 60): string {
	return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

async function main(): Promise<void> {
	installSignalHandlers();
	const version = n8nVersionFrom();
	const started = Date.now();
	const say = (text: string) => process.stdout.write(`${text}\n`);
	let n8n: N8nInstance | undefined;

	try {
		say(`Preparing: build and pack the package, install it into n8n ${version}, start the WeChat emulator…`);
		const install = await ensureN8n(version, undefined, say);
		n8n = await N8nInstance.create({ install });
		const instance = n8n;
		const tarball = await buildAndPack(path.join(instance.root, 'pack'), instance.log);
		await instance.installPackage(tarball);

		const emulator = await startEmulator({ log: instance.log });
		const seeded = await emulator.admin<{ demo: DemoAccount }>('seed', { demo: true });
		const demo = seeded.demo;
		const imageServer = await startReceiver((request) =>
			request.path === '/brand/welcome.jpg'
				? { type: 'image/jpeg', body: SAMPLE_JPEG }
				: { status: 404, type: 'text/plain', body: 'not found' },
		);
		const groupBot = await startReceiver();

		const examples = await configuredExamples({
			credential: { id: CREDENTIAL_ID, name: CREDENTIAL_NAME },
			exportFolder: instance.filesDir,
			botWebhookUrl: `${groupBot.url}/cgi-bin/webhook/send?key=demo-group-bot`,
			threshold: 3,
			welcomeImageUrl: `${imageServer.url}/brand/welcome.jpg`,
		});
		say('Importing the emulator credential and the six example workflows into n8n…');
		await instance.importCredentials([emulatorCredential(emulator)]);
		await instance.importWorkflows(Object.values(examples));

		say('Running "Nightly export" and "Waiting-queue alert" once (their Run Now entry)…');
		const exportRun = await instance.execute(examples['nightly-export'].id);
		if (exportRun.error) throw new Error(`Nightly export failed: ${exportRun.error.message}`);
		const alertRun = await instance.execute(examples['waiting-queue-alert'].id);
		if (alertRun.error) throw new Error(`Waiting-queue alert failed: ${alertRun.error.message}`);

		say('Publishing "Escalation", "Escalation by workflow" and "Welcome", starting n8n and sending it WeChat pushes…');
		const byWorkflow = examples['escalation-by-workflow'];
		await instance.publish(examples.escalation.id);
		await instance.publish(byWorkflow.id);
		await instance.publish(examples.welcome.id);
		await instance.start();
		const escalationUrl = triggerUrl(instance, examples.escalation);
		const welcomeUrl = triggerUrl(instance, examples.welcome);
		const byWorkflowUrl = triggerUrl(instance, byWorkflow);
		await instance.waitForWebhook(escalationUrl);
		await instance.waitForWebhook(byWorkflowUrl);

		// Escalation by workflow first, while Alice (2 open sessions) and Bob (1) are online: a returning customer whom
		// Alice served an hour ago goes back to Alice, a first-time writer to Bob, the least loaded.
		const returning = 'oDemoReturningCustomer000001';
		const firstTimer = 'oDemoFirstTimeWriter00000001';
		const servedAt = Math.floor(Date.now() / 1000) - 3600;
		await emulator.admin('seed', {
			records: [
				{ openid: returning, opercode: 2003, text: '我的订单还没到', time: servedAt - 60, worker: 'alice@emulator_oa' },
				{ openid: returning, opercode: 2002, text: '已为您查询，明天送达', time: servedAt, worker: 'alice@emulator_oa' },
			],
		});
		const byWorkflowLines: string[] = [];
		const asked: Array<{ openid: string; text: string; history: string }> = [
			{ openid: returning, text: '转人工，还是找上次那位客服', history: ' (Alice served them an hour ago)' },
			{ openid: firstTimer, text: 'Can I talk to a human?', history: ' (no chats in the last 2 days)' },
			{ openid: demo.recentFollowers[10], text: 'Do you ship to Hong Kong?', history: '' },
		];
		for (const [index, conversation] of asked.entries()) {
			const delivery = await push(byWorkflowUrl, emulator.appId, textMessage(conversation.openid, conversation.text));
			const answered = delivery.deliveries[delivery.deliveries.length - 1];
			if (answered.status !== 200)
				throw new Error(`the trigger answered HTTP ${answered.status ?? answered.error}: ${answered.body}`);
			const reply = decryptReply(answered.body ?? '', {
				token: PUSH_TOKEN,
				encodingAESKey: ENCODING_AES_KEY,
				appId: emulator.appId,
			});
			if (!reply.signatureValid) throw new Error('the passive reply carries a wrong MsgSignature');
			const rows = await instance.internals.waitForExecutions(byWorkflow.id, index + 1);
			const run = await instance.internals.executionData(rows[rows.length - 1].id);
			const choice = run.items('Choose Agent')[0] as { chosenBecause?: string } | undefined;
			const why =
				choice?.chosenBecause === 'servedLast'
					? ', who served them last and is online'
					: choice?.chosenBecause === 'leastLoaded'
						? ', the least-loaded online agent'
						: choice?.chosenBecause === 'nobodyOnline'
							? ' (nobody online: the waiting queue)'
							: '';
			const kind = xmlField(reply.plaintext, 'MsgType');
			const got =
				kind === 'transfer_customer_service'
					? `transfer_customer_service to ${xmlField(reply.plaintext, 'KfAccount') ?? 'whoever WeChat picks'}${why}`
					: `passive ${kind} "${clip(xmlField(reply.plaintext, 'Content') ?? '')}" (no customer-service quota used)`;
			byWorkflowLines.push(
				`  • ${short(conversation.openid)} wrote "${conversation.text}"${conversation.history}`,
				`      → answered in ${(answered.ms / 1000).toFixed(1)} s, encrypted: ${got}`,
			);
		}

		await emulator.admin('clear-log', {});
		const [wantsHuman, asksHours, wantsHumanLate] = [
			demo.recentFollowers[7],
			demo.recentFollowers[8],
			demo.recentFollowers[9],
		];

		const conversations: Array<{ openid: string; text: string; before?: () => Promise<void> }> = [
			{ openid: wantsHuman, text: '你好，我要转人工。I would like to talk to a human.' },
			{ openid: asksHours, text: 'What are your opening hours?' },
			{
				openid: wantsHumanLate,
				text: '人工客服在吗？',
				before: async () => {
					await emulator.admin('set-online', { kfAccount: 'alice@emulator_oa', online: false });
					await emulator.admin('set-online', { kfAccount: 'bob@emulator_oa', online: false });
				},
			},
		];
		const lines: string[] = [];
		const escalationLines: string[] = [];
		let escalationRuns = 0;
		for (const conversation of conversations) {
			await conversation.before?.();
			const before = (await emulator.apiLog()).length;
			await emulator.admin('user-message', { openid: conversation.openid });
			const delivery = await push(escalationUrl, emulator.appId, textMessage(conversation.openid, conversation.text));
			const answered = delivery.deliveries[delivery.deliveries.length - 1];
			if (answered.status !== 200)
				throw new Error(`the trigger answered HTTP ${answered.status ?? answered.error}: ${answered.body}`);
			escalationRuns += 1;
			await instance.internals.waitForExecutions(examples.escalation.id, escalationRuns);
			const calls = (await emulator.apiLog()).slice(before);
			const session = calls.find((call) => call.path === '/customservice/kfsession/create');
			const sent = calls.filter((call) => call.path === '/cgi-bin/message/custom/send');
			const reply = sent.map((call) => (call.json as { text?: { content?: string } }).text?.content ?? '').join(' / ');
			const sentAs = sent
				.map((call) => (call.json as { customservice?: { kf_account?: string } }).customservice?.kf_account)
				.find(Boolean);
			const head = `  • ${short(conversation.openid)} wrote "${conversation.text}"`;
			if (session) {
				const body = session.json as { kf_account: string };
				const online = calls.find((call) => call.path === '/cgi-bin/customservice/getonlinekflist');
				const loads = (
					(online?.response.body as { kf_online_list?: Array<{ kf_account: string; accepted_case: number }> })
						?.kf_online_list ?? []
				)
					.map((agent) => `${agent.kf_account.split('@')[0]} ${agent.accepted_case}`)
					.join(', ');
				escalationLines.push(
					`${head}\n      → asked for a human: handed to ${body.kf_account}, the least-loaded online agent (open sessions: ${loads})` +
						`\n      → told${sentAs ? ` as ${sentAs}` : ''}: "${clip(reply)}"`,
				);
			} else if (conversation.before) {
				escalationLines.push(
					`  • Alice and Bob went offline.\n${head}\n      → no agent online, told: "${clip(reply)}"`,
				);
			} else {
				escalationLines.push(`${head}\n      → automatic answer: "${clip(reply)}"`);
			}
		}

		const newcomer = 'oDemoNewFollowerWelcome00001';
		await emulator.admin('seed', { followers: [newcomer] });
		const beforeWelcome = (await emulator.apiLog()).length;
		await push(welcomeUrl, emulator.appId, subscribeEvent(newcomer));
		const [welcomeExecution] = await instance.internals.waitForExecutions(examples.welcome.id, 1);
		const welcomeCalls = (await emulator.apiLog()).slice(beforeWelcome);
		const welcomeText = welcomeCalls
			.filter((call) => call.path === '/cgi-bin/message/custom/send')
			.map((call) => call.json as { msgtype: string; text?: { content: string }; image?: { media_id: string } });
		const upload = welcomeCalls.find((call) => call.path === '/cgi-bin/media/upload');
		const uploadedFile = upload?.multipart?.files[0];
		const welcomeRun = await instance.internals.executionData(welcomeExecution.id);

		// The account.
		const exportItems = exportRun.items('Get New Chat Records');
		const range = exportItems[0]?.exportRange as { start?: string; end?: string } | undefined;
		const written = exportRun.items('Write CSV to Disk')[0] as { fileName?: string } | undefined;
		const keptCsvDir = path.join(os.tmpdir(), 'n8n-wechat-cs-demo');
		await fs.mkdir(keptCsvDir, { recursive: true });
		let csvLine = '  • no chat records since the first run start (yesterday 00:00), so no CSV was written';
		if (written?.fileName) {
			const kept = path.join(keptCsvDir, path.basename(written.fileName));
			await fs.copyFile(written.fileName, kept);
			const rows = (await fs.readFile(kept, 'utf8')).trim().split('\n').length - 1;
			csvLine = `  • ${exportItems.length} chat records from ${range?.start ?? '?'} until ${range?.end ?? '?'} exported (the next run continues from there); the CSV has ${rows} rows: ${kept}`;
		}
		const waiting = alertRun.items('Get Waiting Users');
		const posted = groupBot.requests[0];
		const alertLine = posted
			? `  • ${waiting[0]?.count ?? waiting.length} users waiting, more than the threshold of 3 → posted to the group bot ${posted.path.split('?')[0]}:\n      ${posted.body}`
			: `  • ${waiting[0]?.count ?? 0} users waiting, not more than 3: no alert`;

		lines.push(
			'',
			`What happened in n8n ${version} (${instance.baseUrl}) with the WeChat emulator (${emulator.baseUrl}):`,
			'',
			'Escalation — WeChat Customer Service Trigger, pushes signed and encrypted (safe mode) as WeChat sends them',
			...escalationLines,
			'',
			'Escalation by workflow — trigger Reply "From Workflow": each branch ends with Message → Reply, whose passive reply',
			'n8n sends back as the answer to the push (decrypted here as WeChat does)',
			...byWorkflowLines,
			'',
			'Welcome — trigger on subscribe',
			`  • ${short(newcomer)} followed the account → sent "${clip(welcomeText[0]?.text?.content ?? '(nothing)')}"`,
			`      and the image ${uploadedFile ? `${uploadedFile.filename} (${uploadedFile.size} bytes, downloaded by HTTP Request and uploaded from binary data as media ${welcomeText[1]?.image?.media_id ?? '?'})` : '(not sent)'}`,
			`      execution ${welcomeExecution.id}: ${welcomeExecution.status}; the trigger's item had FromUserName ${short(String(welcomeRun.items(TRIGGER_NODE)[0]?.FromUserName ?? '?'))}, Event ${String(welcomeRun.items(TRIGGER_NODE)[0]?.Event ?? '?')}`,
			'',
			'Nightly export — ChatRecord → Get Many since the last run, up to last midnight → CSV → disk',
			csvLine,
			'',
			'Waiting-queue alert — Session → Get Waiting → IF count > threshold → HTTP Request',
			alertLine,
		);

		const { attempts: leaks } = await readGuardLog(instance.netLogFile);
		lines.push(
			'',
			leaks.length === 0
				? 'Nothing left 127.0.0.1: n8n attempted no connection to any other address.'
				: `WARNING: n8n attempted ${leaks.length} non-loopback connection(s): ${JSON.stringify(leaks)}`,
		);
		for (const warning of instance.warnings) lines.push(`Note: ${warning}`);
		await shutdown();
		lines.push(
			`Stopped n8n and the emulator; removed the temporary n8n folder. (${Math.round((Date.now() - started) / 1000)} s)`,
		);
		say(lines.join('\n'));
	} catch (error) {
		n8n?.preserve();
		process.stderr.write(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}\n`);
		if (n8n) process.stderr.write(`n8n log: ${n8n.logFile}\n(the folder ${n8n.root} was kept)\n`);
		await shutdown();
		process.exitCode = 1;
	}
}

void main();
