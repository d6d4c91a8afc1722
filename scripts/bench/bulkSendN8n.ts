import { randomUUID } from 'node:crypto';
import path from 'node:path';

import { CREDENTIAL_ID, CREDENTIAL_NAME, emulatorCredential } from '../n8n/lib/fixtures';
import { startEmulator } from '../n8n/lib/emulator';
import { ensureN8n, n8nVersionFrom } from '../n8n/lib/n8nInstall';
import { N8nInstance, type WorkflowJson } from '../n8n/lib/n8nInstance';
import { buildAndPack, CREDENTIAL_TYPE, NODE_TYPE } from '../n8n/lib/packageUnderTest';
import { shutdown } from '../n8n/lib/processes';
import { detail, report, runScenario } from './scenario';

/**
 * bulk-send-n8n: Message → Send of a text to thousands of followers through this package's node inside the real n8n
 * (`n8n execute`, sqlite, the offline loopback set-up of scripts/n8n/lib/n8nInstance.ts, the package built, packed and
 * installed as n8n's community-package installer does), against n8n's own HTTP Request node doing the same POSTs to
 * the emulator's /cgi-bin/message/custom/send — same n8n, same emulator, same execution.
 *
 * One workflow: Manual Trigger → Set (the list of OpenIDs) → Split Out (one item per follower) → one branch per
 * measured node, all fed the same items. n8n (execution order v1) runs the branches one after the other, top to
 * bottom, so the rounds alternate: the sides below (`Side`) in order, then in reverse order, and so on. The HTTP
 * Request node is type version 4.5 (what a node added today gets), its body `{"touser":"{{ $json.openid }}", …}`.
 * Each node's time is n8n's own `executionTime` of that node in the run data; the best round of each side counts. Every node's every item must have succeeded (ours: `sent: true`; HTTP: errcode 0) and the emulator must have
 * received exactly one message per follower per node, or the scenario fails.
 *
 * BULK_N8N_ITEMS (default 2,000) and BULK_N8N_ROUNDS (default 2) change the sizes; BULK_N8N_PROFILE_DIR=<dir> runs
 * `n8n execute` with --cpu-prof into that folder; BULK_N8N_SIDES=expression,http measures only those;
 * BULK_N8N_MAX_IN_FLIGHT sets our node's Max Requests in Flight.
 */
const ITEMS = Number(process.env.BULK_N8N_ITEMS ?? 2_000);
const ROUNDS = Number(process.env.BULK_N8N_ROUNDS ?? 2);
const SEND = '/cgi-bin/message/custom/send';
/** BULK_N8N_MAX_IN_FLIGHT=<n>: our node's Max Requests in Flight instead of the default (20), to see what it costs. */
const MAX_IN_FLIGHT = Number(process.env.BULK_N8N_MAX_IN_FLIGHT ?? 0);
const CONTENT = '您好，您的工单已处理完毕。Your ticket has been resolved.';
const WATCHDOG_MS = 25 * 60_000;

/**
 * The sides: this node with the OpenID mapped as `{{ $json.openid }}`, the same with Options → Same Credential for
 * Every Item (`expressionShared`), with Input Item Field, and the fastest a user can choose (Input Item Field and Same
 * Credential for Every Item); the HTTP Request node with the token pasted into its query (the baseline), and
 * the HTTP Request node authenticating with this package's credential (`httpCredential`, Authentication = Predefined
 * Credential Type: n8n reads the credential for every item and our `authenticate` adds the token, as for our node).
 */
type Side = 'expression' | 'expressionShared' | 'field' | 'fastest' | 'http' | 'httpCredential';
const ALL_SIDES: Side[] = ['expression', 'expressionShared', 'field', 'fastest', 'http', 'httpCredential'];
/** BULK_N8N_SIDES=field (a comma list) measures only those, e.g. to profile one side alone. */
const SIDES = (process.env.BULK_N8N_SIDES?.split(',') ?? ALL_SIDES) as Side[];

interface Branch {
	side: Side;
	round: number;
	name: string;
}

function measuredNode(branch: Branch, emulatorUrl: string, accessToken: string, y: number): WorkflowJson['nodes'][number] {
	const common = { id: randomUUID(), name: branch.name, position: [660, y] as [number, number] };
	const credentials = { [CREDENTIAL_TYPE]: { id: CREDENTIAL_ID, name: CREDENTIAL_NAME } };
	if (branch.side === 'http' || branch.side === 'httpCredential') {
		return {
			...common,
			type: 'n8n-nodes-base.httpRequest',
			typeVersion: 4.5,
			parameters: {
				method: 'POST',
				url: `${emulatorUrl}${SEND}`,
				...(branch.side === 'http'
					? { sendQuery: true, queryParameters: { parameters: [{ name: 'access_token', value: accessToken }] } }
					: { authentication: 'predefinedCredentialType', nodeCredentialType: CREDENTIAL_TYPE }),
				sendBody: true,
				specifyBody: 'json',
				jsonBody: `={"touser":"{{ $json.openid }}","msgtype":"text","text":{"content":"${CONTENT}"}}`,
				options: {},
			},
			...(branch.side === 'httpCredential' ? { credentials } : {}),
		};
	}
	return {
		...common,
		type: NODE_TYPE,
		typeVersion: 1,
		parameters: {
			resource: 'message',
			operation: 'send',
			...(branch.side === 'expression' || branch.side === 'expressionShared'
				? { openId: '={{ $json.openid }}' }
				: { openIdSource: 'inputField', openIdInputField: 'openid' }),
			msgType: 'text',
			content: CONTENT,
			requestOptions: {
				...(MAX_IN_FLIGHT ? { maxInFlight: MAX_IN_FLIGHT } : {}),
				...(branch.side === 'fastest' || branch.side === 'expressionShared'
					? { sameCredentialForEveryItem: true }
					: {}),
			},
		},
		credentials,
	};
}

function benchWorkflow(openids: string[], branches: Branch[], emulatorUrl: string, accessToken: string): WorkflowJson {
	const nodes: WorkflowJson['nodes'] = [
		{
			id: randomUUID(),
			name: 'Start',
			type: 'n8n-nodes-base.manualTrigger',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		},
		{
			id: randomUUID(),
			name: 'Followers',
			type: 'n8n-nodes-base.set',
			typeVersion: 3.4,
			position: [220, 0],
			parameters: { mode: 'raw', jsonOutput: JSON.stringify({ openids }), options: {} },
		},
		{
			id: randomUUID(),
			name: 'One Item Each',
			type: 'n8n-nodes-base.splitOut',
			typeVersion: 1,
			position: [440, 0],
			parameters: { fieldToSplitOut: 'openids', options: { destinationFieldName: 'openid' } },
		},
	];
	// v1 execution order runs the children of one output top to bottom: the branch order is the canvas order.
	branches.forEach((branch, index) => nodes.push(measuredNode(branch, emulatorUrl, accessToken, index * 200)));
	return {
		id: 'benchBulkSendN8n',
		name: 'bench: bulk send, this node vs HTTP Request',
		nodes,
		connections: {
			Start: { main: [[{ node: 'Followers', type: 'main', index: 0 }]] },
			Followers: { main: [[{ node: 'One Item Each', type: 'main', index: 0 }]] },
			'One Item Each': {
				main: [branches.map((branch) => ({ node: branch.name, type: 'main', index: 0 }))],
			},
		},
		settings: { executionOrder: 'v1' },
	};
}

/** Rounds alternate: the sides in order, then in reverse order, … */
function branchOrder(): Branch[] {
	const branches: Branch[] = [];
	for (let round = 1; round <= ROUNDS; round++) {
		const order = round % 2 === 1 ? SIDES : [...SIDES].reverse();
		for (const side of order) branches.push({ side, round, name: `${side} ${round}` });
	}
	return branches;
}

async function main(): Promise<void> {
	const watchdog = setTimeout(() => {
		process.stderr.write(`bulk-send-n8n: exceeded ${WATCHDOG_MS / 60_000} minutes, stopping\n`);
		void shutdown().finally(() => process.exit(1));
	}, WATCHDOG_MS);
	watchdog.unref();

	const install = await ensureN8n(n8nVersionFrom([]), undefined, detail);
	const profileDir = process.env.BULK_N8N_PROFILE_DIR;
	const n8n = await N8nInstance.create({
		install,
		env: profileDir
			? {
					NODE_OPTIONS: `--require ${path.join(__dirname, '..', 'n8n', 'netGuard.cjs')} --cpu-prof --cpu-prof-dir=${path.resolve(profileDir)}`,
				}
			: {},
	});
	const emulator = await startEmulator({ log: n8n.log });
	try {
		await run(n8n, emulator);
	} catch (error) {
		n8n.preserve();
		process.stderr.write(`bulk-send-n8n: n8n log kept at ${n8n.logFile}\n`);
		throw error;
	} finally {
		await emulator.stop();
	}
}

async function run(n8n: N8nInstance, emulator: Awaited<ReturnType<typeof startEmulator>>): Promise<void> {
	const openids = Array.from({ length: ITEMS }, (_, index) => `oBulkN8n${String(index).padStart(20, '0')}`);
	const branches = branchOrder();
	await emulator.admin('seed', { followers: openids });
	// Every follower gets one message per branch; WeChat's per-window quota (5) is raised to allow them.
	await emulator.admin('settings', { sendQuotaPerWindow: branches.length + 1 });
	// The HTTP Request node sends the access token a user would have pasted or fetched before; our node fetches its
	// own through the credential (stable token: both see the same token).
	const tokenAnswer = (await (
		await fetch(`${emulator.baseUrl}/cgi-bin/stable_token`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ grant_type: 'client_credential', appid: emulator.appId, secret: emulator.appSecret }),
		})
	).json()) as { access_token?: string };
	if (!tokenAnswer.access_token) throw new Error(`no access token from the emulator: ${JSON.stringify(tokenAnswer)}`);

	const tarball = await buildAndPack(path.join(n8n.root, 'pack'), n8n.log);
	await n8n.installPackage(tarball);
	await n8n.importCredentials([emulatorCredential(emulator)]);
	const workflow = benchWorkflow(openids, branches, emulator.baseUrl, tokenAnswer.access_token);
	await n8n.importWorkflows([workflow]);
	await emulator.admin('clear-log', {});

	const output = await n8n.execute(workflow.id, WATCHDOG_MS - 5 * 60_000);
	if (output.error) throw new Error(`the bench workflow failed: ${output.error.message} (${output.error.node})`);

	// Every item of every branch succeeded, and WeChat got exactly one message per follower per branch.
	for (const branch of branches) {
		const items = output.items(branch.name);
		const isHttp = branch.side === 'http' || branch.side === 'httpCredential';
		const ok = items.filter((json) => (isHttp ? json.errcode === 0 : json.sent === true)).length;
		if (items.length !== ITEMS || ok !== ITEMS) {
			throw new Error(`${branch.name}: ${ok} of ${items.length} items succeeded, ${ITEMS} expected`);
		}
	}
	const { requests } = await emulator.admin<{ requests: Array<{ json?: { touser?: string } }> }>(`log?path=${SEND}`);
	const perFollower = new Map<string, number>();
	for (const request of requests) {
		const touser = request.json?.touser ?? '';
		perFollower.set(touser, (perFollower.get(touser) ?? 0) + 1);
	}
	const wrong = openids.filter((openid) => perFollower.get(openid) !== branches.length);
	if (requests.length !== ITEMS * branches.length || wrong.length > 0) {
		throw new Error(`WeChat received ${requests.length} sends; ${wrong.length} followers not exactly ${branches.length}`);
	}

	const runData = (output.raw.data as { resultData: { runData: Record<string, Array<{ executionTime: number }>> } })
		.resultData.runData;
	const times = Object.fromEntries(ALL_SIDES.map((side) => [side, [] as number[]])) as Record<Side, number[]>;
	for (const branch of branches) {
		const ms = runData[branch.name][0].executionTime;
		times[branch.side].push(ms);
		detail(`bulk-send-n8n: ${branch.name.padEnd(13)} ${ITEMS} sends in ${(ms / 1000).toFixed(2)} s`);
	}
	const best = (side: Side) => (times[side].length > 0 ? Math.min(...times[side]) : Number.NaN);
	const seconds = (side: Side) => `${(best(side) / 1000).toFixed(2)} s`;
	detail(
		`bulk-send-n8n: n8n ${n8n.install.version}, best of ${ROUNDS}: this node ${seconds('expression')} with {{ $json.openid }} (${seconds('expressionShared')} with Same Credential for Every Item), ${seconds('field')} with Input Item Field, ${seconds('fastest')} with Input Item Field and Same Credential for Every Item; HTTP Request node ${seconds('http')} with a pasted token, ${seconds('httpCredential')} with this package's credential`,
	);
	detail(
		`bulk-send-n8n: {{ $json.openid }} with Same Credential for Every Item against the HTTP Request node: ${(best('expressionShared') / best('http')).toFixed(2)}`,
	);
	for (const warning of n8n.warnings) detail(`bulk-send-n8n: ${warning}`);
	report({
		items: ITEMS,
		ratio: Number((best('expression') / best('http')).toFixed(2)),
		ratioField: Number((best('field') / best('http')).toFixed(2)),
		ratioFastest: Number((best('fastest') / best('http')).toFixed(2)),
		ratioWithCredential: Number((best('expression') / best('httpCredential')).toFixed(2)),
	});
}

runScenario(main, () => process.stderr.write('\nbulk-send-n8n interrupted: stopping n8n\n'));
