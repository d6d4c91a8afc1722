import axios from 'axios';

import { EngineHarness } from '../../test/harness/engine';
import { engineServicesReady } from '../../test/harness/services';
import { type EmulatorProcess, startEmulator } from '../n8n/lib/emulator';
import { detail, report, runScenario, timed } from './scenario';

/**
 * chat-export: ChatRecord → Get Many over 7 days holding 100,000 records spread unevenly, through n8n's engine,
 * against a raw HTTP loop that pages the same emulator directly (the least any client must do). WeChat allows
 * 10,000 records a call and 24 hours a window, so the fewest calls possible are Σ over the days of ⌊n/10000⌋ + 1.
 * The raw loop uses axios, the HTTP library under n8n's own request helpers, so the ratio measures what the node and
 * the engine add, not a difference between HTTP clients.
 */
const DAY = 86400;
const RECORDS = 100_000;
const PAGE = 10_000;
// Uneven on purpose: a quiet day, a day of exactly 20,000 (a full last page), busy days.
const WEIGHTS = [3, 20, 0.4, 31, 12, 20, 13.6];

async function rawExport(emulator: EmulatorProcess, start: number): Promise<{ records: number; calls: number }> {
	const { data: tokenAnswer } = await axios.post<{ access_token: string }>(
		`${emulator.baseUrl}/cgi-bin/stable_token`,
		{ grant_type: 'client_credential', appid: emulator.appId, secret: emulator.appSecret },
	);
	const token = tokenAnswer.access_token;
	let records = 0;
	let calls = 0;
	for (let day = 0; day < WEIGHTS.length; day++) {
		const starttime = start + day * DAY;
		let msgid = 1;
		for (;;) {
			const { data: page } = await axios.post<{ recordlist: unknown[]; number: number; msgid: number }>(
				`${emulator.baseUrl}/customservice/msgrecord/getmsglist`,
				{ starttime, endtime: starttime + DAY - 1, msgid, number: PAGE },
				{ params: { access_token: token } },
			);
			calls++;
			records += page.recordlist.length;
			if (page.recordlist.length < PAGE) break;
			msgid = page.msgid;
		}
	}
	return { records, calls };
}

runScenario(async () => {
	await engineServicesReady();
	const emulator = await startEmulator();
	try {
		const start = Math.floor(Date.now() / 1000 / DAY) * DAY - 8 * DAY;
		const total = WEIGHTS.reduce((sum, weight) => sum + weight, 0);
		const { perDay } = await emulator.admin<{ perDay: number[] }>('seed', {
			chatRecords: {
				start,
				end: start + WEIGHTS.length * DAY - 1,
				count: RECORDS,
				distribution: WEIGHTS.map((weight) => weight / total),
			},
		});
		const minimal = perDay.reduce((sum, records) => sum + Math.floor(records / PAGE) + 1, 0);
		detail(`chat-export: records per day ${perDay.join(', ')}; minimal calls ${minimal}`);

		const harness = new EngineHarness({
			appId: emulator.appId,
			appSecret: emulator.appSecret,
			baseUrl: emulator.baseUrl,
		});
		const parameters = {
			resource: 'chatRecord',
			operation: 'getAll',
			startTime: new Date(start * 1000).toISOString(),
			endTime: new Date((start + WEIGHTS.length * DAY) * 1000).toISOString(),
			returnAll: true,
		};
		const rssBefore = process.memoryUsage().rss;

		const ours: number[] = [];
		const raw: number[] = [];
		let exported = 0;
		let calls = 0;
		for (let round = 0; round < 3; round++) {
			await emulator.admin('clear-log', {});
			const run = await timed(async () => await harness.runNode({ parameters }));
			if (run.value.error) throw new Error(run.value.error.message);
			exported = run.value.items.length;
			const { requests } = await emulator.admin<{ requests: unknown[] }>(
				'log?path=/customservice/msgrecord/getmsglist',
			);
			calls = requests.length;
			ours.push(run.ms);
			const baseline = await timed(async () => await rawExport(emulator, start));
			if (baseline.value.records !== RECORDS) throw new Error(`raw loop saw ${baseline.value.records}`);
			raw.push(baseline.ms);
		}
		const best = (values: number[]) => Math.min(...values);
		const peakMb = process.resourceUsage().maxRSS / 1024;
		detail(
			`chat-export: ours ${best(ours).toFixed(0)} ms, raw loop ${best(raw).toFixed(0)} ms (best of 3); RSS before ${(rssBefore / 1048576).toFixed(0)} MB, peak ${peakMb.toFixed(0)} MB`,
		);
		report({
			records: exported,
			calls,
			minimal,
			timeRatio: Number((best(ours) / best(raw)).toFixed(2)),
			peakMb: Math.round(peakMb),
		});
	} finally {
		await emulator.stop();
	}
});
