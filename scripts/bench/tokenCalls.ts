import type { INode } from 'n8n-workflow';

import { EngineHarness, NODE_TYPE } from '../../test/harness/engine';
import { engineServicesReady } from '../../test/harness/services';
import { startEmulator } from '../n8n/lib/emulator';
import { detail, report, runScenario, timed } from './scenario';

/**
 * token-calls: 1,000 WeChat operations as 20 concurrent executions of 10 items each, through a workflow of five
 * WeChat nodes, starting with no token anywhere. Every call WeChat does not need to see is quota another system of
 * the company cannot use, and each classic token request logs the others out.
 */
const EXECUTIONS = 20;
const ITEMS_PER_EXECUTION = 10;
const NODES_PER_WORKFLOW = 5;

runScenario(async () => {
	await engineServicesReady();
	const emulator = await startEmulator();
	try {
		const openids = Array.from({ length: ITEMS_PER_EXECUTION }, (_, index) => `o_bench_user_${index}`);
		await emulator.admin('seed', { followers: openids });
		const harness = new EngineHarness({
			appId: emulator.appId,
			appSecret: emulator.appSecret,
			baseUrl: emulator.baseUrl,
		});
		const chain: INode[] = Array.from({ length: NODES_PER_WORKFLOW }, (_, index) => ({
			id: `session-get-${index}`,
			name: `Get Session ${index + 1}`,
			type: NODE_TYPE,
			typeVersion: 1,
			position: [200 * (index + 1), 0],
			parameters: {
				resource: 'session',
				operation: 'get',
				openId: "={{ $('Items').item.json.openid }}",
			},
			credentials: { weChatOfficialAccountApi: { id: 'wechat-credential-1', name: 'WeChat' } },
		}));
		const items = openids.map((openid) => ({ json: { openid } }));

		const { ms, value: runs } = await timed(async () =>
			await Promise.all(
				Array.from({ length: EXECUTIONS }, async () => await harness.runWorkflow(chain, items)),
			),
		);

		const failed = runs.filter((run) => run.data.resultData.error).length;
		if (failed) throw new Error(`${failed} executions failed: ${runs.find((r) => r.data.resultData.error)?.data.resultData.error?.message}`);
		const { requests: tokenRequests } = await emulator.admin<{ requests: unknown[] }>('log?kind=token');
		const { requests: apiRequests } = await emulator.admin<{ requests: unknown[] }>('log?kind=api');
		detail(
			`token-calls: ${EXECUTIONS} executions × ${ITEMS_PER_EXECUTION} items × ${NODES_PER_WORKFLOW} nodes = ${apiRequests.length} operations in ${ms.toFixed(0)} ms`,
		);
		report({ tokenCalls: tokenRequests.length, operations: apiRequests.length });
	} finally {
		await emulator.stop();
	}
});
