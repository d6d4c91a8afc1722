import axios from 'axios';

import { EngineHarness, type RunNodeOptions } from '../../test/harness/engine';
import { engineServicesReady } from '../../test/harness/services';
import { DEFAULT_MAX_IN_FLIGHT } from '../../nodes/WeChatCustomerService/transport/requestPolicy';
import { type EmulatorProcess, startEmulator } from '../n8n/lib/emulator';
import { detail, report, runScenario, timed } from './scenario';

/**
 * bulk-send: Message → Send of a text to 10,000 followers through n8n's engine, against axios (the HTTP library
 * under n8n's request helpers) sending the same 10,000 requests with the same number in flight as the node: its
 * default Max Requests in Flight (20 per credential), so both sides press WeChat equally hard. Also the most TCP
 * connections the emulator had open at once during the node's rounds (peak-sockets; goal ≤ the bound of 20) and the
 * peak resident memory of this process (peak-mb: n8n's engine, 10,000 items in and out, the baseline).
 *
 * bulk-send-faults: the same 10,000 sends once more, the emulator answering 45011 on every 20th send (5%) and -1 on
 * every 100th (1%; half of those after delivering the message, as WeChat may). The node retries 45011 and, by
 * default, not a send answered -1; with On Error → Continue (regular output) each failed item says so in its place.
 * `delivered`: followers who got the message (the emulator's record), `duplicates`: messages beyond one per
 * follower; `failed`: items the node reported failed, and how many of those WeChat had delivered anyway.
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

interface EmulatorStats {
	peakInFlight: number;
	peakConnections: number;
	connectionsAccepted: number;
	connectionsOpenAtReset: number;
}

/** The most connections open at once besides those open at the reset (the bench's own admin connection). */
const peakOf = (stats: EmulatorStats) => stats.peakConnections - stats.connectionsOpenAtReset;

interface SentRecord {
	touser: string;
}

/**
 * bulk-send-faults (see above). Every follower is sent one message afresh; the messages of the earlier rounds are left
 * out by reading the emulator's record of sent messages from where it stood before this run.
 */
async function faultRun(
	emulator: EmulatorProcess,
	harness: EngineHarness,
	parameters: RunNodeOptions['parameters'],
	items: RunNodeOptions['items'],
	openids: string[],
): Promise<Record<string, number>> {
	const sentBefore = (await emulator.admin<{ sentMessages: SentRecord[] }>('state')).sentMessages.length;
	await emulator.admin('clear-log', {});
	// Offsets keep the faults on different sends: 45011 on sends 11, 31, 51, …; -1 on sends 1, 101, 201, … of which
	// every other one (101, 301, …) was delivered before the answer.
	await emulator.admin('fault', { path: SEND, kind: 'errcode', errcode: 45011, every: 20, offset: 10 });
	await emulator.admin('fault', { path: SEND, kind: 'errcode', errcode: -1, every: 200 });
	await emulator.admin('fault', { path: SEND, kind: 'errcode', errcode: -1, every: 200, offset: 100, processed: true });
	const run = await timed(async () => await harness.runNode({ parameters, items, continueOnFail: true }));
	await emulator.admin('clear-faults', {});
	if (run.value.error) throw new Error(run.value.error.message);
	const output = run.value.items;
	if (output.length !== openids.length) throw new Error(`${output.length} items out of ${openids.length}`);

	const sent = (await emulator.admin<{ sentMessages: SentRecord[] }>('state')).sentMessages.slice(sentBefore);
	const perFollower = new Map<string, number>();
	for (const message of sent) perFollower.set(message.touser, (perFollower.get(message.touser) ?? 0) + 1);
	const delivered = perFollower.size;
	const duplicates = sent.length - delivered;
	// Output item n belongs to input item n (n8n pairs them; Continue (regular output) keeps the order).
	const failedOpenids = output.flatMap((item, index) => (item.json.sent === true ? [] : [openids[index]]));
	const failedButDelivered = failedOpenids.filter((openid) => perFollower.has(openid)).length;
	const sentButMissing = output.filter((item, index) => item.json.sent === true && !perFollower.has(openids[index]));
	if (sentButMissing.length > 0) throw new Error(`${sentButMissing.length} items say sent, WeChat has no message`);

	const { requests } = await emulator.admin<{ requests: Array<{ response: { body: { errcode?: number } } }> }>(
		`log?path=${SEND}`,
	);
	const answered = (errcode: number) => requests.filter((r) => r.response.body?.errcode === errcode).length;
	detail(
		`bulk-send-faults: ${requests.length} sends for ${openids.length} items in ${(run.ms / 1000).toFixed(1)} s (45011 answered ${answered(45011)} times, all retried; -1 answered ${answered(-1)} times, not retried); ${failedOpenids.length} items failed, of which WeChat had delivered ${failedButDelivered}; resending exactly the failed items would give delivered=${delivered + failedOpenids.length - failedButDelivered} duplicates=${duplicates + failedButDelivered}`,
	);
	return { delivered, duplicates, failed: failedOpenids.length, failedButDelivered };
}

runScenario(async () => {
	await engineServicesReady();
	const emulator = await startEmulator();
	try {
		const openids = Array.from({ length: FOLLOWERS }, (_, index) => `o_bulk_${String(index).padStart(5, '0')}`);
		await emulator.admin('seed', { followers: openids });
		// Five sends to each follower in all (node and axios rounds, the fault run); WeChat allows five per window.
		await emulator.admin('settings', { sendQuotaPerWindow: 10 });
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
		// The emulator's counters over the node's rounds and over the baseline's, kept apart.
		let peakSockets = 0;
		let connections = 0;
		let axiosPeakSockets = 0;
		let axiosConnections = 0;
		for (let round = 0; round < 2; round++) {
			await emulator.admin('clear-log', {});
			await emulator.admin('reset-stats', {});
			const run = await timed(async () => await harness.runNode({ parameters, items }));
			const stats = await emulator.admin<EmulatorStats>('stats');
			peakSockets = Math.max(peakSockets, peakOf(stats));
			connections = Math.max(connections, stats.connectionsAccepted);
			if (run.value.error) throw new Error(run.value.error.message);
			const sent = run.value.items.filter((item) => item.json.sent === true).length;
			const { requests } = await emulator.admin<{ requests: unknown[] }>(`log?path=${SEND}`);
			if (sent !== FOLLOWERS || requests.length !== FOLLOWERS) {
				throw new Error(`sent ${sent} items, WeChat received ${requests.length}`);
			}
			ours.push(run.ms);
			await emulator.admin('reset-stats', {});

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
			const axiosStats = await emulator.admin<EmulatorStats>('stats');
			axiosPeakSockets = Math.max(axiosPeakSockets, peakOf(axiosStats));
			axiosConnections = Math.max(axiosConnections, axiosStats.connectionsAccepted);
		}
		const best = (values: number[]) => Math.min(...values);
		const peakMb = process.resourceUsage().maxRSS / 1024;
		detail(
			`bulk-send: ours ${best(ours).toFixed(0)} ms, raw axios ${best(raw).toFixed(0)} ms (best of 2); node rounds: ${peakSockets} connections open at most, ${connections} opened a round (a new one per request); axios: ${axiosPeakSockets} open at most, ${axiosConnections} opened a round; peak RSS ${peakMb.toFixed(0)} MB`,
		);

		const faults = await faultRun(emulator, harness, parameters, items, openids);
		report({
			items: FOLLOWERS,
			timeRatio: Number((best(ours) / best(raw)).toFixed(2)),
			peakSockets,
			peakMb: Math.round(peakMb),
			...faults,
		});
	} finally {
		await emulator.stop();
	}
});
