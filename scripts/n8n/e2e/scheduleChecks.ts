/**
 * Chat Record → Get Many "Since Last Run" under real production conditions: a workflow started by n8n's Schedule
 * Trigger in an active workflow behind `n8n start` (mode "trigger", not manual), its cursor saved by n8n in the
 * workflow's static data, n8n stopped and started again, and the next scheduled run continuing exactly there.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after } from 'node:test';

import { CREDENTIAL_ID, CREDENTIAL_NAME } from '../lib/fixtures';
import type { WorkflowJson } from '../lib/n8nInstance';
import { CREDENTIAL_TYPE, NODE_TYPE } from '../lib/packageUnderTest';
import { sleep } from '../lib/waits';
import { type E2eRun, succeeded } from './e2eRun';
import { F } from './testData';

// n8n saves static data only for workflow ids of at most 16 characters in 1.x, 21 in 2.x (`isWorkflowIdValid`).
const WORKFLOW_ID = 'e2eSinceLastRun';
const NODE_NAME = 'New Chat Records';
/** Seconds between scheduled runs: long enough that stopping n8n right after one run does not race the next. */
const EVERY_SECONDS = 20;

function scheduledExport(firstRunStart: string): WorkflowJson {
	return {
		id: WORKFLOW_ID,
		name: 'e2e: chat records since the last run, every 20 seconds',
		active: false,
		settings: { executionOrder: 'v1', timezone: 'Asia/Shanghai' },
		connections: { Schedule: { main: [[{ node: NODE_NAME, type: 'main', index: 0 }]] } },
		nodes: [
			{
				id: randomUUID(),
				name: 'Schedule',
				type: 'n8n-nodes-base.scheduleTrigger',
				typeVersion: 1.2,
				position: [0, 0],
				parameters: { rule: { interval: [{ field: 'seconds', secondsInterval: EVERY_SECONDS }] } },
			},
			{
				id: randomUUID(),
				name: NODE_NAME,
				type: NODE_TYPE,
				typeVersion: 1,
				position: [240, 0],
				parameters: {
					resource: 'chatRecord',
					operation: 'getAll',
					rangeType: 'sinceLastRun',
					firstRunStart,
					// No lag: the check writes its records before the runs, not while WeChat might still be storing them.
					sinceLastRunOptions: { lagMinutes: 0 },
				},
				credentials: { [CREDENTIAL_TYPE]: { id: CREDENTIAL_ID, name: CREDENTIAL_NAME } },
			},
		],
	};
}

interface SeedRecord {
	openid: string;
	opercode: number;
	text: string;
	time: number;
	worker: string;
}

function records(prefix: string, times: number[]): SeedRecord[] {
	return times.map((time, i) => ({ openid: F[i % F.length], opercode: 2003, text: `${prefix} ${i}`, time, worker: 'alice@emulator_oa' }));
}

export function scheduleChecks(e2e: E2eRun): void {
	after(async () => {
		// Whatever happened, the schedule must not keep firing under the later suites' `n8n start`.
		await e2e.n8n?.stop();
		await e2e.n8n?.unpublish(WORKFLOW_ID).catch(() => undefined);
	});

	e2e.check(
		'Chat Record since last run: a scheduled production run saves its cursor; after an n8n restart the next run continues there — every record once',
		async () => {
			const { internals } = e2e.n8n;
			// The account's seeded records end on the first second of the run's Beijing day (testData.ts, accountSeed).
			// The first range starts an hour back, or after them when that is later: in the first hour of a Beijing day
			// an hour back would reach into them (this check failed so at 00:27 Beijing time). In the first minute
			// after them, wait a minute, so the range has room for the records below.
			const earliest = e2e.days.todayStart + 1;
			if (Date.now() < (earliest + 60) * 1000) await sleep((earliest + 60) * 1000 - Date.now());
			const now = Math.floor(Date.now() / 1000);
			const firstRunStart = Math.max(now - 3600, earliest);
			const middle = Math.floor((firstRunStart + now) / 2);
			// Before First Run Start (must stay out), inside the first range, exactly on First Run Start.
			const before = records('slr before', [firstRunStart - 1]);
			const first = records('slr first', [firstRunStart, firstRunStart + 1, middle, middle, now - 2]);
			await e2e.wechat.admin('seed', { records: [...before, ...first] });
			await e2e.n8n.importWorkflows([scheduledExport(new Date(firstRunStart * 1000).toISOString())]);
			await e2e.n8n.publish(WORKFLOW_ID);

			// n8n up until one scheduled run has finished, then down.
			await e2e.n8n.start();
			await internals.waitForExecutions(WORKFLOW_ID, 1, (EVERY_SECONDS + 60) * 1000);
			await e2e.n8n.stop();
			const runsBefore = (await internals.executions(WORKFLOW_ID)).filter((row) => row.status !== 'new');
			const outputsBefore = await Promise.all(runsBefore.map(async (row) => await internals.executionData(row.id)));
			for (const [index, output] of outputsBefore.entries()) {
				succeeded(output, `scheduled run ${index + 1}`);
				assert.equal(runsBefore[index].mode, 'trigger', 'a production (schedule) run, not a manual one');
			}
			const exportedBefore = outputsBefore.flatMap((output) => output.items(NODE_NAME));
			assert.deepEqual(
				exportedBefore.map((item) => item.text).sort(),
				first.map((record) => record.text).sort(),
			);
			const firstRange = exportedBefore[0].exportRange as Record<string, unknown>;
			assert.equal(firstRange.start, new Date(firstRunStart * 1000).toISOString());
			assert.equal(firstRange.startedFrom, 'firstRunStart');
			assert.equal(firstRange.cursorMoved, true);

			// The cursor as n8n stored it in its database.
			const stored = (await internals.staticData(WORKFLOW_ID)).value;
			const cursor = (stored[`node:${NODE_NAME}`] as { chatRecordCursor?: { exportedUntil: number } } | undefined)
				?.chatRecordCursor;
			assert.ok(cursor, `no cursor in the workflow's static data: ${JSON.stringify(stored)}`);
			assert.ok(cursor.exportedUntil > now - 2 && cursor.exportedUntil <= Math.ceil(Date.now() / 1000));

			// While n8n is down: a record exactly on the cursor's second and two after it.
			const second = records('slr second', [cursor.exportedUntil, cursor.exportedUntil, cursor.exportedUntil + 1]);
			await e2e.wechat.admin('seed', { records: second });
			await sleep(Math.max(0, (cursor.exportedUntil + 3) * 1000 - Date.now()));

			// n8n up again until the next scheduled run has finished.
			await e2e.n8n.start();
			await internals.waitForExecutions(WORKFLOW_ID, runsBefore.length + 1, (EVERY_SECONDS + 60) * 1000);
			await e2e.n8n.stop();
			const runsAfter = (await internals.executions(WORKFLOW_ID)).filter((row) => row.status !== 'new').slice(runsBefore.length);
			const outputsAfter = await Promise.all(runsAfter.map(async (row) => await internals.executionData(row.id)));
			for (const [index, output] of outputsAfter.entries()) {
				succeeded(output, `scheduled run ${runsBefore.length + index + 1} (after the restart)`);
				assert.equal(runsAfter[index].mode, 'trigger');
			}
			const exportedAfter = outputsAfter.flatMap((output) => output.items(NODE_NAME));
			assert.deepEqual(
				exportedAfter.map((item) => item.text).sort(),
				second.map((record) => record.text).sort(),
				'after the restart: exactly the new records, none of the first run again',
			);
			const afterRange = exportedAfter[0].exportRange as Record<string, unknown>;
			assert.equal(afterRange.start, new Date(cursor.exportedUntil * 1000).toISOString());
			assert.equal(afterRange.startedFrom, 'previousRun');
		},
	);
}
