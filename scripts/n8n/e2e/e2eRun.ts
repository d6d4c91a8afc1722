/**
 * What the e2e checks share — one n8n with the package installed, one emulator seeded with the account of
 * testData.ts, the credential and every workflow imported — with the set-up and teardown that make and remove it
 * (e2e.test.ts runs them in its before and after hooks), and the helpers the checks have in common.
 */
import { type TestContext, test } from 'node:test';
import { promises as fs } from 'node:fs';
import path from 'node:path';

import { type EmulatorProcess, type LoggedApiRequest, startEmulator } from '../lib/emulator';
import {
	configuredExamples,
	CREDENTIAL_ID,
	CREDENTIAL_NAME,
	emulatorCredential,
	type ExampleName,
} from '../lib/fixtures';
import { ensureN8n, n8nVersionFrom } from '../lib/n8nInstall';
import { N8nInstance, type WorkflowJson } from '../lib/n8nInstance';
import type { ExecutionOutput } from '../lib/n8nInternals';
import { buildAndPack } from '../lib/packageUnderTest';
import { shutdown } from '../lib/processes';
import { type Receiver, startReceiver } from '../lib/receiver';
import { sleep } from '../lib/waits';
import { replyWorkflow } from './replyWorkflows';
import { accountSeed, type BeijingDays, beijingDays, checkWorkflows, ITEM_CREDENTIAL, JPEG } from './testData';

export function isToken(request: LoggedApiRequest): boolean {
	return request.path === '/cgi-bin/token' || request.path === '/cgi-bin/stable_token';
}

/** WeChat's error code in the emulator's answer (absent on success). */
export function errcode(request: LoggedApiRequest): number | undefined {
	return (request.response.body as { errcode?: number }).errcode;
}

/** Fails with n8n's own account of the error (message, node, description) when the execution failed. */
export function succeeded(output: ExecutionOutput, what: string): void {
	if (output.error) {
		throw new Error(
			`${what} failed in n8n: ${output.error.message}${output.error.node ? ` (node ${output.error.node})` : ''}${output.error.description ? ` — ${output.error.description}` : ''}`,
		);
	}
}

export class E2eRun {
	readonly version = n8nVersionFrom();
	// Set by setUp(), which runs before any check.
	n8n!: N8nInstance;
	wechat!: EmulatorProcess;
	groupBot!: Receiver;
	days!: BeijingDays;
	examples!: Record<ExampleName, WorkflowJson>;
	workflows!: ReturnType<typeof checkWorkflows>;
	/** The workflow of four triggers with Reply = From Workflow (replyChecks.ts). */
	replyWorkflow!: WorkflowJson;
	/** Entries the loopback guard's positive control left in the connection log; later checks look past them. */
	controlEntries = 0;
	/**
	 * Token requests that left no token in the shared credential (made by this process itself, or by n8n for another
	 * credential), for ensureN8nHoldsToken.
	 */
	ownTokenCalls = 0;
	private failed = false;

	/** Runs `work`, remembering a failure: the n8n folder (and its log) is then kept. */
	async guard<T>(work: () => Promise<T>): Promise<T> {
		try {
			return await work();
		} catch (error) {
			this.failed = true;
			throw error;
		}
	}

	/** A node:test test that also reports what went wrong inside n8n without failing it (instance warnings). */
	check(name: string, body: (t: TestContext) => Promise<void>): void {
		test(name, async (t) => {
			const warningsBefore = this.n8n?.warnings.length ?? 0;
			try {
				await this.guard(() => body(t));
			} finally {
				for (const warning of this.n8n?.warnings.slice(warningsBefore) ?? []) t.diagnostic(`note: ${warning}`);
			}
		});
	}

	async setUp(): Promise<void> {
		await this.guard(async () => {
			const install = await ensureN8n(this.version, undefined, (text) => process.stdout.write(`# ${text}\n`));
			this.n8n = await N8nInstance.create({ install });
			await this.n8n.installPackage(await buildAndPack(path.join(this.n8n.root, 'pack'), this.n8n.log));
			this.wechat = await startEmulator({ log: this.n8n.log });
			// "Yesterday" must not change between seeding and the nightly export: do not start the next steps in the last
			// four minutes of a Beijing day, nor in the first eleven, while the export's 10-minute lag still ends it before
			// midnight (examples/nightly-export.json).
			const untilMidnight = beijingDays().todayStart + 86400 - Date.now() / 1000;
			const sinceMidnight = Date.now() / 1000 - beijingDays().todayStart;
			if (untilMidnight < 240 || sinceMidnight < 660) {
				const wait = untilMidnight < 240 ? untilMidnight + 665 : 665 - sinceMidnight;
				process.stdout.write(`# waiting ${Math.ceil(wait)} s for Beijing midnight and the export's lag to pass\n`);
				await sleep(wait * 1000);
			}
			this.days = beijingDays();
			const imageServer = await startReceiver((request) =>
				request.path === '/img/welcome.jpg'
					? { type: 'image/jpeg', body: JPEG }
					: { status: 404, type: 'text/plain', body: 'no' },
			);
			this.groupBot = await startReceiver();
			await fs.writeFile(path.join(this.n8n.filesDir, 'avatar.jpg'), JPEG);
			await fs.writeFile(path.join(this.n8n.filesDir, 'photo.jpg'), JPEG);

			await this.wechat.admin('seed', accountSeed(this.days));
			const credential = emulatorCredential(this.wechat);
			await this.n8n.importCredentials([
				credential,
				{ ...credential, ...ITEM_CREDENTIAL, data: { ...credential.data, appId: '={{ $json.appid }}' } },
			]);
			this.examples = await configuredExamples({
				credential: { id: CREDENTIAL_ID, name: CREDENTIAL_NAME },
				exportFolder: this.n8n.filesDir,
				botWebhookUrl: `${this.groupBot.url}/cgi-bin/webhook/send?key=e2e`,
				threshold: 3,
				welcomeImageUrl: `${imageServer.url}/img/welcome.jpg`,
			});
			this.workflows = checkWorkflows(
				this.n8n.filesDir,
				this.days,
				this.examples,
				this.wechat.appId,
				this.wechat.baseUrl,
			);
			this.replyWorkflow = replyWorkflow(this.n8n.filesDir);
			await this.n8n.importWorkflows([
				...Object.values(this.examples),
				...Object.values(this.workflows),
				this.replyWorkflow,
			]);
		});
	}

	/** Stops n8n and the emulator and removes the folder, unless something failed: then it says where the log is. */
	async tearDown(): Promise<void> {
		await this.n8n?.stop();
		if (this.failed && this.n8n) {
			this.n8n.preserve();
			process.stderr.write(`n8n log: ${this.n8n.logFile} (folder kept)\n`);
		}
		await shutdown();
	}

	/** Runs `n8n execute` and returns the output with the emulator requests it caused. */
	async executeLogged(workflowId: string): Promise<{ output: ExecutionOutput; calls: LoggedApiRequest[] }> {
		const before = (await this.wechat.apiLog()).length;
		const output = await this.n8n.execute(workflowId);
		const calls = (await this.wechat.apiLog()).slice(before);
		return { output, calls };
	}

	/**
	 * The token-revocation checks revoke the token n8n holds. In a full run an earlier check made n8n obtain one; a
	 * check run alone (--test-name-pattern) finds none, so `obtain` makes n8n get one first.
	 */
	async ensureN8nHoldsToken(obtain: () => Promise<void>): Promise<void> {
		const tokenCalls = (await this.wechat.apiLog()).filter(isToken).length;
		if (tokenCalls <= this.ownTokenCalls) await obtain();
	}
}
