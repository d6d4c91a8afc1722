/**
 * `npm run screenshots`: refreshes the README's pictures from the real n8n editor. It starts what `npm run dev`
 * starts (n8n with the package, the emulator, the examples), drives the editor with headless Chromium from Debian's
 * packages (`apt-get install chromium fonts-wqy-zenhei`, the font for the Chinese text; playwright-core only steers the
 * browser, it downloads none), and writes docs/images/escalation-workflow.png, docs/images/send-message-panel.png and
 * docs/images/reply-from-workflow.png. Everything stays on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';

import { loginRequest } from './n8n/lib/n8nInternals';
import { ROOT } from './n8n/lib/packageUnderTest';
import { freePort } from './n8n/lib/ports';

const IMAGES = path.join(ROOT, 'docs', 'images');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OWNER = { email: 'demo@example.com', password: 'Demo-Passw0rd' };
const ESCALATION_WORKFLOW = 'wechatCsEscalation';
const SEND_NODE = 'Automatic Answer';
/** examples/escalation-by-workflow.json: the trigger's Reply From Workflow, each branch ending in Message → Reply. */
const REPLY_FROM_WORKFLOW = 'wechatCsByFlow';

/** Starts `npm run dev`'s script and resolves with the editor's URL once n8n is ready. */
async function startDev(port: number) {
	const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'n8n', 'dev.ts')], {
		cwd: ROOT,
		env: { ...process.env, N8N_DEV_PORT: String(port) },
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	const baseUrl = await new Promise<string>((resolve, reject) => {
		let output = '';
		const timer = setTimeout(() => reject(new Error('n8n was not ready within 15 minutes')), 15 * 60_000);
		child.stdout.on('data', (chunk: Buffer) => {
			output += chunk.toString();
			const match = /is running: (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
			if (match) {
				clearTimeout(timer);
				resolve(match[1]);
			}
		});
		child.once('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`npm run dev exited with ${code}:\n${output.slice(-2000)}`));
		});
	});
	const stop = async () => {
		if (child.exitCode !== null) return;
		const exited = new Promise((resolve) => child.once('exit', resolve));
		child.kill('SIGINT');
		await exited;
	};
	return { baseUrl, stop };
}

async function logIn(page: Page, baseUrl: string): Promise<void> {
	// The same call the sign-in form makes; the session cookie lands in the browser context.
	const login = loginRequest(OWNER);
	const response = await page.request.post(`${baseUrl}${login.path}`, { data: login.body });
	if (!response.ok()) throw new Error(`log-in answered HTTP ${response.status()}`);
}

/** Opens a workflow in the editor and fits all of it into the window. */
async function showWholeWorkflow(page: Page, baseUrl: string, workflowId: string): Promise<void> {
	await page.goto(`${baseUrl}/workflow/${workflowId}`);
	await page.locator('[data-test-id="canvas-node"]').first().waitFor({ timeout: 60_000 });
	await page.keyboard.press('Escape');
	// n8n shows a "Production Checklist" for published workflows; close it, then "zoom to fit", then let the canvas
	// and the fonts settle.
	const checklist = page.getByText('Production Checklist');
	if (await checklist.isVisible()) {
		await checklist.locator('xpath=ancestor::*[.//button][1]').locator('button').first().click();
	}
	const fit = page.locator('[data-test-id="zoom-to-fit"]');
	if (await fit.isVisible()) await fit.click();
	await page.waitForTimeout(2_000);
}

async function main(): Promise<void> {
	if (!existsSync(CHROMIUM)) {
		throw new Error(`No Chromium at ${CHROMIUM}: install Debian's (apt-get install chromium) or set CHROMIUM_PATH.`);
	}
	mkdirSync(IMAGES, { recursive: true });
	const dev = await startDev(await freePort());
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		args: [
			'--no-sandbox',
			'--disable-gpu',
			'--disable-quic',
			'--no-first-run',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
		],
	});
	try {
		const page = await browser.newPage({ viewport: { width: 1600, height: 900 }, deviceScaleFactor: 1 });
		await logIn(page, dev.baseUrl);

		await showWholeWorkflow(page, dev.baseUrl, ESCALATION_WORKFLOW);
		await page.screenshot({ path: path.join(IMAGES, 'escalation-workflow.png') });

		await page.locator('[data-test-id="canvas-node"]', { hasText: SEND_NODE }).first().dblclick();
		await page.locator('[data-test-id="ndv"]').first().waitFor({ timeout: 30_000 });
		await page.waitForTimeout(1_500);
		await page.screenshot({ path: path.join(IMAGES, 'send-message-panel.png') });

		await showWholeWorkflow(page, dev.baseUrl, REPLY_FROM_WORKFLOW);
		await page.screenshot({ path: path.join(IMAGES, 'reply-from-workflow.png') });
		process.stdout.write(`screenshots written to ${path.relative(ROOT, IMAGES)}/\n`);
	} finally {
		await browser.close();
		await dev.stop();
	}
}

main().catch((error: unknown) => {
	process.stderr.write(`screenshots failed: ${error instanceof Error ? error.message : String(error)}\n`);
	process.exit(1);
});
