/**
 * The shipped examples (examples/*.json) as the scripts use them: configured for the emulator and a temp folder, a
 * headless copy of a trigger-started example for `n8n execute`, pushes as WeChat sends them, and a wait for the
 * executions a push started. Shared by e2e.ts and demo.ts so that both exercise the files users import.
 */
import path from 'node:path';

import { type BuiltPush, deliverPush, type Delivery, type PushOptions } from '../../test/emulator/pushSender';
import {
	CREDENTIAL_TYPE,
	ENCODING_AES_KEY,
	findNode,
	type ExecutionOutput,
	type N8nInstance,
	PUSH_TOKEN,
	readExample,
	setAssignment,
	sleep,
	TRIGGER_TYPE,
	toExecutionOutput,
	type WorkflowJson,
} from './runN8n';

export const EXAMPLE_NAMES = ['escalation', 'nightly-export', 'waiting-queue-alert', 'welcome'] as const;
export type ExampleName = (typeof EXAMPLE_NAMES)[number];

export const TRIGGER_NODE = 'WeChat Customer Service Trigger';

export interface ExampleSettings {
	credential: { id: string; name: string };
	/** Folder the nightly export writes into (must be inside N8N_RESTRICT_FILE_ACCESS_TO). */
	exportFolder: string;
	/** The group-bot webhook the queue alert posts to. */
	botWebhookUrl: string;
	threshold?: number;
	/** Where the welcome downloads its image. */
	welcomeImageUrl: string;
}

/** Reads every example and points its settings (Set nodes) and credential at this run's emulator and folders. */
export async function configuredExamples(settings: ExampleSettings): Promise<Record<ExampleName, WorkflowJson>> {
	const result = {} as Record<ExampleName, WorkflowJson>;
	for (const name of EXAMPLE_NAMES) {
		const workflow = await readExample(name);
		for (const node of workflow.nodes) {
			const credentials = node.credentials as Record<string, unknown> | undefined;
			if (credentials?.[CREDENTIAL_TYPE]) credentials[CREDENTIAL_TYPE] = { ...settings.credential };
		}
		result[name] = workflow;
	}
	setAssignment(result['nightly-export'], 'Export Settings', 'folder', settings.exportFolder);
	setAssignment(result['waiting-queue-alert'], 'Alert Settings', 'botWebhookUrl', settings.botWebhookUrl);
	if (settings.threshold !== undefined) {
		setAssignment(result['waiting-queue-alert'], 'Alert Settings', 'threshold', settings.threshold);
	}
	setAssignment(result.welcome, 'Welcome Settings', 'imageUrl', settings.welcomeImageUrl);
	return result;
}

/**
 * A copy of a trigger-started workflow that `n8n execute` can run: the trigger is replaced by a Manual Trigger and a
 * Set node of the trigger's name that outputs `push` (the item the trigger would emit), so every expression that
 * reads `$('WeChat Customer Service Trigger')` still works. The shipped example stays untouched.
 */
export function headlessCopy(workflow: WorkflowJson, id: string, push: Record<string, unknown>): WorkflowJson {
	const copy = structuredClone(workflow);
	copy.id = id;
	copy.name = `${workflow.name} (headless test)`;
	const trigger = copy.nodes.find((node) => node.type === TRIGGER_TYPE);
	if (!trigger) throw new Error(`${workflow.name} has no WeChat trigger`);
	const position = (trigger.position as number[] | undefined) ?? [0, 0];
	copy.nodes = copy.nodes.filter((node) => node !== trigger);
	copy.nodes.push(
		{
			id: `${id}-manual`,
			name: 'Run Headless',
			type: 'n8n-nodes-base.manualTrigger',
			typeVersion: 1,
			position: [position[0] - 220, position[1]],
			parameters: {},
		},
		{
			id: `${id}-push`,
			name: trigger.name,
			type: 'n8n-nodes-base.set',
			typeVersion: 3.4,
			position,
			parameters: { mode: 'raw', jsonOutput: JSON.stringify(push), options: {} },
		},
	);
	copy.connections = {
		...copy.connections,
		'Run Headless': { main: [[{ node: trigger.name, type: 'main', index: 0 }]] },
	};
	return copy;
}

/** The production URL n8n serves for the workflow's WeChat trigger (POST pushes, GET handshake). */
export function triggerUrl(n8n: N8nInstance, workflow: WorkflowJson): string {
	const trigger = workflow.nodes.find((node) => node.type === TRIGGER_TYPE);
	if (!trigger?.webhookId) throw new Error(`${workflow.name} has no WeChat trigger with a webhookId`);
	return `${n8n.baseUrl}/webhook/${String(trigger.webhookId)}/webhook`;
}

export const OFFICIAL_ACCOUNT = 'gh_emulator_oa';

let msgIdCounter = 0n;
/** 64-bit MsgIds as WeChat sends them (beyond 2^53, so they must travel as strings). */
export function nextMsgId(): string {
	msgIdCounter += 1n;
	return (24967187623118848n + BigInt(Date.now()) * 1000n + msgIdCounter).toString();
}

export function textMessage(openid: string, content: string): Record<string, string | number> {
	return {
		ToUserName: OFFICIAL_ACCOUNT,
		FromUserName: openid,
		CreateTime: Math.floor(Date.now() / 1000),
		MsgType: 'text',
		Content: content,
		MsgId: nextMsgId(),
	};
}

export function subscribeEvent(openid: string): Record<string, string | number> {
	return {
		ToUserName: OFFICIAL_ACCOUNT,
		FromUserName: openid,
		CreateTime: Math.floor(Date.now() / 1000),
		MsgType: 'event',
		Event: 'subscribe',
		EventKey: '',
	};
}

/** Delivers a push the way WeChat does (signed; encrypted in safe mode), with the credential's token and key. */
export async function push(
	url: string,
	appId: string,
	message: Record<string, string | number>,
	options: Partial<Omit<PushOptions, 'message'>> & { forceDeliveries?: number } = {},
): Promise<{ built: BuiltPush; deliveries: Delivery[] }> {
	return await deliverPush(url, {
		mode: 'safe',
		format: 'xml',
		token: PUSH_TOKEN,
		encodingAESKey: ENCODING_AES_KEY,
		appId,
		timeoutMs: 10_000,
		...options,
		message,
	});
}

export interface ExecutionRow {
	id: string;
	workflowId: string;
	status: string;
	finished: number;
	mode: string;
}

/** Executions stored by n8n (both 1.x and 2.x keep them in execution_entity). */
export async function executions(n8n: N8nInstance, workflowId?: string): Promise<ExecutionRow[]> {
	const where = workflowId ? ` WHERE workflowId = '${workflowId.replace(/'/g, "''")}'` : '';
	return await n8n.query<ExecutionRow>(
		`SELECT CAST(id AS TEXT) AS id, workflowId, status, finished, mode FROM execution_entity${where} ORDER BY id`,
	);
}

/**
 * Waits until `count` executions of the workflow have ended (status other than new/running/waiting), bounded; then
 * returns all of them.
 */
export async function waitForExecutions(
	n8n: N8nInstance,
	workflowId: string,
	count: number,
	timeoutMs = 60_000,
): Promise<ExecutionRow[]> {
	const deadline = Date.now() + timeoutMs;
	let rows: ExecutionRow[] = [];
	while (Date.now() < deadline) {
		rows = await executions(n8n, workflowId);
		const ended = rows.filter((row) => !['new', 'running', 'waiting'].includes(row.status));
		if (ended.length >= count) return rows;
		await sleep(500);
	}
	throw new Error(
		`timed out after ${timeoutMs} ms waiting for ${count} finished execution(s) of ${workflowId}; have ${JSON.stringify(rows)} (log: ${n8n.logFile})`,
	);
}

/**
 * What an execution stored: n8n keeps the run data in execution_data, serialized with `flatted`; n8n's own copy of
 * flatted reads it back.
 */
export async function executionData(n8n: N8nInstance, executionId: string): Promise<ExecutionOutput> {
	const [row] = await n8n.query<{ data: string }>(
		`SELECT data FROM execution_data WHERE executionId = ${Number(executionId)}`,
	);
	if (!row) throw new Error(`execution ${executionId} has no stored data`);
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const flatted = require(path.join(n8n.install.dir, 'node_modules', 'flatted')) as { parse(text: string): unknown };
	return toExecutionOutput({ data: flatted.parse(row.data) as Record<string, unknown> });
}

/** The folder of a file path inside the instance's allowed files folder. */
export function filesPath(n8n: N8nInstance, ...parts: string[]): string {
	return path.join(n8n.filesDir, ...parts);
}

export { findNode };
