/**
 * What the scripts import into n8n: the credential pointing at the emulator, and the shipped examples
 * (examples/*.json) configured for this run's emulator and folders — the files users import, so that the e2e tests
 * and the demo exercise exactly them.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

import type { CredentialInput, N8nInstance, WorkflowJson } from './n8nInstance';
import { CREDENTIAL_TYPE, ROOT, TRIGGER_TYPE } from './packageUnderTest';

/** The push settings the scripts share with the emulator's push sender. */
export const PUSH_TOKEN = 'n8nWeChatDemoToken';
/** 43 characters of [A-Za-z0-9], as WeChat generates an EncodingAESKey. */
export const ENCODING_AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
/** The id and name the examples reference; stable so that workflows imported later find it. */
export const CREDENTIAL_ID = 'wechatEmulatorCred';
export const CREDENTIAL_NAME = 'WeChat Official Account (emulator)';

export function emulatorCredential(emulator: { baseUrl: string; appId: string; appSecret: string }): CredentialInput {
	return {
		id: CREDENTIAL_ID,
		name: CREDENTIAL_NAME,
		type: CREDENTIAL_TYPE,
		data: {
			appId: emulator.appId,
			appSecret: emulator.appSecret,
			issuer: 'stable',
			baseUrl: emulator.baseUrl,
			token: PUSH_TOKEN,
			encodingAESKey: ENCODING_AES_KEY,
		},
	};
}

/** A tiny JPEG (start and end markers around a JFIF header): WeChat, and the emulator, judge uploads by type and size. */
export const SAMPLE_JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');

export const EXAMPLE_NAMES = [
	'archive-user-media',
	'escalation',
	'escalation-by-workflow',
	'nightly-export',
	'waiting-queue-alert',
	'welcome',
] as const;
export type ExampleName = (typeof EXAMPLE_NAMES)[number];

/** The name of the WeChat trigger node in the trigger-started examples. */
export const TRIGGER_NODE = 'WeChat Customer Service Trigger';

export interface ExampleSettings {
	credential: { id: string; name: string };
	/** Folder the nightly export and the media archive write into (must be inside N8N_RESTRICT_FILE_ACCESS_TO). */
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
		const file = path.join(ROOT, 'examples', `${name}.json`);
		const workflow = JSON.parse(await fs.readFile(file, 'utf8')) as WorkflowJson;
		for (const node of workflow.nodes) {
			const credentials = node.credentials as Record<string, unknown> | undefined;
			if (credentials?.[CREDENTIAL_TYPE]) credentials[CREDENTIAL_TYPE] = { ...settings.credential };
		}
		result[name] = workflow;
	}
	setAssignment(result['nightly-export'], 'Export Settings', 'folder', settings.exportFolder);
	setAssignment(result['archive-user-media'], 'Archive Settings', 'folder', settings.exportFolder);
	setAssignment(result['waiting-queue-alert'], 'Alert Settings', 'botWebhookUrl', settings.botWebhookUrl);
	if (settings.threshold !== undefined) {
		setAssignment(result['waiting-queue-alert'], 'Alert Settings', 'threshold', settings.threshold);
	}
	setAssignment(result.welcome, 'Welcome Settings', 'imageUrl', settings.welcomeImageUrl);
	return result;
}

/** Sets a field of a Set node (v3.4 "assignments"): the examples keep their settings in such nodes. */
export function setAssignment(workflow: WorkflowJson, nodeName: string, field: string, value: string | number): void {
	const node = workflow.nodes.find((candidate) => candidate.name === nodeName);
	if (!node) throw new Error(`workflow "${workflow.name}" has no node "${nodeName}"`);
	const assignments = (node.parameters.assignments as { assignments: Array<{ name: string; value: unknown }> })
		.assignments;
	const assignment = assignments.find((entry) => entry.name === field);
	if (!assignment) throw new Error(`node "${nodeName}" sets no field "${field}"`);
	assignment.value = value;
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

/**
 * The production URL n8n serves for the workflow's WeChat trigger (POST pushes, GET handshake); `triggerName` picks
 * one of several.
 */
export function triggerUrl(n8n: N8nInstance, workflow: WorkflowJson, triggerName?: string): string {
	const trigger = workflow.nodes.find(
		(node) => node.type === TRIGGER_TYPE && (triggerName === undefined || node.name === triggerName),
	);
	if (!trigger?.webhookId) throw new Error(`${workflow.name} has no WeChat trigger with a webhookId`);
	return `${n8n.baseUrl}/webhook/${String(trigger.webhookId)}/webhook`;
}
