import axios from 'axios';

import { EngineHarness } from '../../test/harness/engine';
import { engineServicesReady } from '../../test/harness/services';
import { DEFAULT_MAX_IN_FLIGHT } from '../../nodes/WeChatCustomerService/transport/requestPolicy';
import { startEmulator } from '../n8n/lib/emulator';
import { detail, report, runScenario, timed } from './scenario';

/**
 * bulk-send: Message → Send of a text to 10,000 followers through n8n's engine, against axios (the HTTP library
 * under n8n's request helpers) sending the same 10,000 requests with the same number in flight as the node: its
 * default Max Requests in Flight (20 per credential), so both sides press WeChat equally hard.
 */
/** Runs `work` for every value with at most `limit` running at once. */
async function inFlight<T>(limit: number, values: T[], work: (value: T) => Promise<void>): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < values.length) await work(values[next++]);
	};
	await Promise.all(Array.from({ length: limit }, worker));
}

const FOLLOWERS = Number(process.env.BENCH_FOLLOWERS ?? 10_000);
const SEND = '/cgi-bin/message/custom/send';

runScenario(async () => {
	await engineServicesReady();
	const emulator = await startEmulator();
	try {
		const openids = Array.from({ length: FOLLOWERS }, (_, index) => `o_bulk_${String(index).padStart(5, '0')}`);
		await emulator.admin('seed', { followers: openids });
		// Each round sends every follower one message; WeChat's per-window quota (5) allows the rounds below.
		const harness = new EngineHarness({
			appId: emulator.appId,
			appSecret: emulator.appSecret,
			baseUrl: emulator.baseUrl,
		});
		const items = openids.map((openid) => ({ json: { openid } }));
		const parameters = {
			resource: 'message',
			operation: 'send',
			openId: '={{ $json.openid }}',
			msgType: 'text',
			content: '您好，您的工单已处理完毕。Your ticket has been resolved.',
		};
		const { data: tokenAnswer } = await axios.post<{ access_token: string }>(
			`${emulator.baseUrl}/cgi-bin/stable_token`,
			{ grant_type: 'client_credential', appid: emulator.appId, secret: emulator.appSecret },
		);

		const ours: number[] = [];
		const raw: number[] = [];
		for (let round = 0; round < 2; round++) {
			await emulator.admin('clear-log', {});
			const run = await timed(async () => await harness.runNode({ parameters, items }));
			if (run.value.error) throw new Error(run.value.error.message);
			const sent = run.value.items.filter((item) => item.json.sent === true).length;
			const { requests } = await emulator.admin<{ requests: unknown[] }>(`log?path=${SEND}`);
			if (sent !== FOLLOWERS || requests.length !== FOLLOWERS) {
				throw new Error(`sent ${sent} items, WeChat received ${requests.length}`);
			}
			ours.push(run.ms);

			const baseline = await timed(
				async () =>
					await inFlight(DEFAULT_MAX_IN_FLIGHT, openids, async (touser) => {
						const { data } = await axios.post<{ errcode: number }>(
							`${emulator.baseUrl}${SEND}`,
							{ touser, msgtype: 'text', text: { content: parameters.content } },
							{ params: { access_token: tokenAnswer.access_token } },
						);
						if (data.errcode !== 0) throw new Error(`raw send failed: ${data.errcode}`);
					}),
			);
			raw.push(baseline.ms);
		}
		const best = (values: number[]) => Math.min(...values);
		detail(`bulk-send: ours ${best(ours).toFixed(0)} ms, raw axios ${best(raw).toFixed(0)} ms (best of 2)`);
		report({ items: FOLLOWERS, timeRatio: Number((best(ours) / best(raw)).toFixed(2)) });
	} finally {
		await emulator.stop();
	}
});
