/**
 * `npm run emulator` — a standalone WeChat API emulator with demo data, for trying the nodes in a real n8n or for
 * end-to-end scripts. Port: `--port N`, else env WECHAT_EMULATOR_PORT, else 8765; host 127.0.0.1 (`--host` to change).
 * `--empty` skips the demo data, `--msgid-mode last` switches getmsglist paging. Stops cleanly on SIGINT/SIGTERM.
 */
import { seedDemoData } from './demoData';
import { startEmulator } from './server';
import type { MsgidMode } from './state';

function argument(name: string): string | undefined {
	const args = process.argv.slice(2);
	const inline = args.find((a) => a.startsWith(`--${name}=`));
	if (inline) return inline.slice(name.length + 3);
	const index = args.indexOf(`--${name}`);
	return index >= 0 ? args[index + 1] : undefined;
}

async function main(): Promise<void> {
	const portText = argument('port') ?? process.env.WECHAT_EMULATOR_PORT ?? '8765';
	const port = Number(portText);
	if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port "${portText}"`);
	const msgidMode = argument('msgid-mode');
	if (msgidMode !== undefined && msgidMode !== 'next' && msgidMode !== 'last') {
		throw new Error('--msgid-mode must be "next" or "last"');
	}
	const emulator = await startEmulator({
		port,
		host: argument('host') ?? '127.0.0.1',
		msgidMode: msgidMode as MsgidMode | undefined,
	});
	const lines = [
		`WeChat API emulator listening on ${emulator.baseUrl}`,
		'',
		'Credential "WeChat Official Account API":',
		`  Base URL   ${emulator.baseUrl}`,
		`  AppID      ${emulator.appId}`,
		`  AppSecret  ${emulator.appSecret}`,
	];
	if (!process.argv.includes('--empty')) {
		const demo = seedDemoData(emulator.state);
		lines.push(
			'',
			'Demo data:',
			`  kf accounts        ${demo.kfAccounts.join(', ')} (alice and bob online; dave invited, not bound)`,
			`  followers          ${demo.recentFollowers.length} who wrote in the last 40 h, e.g. ${demo.recentFollowers[7]}`,
			`  outside window     ${demo.staleFollower} (45015), unsubscribed ${demo.unsubscribedFollower}`,
			`  waiting queue      ${demo.waiting.length} users`,
			`  image media_id     ${demo.imageMediaId}`,
			`  thumb media_id     ${demo.thumbMediaId}`,
			`  voice media_id     ${demo.voiceMediaId} (a follower's voice note; Get Media downloads it)`,
			`  video media_id     ${demo.videoMediaId} (media/get answers a video_url on this emulator)`,
			`  chat records       ${demo.chatRecordsPerDay.reduce((a, b) => a + b, 0)} over the last 7 days (per day: ${demo.chatRecordsPerDay.join(', ')})`,
		);
	}
	lines.push('', `Admin: ${emulator.baseUrl}/__emulator/state, /__emulator/log (see test/emulator/README.md)`, 'Ctrl+C to stop.');
	console.log(lines.join('\n'));

	let stopping = false;
	const stop = (signal: string) => {
		if (stopping) return;
		stopping = true;
		console.log(`\n${signal}: stopping the emulator`);
		emulator.close().then(
			() => process.exit(0),
			(error: unknown) => {
				console.error(error);
				process.exit(1);
			},
		);
	};
	process.on('SIGINT', () => stop('SIGINT'));
	process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
	console.error(error instanceof Error ? error.message : error);
	process.exit(1);
});
