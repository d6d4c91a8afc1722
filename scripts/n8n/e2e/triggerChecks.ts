/**
 * The checks of the trigger behind `n8n start`, in a suite of their own that publishes the trigger workflows and
 * starts n8n first: the editor's REST API (credential Test, account picker), the URL check (echostr), pushes as
 * WeChat delivers them (safe mode, XML and JSON, retried, forged, tampered with), the passive reply, the events filter,
 * a token revoked while n8n runs, the replies workflows decide (replyChecks.ts), and, last, that nothing left loopback
 * while n8n served all this.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { after, before } from 'node:test';

import {
	buildHandshake,
	buildPush,
	decryptReply,
	toXml as buildPushXml,
	xmlField,
} from '../../../test/emulator/pushSender';
import {
	CREDENTIAL_ID,
	CREDENTIAL_NAME,
	ENCODING_AES_KEY,
	emulatorCredential,
	PUSH_TOKEN,
	TRIGGER_NODE,
	triggerUrl,
} from '../lib/fixtures';
import { readGuardLog } from '../lib/loopbackGuard';
import type { RestAnswer } from '../lib/n8nInternals';
import { CREDENTIAL_TYPE, NODE_TYPE } from '../lib/packageUnderTest';
import { nonLoopbackSocketsOf } from '../lib/processSockets';
import { OFFICIAL_ACCOUNT, paddingOracleProbes, push, subscribeEvent, textMessage } from '../lib/pushes';
import { fetchWithTimeout, sleep } from '../lib/waits';
import { type E2eRun, errcode, isToken } from './e2eRun';
import { replyChecks } from './replyChecks';
import { F } from './testData';

/** The trigger's refusal lines in n8n's log (it logs through n8n's logger at warn level). */
async function refusalLines(logFile: string): Promise<string[]> {
	const text = await fs.readFile(logFile, 'utf8').catch(() => '');
	return text.split('\n').filter((line) => line.includes('WeChat push refused'));
}

export function triggerChecks(e2e: E2eRun): void {
	const escalationId = () => e2e.examples.escalation.id;
	const executions = (workflowId?: string) => e2e.n8n.internals.executions(workflowId);
	const waitForExecutions = (workflowId: string, count: number) =>
		e2e.n8n.internals.waitForExecutions(workflowId, count);
	const executionData = (executionId: string) => e2e.n8n.internals.executionData(executionId);
	let escalationUrl = '';
	let transferUrl = '';
	// Sockets of n8n's process tree, sampled while pushes are processed.
	const seenSockets = new Set<string>();
	let sampler: NodeJS.Timeout | undefined;

	before(() =>
		e2e.guard(async () => {
			await e2e.n8n.publish(escalationId());
			await e2e.n8n.publish(e2e.examples.welcome.id);
			await e2e.n8n.publish(e2e.workflows.transfer.id);
			await e2e.n8n.publish(e2e.examples['escalation-by-workflow'].id);
			await e2e.n8n.publish(e2e.replyWorkflow.id);
			await e2e.n8n.start();
			escalationUrl = triggerUrl(e2e.n8n, e2e.examples.escalation);
			transferUrl = triggerUrl(e2e.n8n, e2e.workflows.transfer);
			await e2e.n8n.waitForWebhook(escalationUrl);
			sampler = setInterval(() => {
				const pid = e2e.n8n.serverPid;
				if (pid) for (const socket of nonLoopbackSocketsOf(pid)) seenSockets.add(socket);
			}, 200);
		}),
	);
	after(async () => {
		clearInterval(sampler);
		await e2e.n8n?.stop();
	});

	e2e.check(
		'n8n start with the escalation, welcome, transfer-reply and reply-from-workflow workflows published; ready on /healthz/readiness',
		async () => {
			assert.equal((await fetchWithTimeout(`${e2e.n8n.baseUrl}/healthz/readiness`, {}, 3_000)).status, 200);
			const probe = await fetchWithTimeout(`${escalationUrl}?probe=1`, {}, 3_000);
			assert.notEqual(probe.status, 404, 'the escalation trigger is not registered');
		},
	);

	e2e.check(
		"editor REST API: owner set-up, login, credential Test (OK, and WeChat's reason for a wrong AppSecret), account picker search",
		async () => {
			const { internals } = e2e.n8n;
			const owner = { email: 'e2e@example.com', password: 'E2e-Passw0rd', firstName: 'E2E', lastName: 'Owner' };
			const setup = await internals.setUpOwner(owner);
			assert.equal(setup.status, 200, setup.text);
			const login = await internals.logIn(owner);
			assert.equal(login.status, 200, login.text);
			const ok = (route: string, answer: RestAnswer) => {
				assert.equal(answer.status, 200, `${route}: ${answer.text}`);
				return answer.data ?? {};
			};
			const stored = emulatorCredential(e2e.wechat);
			const credential = (extra: Record<string, unknown>) => ({ ...stored, data: { ...stored.data, ...extra } });
			assert.deepEqual(ok('credentials/test', await internals.testCredential(login.cookie, credential({}))), {
				status: 'OK',
				message: 'Connection successful!',
			});
			const wrong = ok(
				'credentials/test',
				await internals.testCredential(login.cookie, credential({ appSecret: 'not-the-secret' })),
			);
			assert.equal(wrong.status, 'Error');
			assert.match(String(wrong.message), /40125/);
			const search = await internals.searchList(login.cookie, {
				nodeType: NODE_TYPE,
				nodeVersion: 1,
				methodName: 'searchKfAccounts',
				parameterPath: 'parameters.kfAccount',
				currentNodeParameters: {
					resource: 'session',
					operation: 'close',
					kfAccount: { __rl: true, mode: 'list', value: '' },
				},
				credentials: { [CREDENTIAL_TYPE]: { id: CREDENTIAL_ID, name: CREDENTIAL_NAME } },
				filter: 'ali',
			});
			const found = ok('resource-locator-results', search);
			assert.deepEqual(
				(found.results as Array<{ value: string }>).map((result) => result.value),
				['alice@emulator_oa'],
			);
		},
	);

	e2e.check(
		'GET handshake: echostr returned byte for byte as text/plain; a wrong signature gets no echostr',
		async () => {
			for (const echostr of ['7563542361852317345', 'gZ4k-Q1_x9TbLw0aR7uVe2NcYhD5pFj3sKm8oIqW6Ev']) {
				const { query } = buildHandshake({ token: PUSH_TOKEN, echostr });
				const response = await fetchWithTimeout(`${escalationUrl}?${new URLSearchParams(query)}`);
				const bytes = Buffer.from(await response.arrayBuffer());
				assert.equal(response.status, 200);
				assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
				assert.ok(bytes.equals(Buffer.from(echostr, 'utf8')), `answered ${JSON.stringify(bytes.toString())}`);
			}
			const { query } = buildHandshake({ token: 'not-the-token', echostr: '123456789' });
			const response = await fetchWithTimeout(`${escalationUrl}?${new URLSearchParams(query)}`);
			const text = await response.text();
			assert.notEqual(response.status, 200);
			assert.ok(!text.includes('123456789'));
		},
	);

	e2e.check(
		'safe-mode XML push → one execution whose trigger item has the decrypted fields (64-bit MsgId exact)',
		async () => {
			const before = (await executions(escalationId())).length;
			await e2e.wechat.admin('user-message', { openid: F[7] });
			const message = textMessage(F[7], 'What time do you open? 几点开门？');
			const delivery = await push(escalationUrl, e2e.wechat.appId, message);
			assert.equal(delivery.deliveries.length, 1);
			assert.equal(delivery.deliveries[0].status, 200);
			assert.equal(delivery.deliveries[0].body, 'success');
			// n8n 2.x answers only once it has created the execution (1.x answers first, by its own order), so an
			// acknowledged push is never one that n8n failed to store.
			if (Number(e2e.version.split('.')[0]) >= 2) {
				assert.equal((await executions(escalationId())).length, before + 1, 'the execution existed before the answer');
			}
			assert.match(delivery.built.body, /<Encrypt>/);
			assert.doesNotMatch(delivery.built.body, /几点开门/);
			const rows = await waitForExecutions(escalationId(), before + 1);
			assert.equal(rows.length, before + 1);
			assert.equal(rows[before].status, 'success');
			const run = await executionData(rows[before].id);
			const [item] = run.items(TRIGGER_NODE);
			assert.equal(item.ToUserName, OFFICIAL_ACCOUNT);
			assert.equal(item.FromUserName, F[7]);
			assert.equal(item.MsgType, 'text');
			assert.equal(item.Content, 'What time do you open? 几点开门？');
			assert.equal(item.MsgId, message.MsgId);
			assert.equal(String(item.CreateTime), String(message.CreateTime));
			assert.equal(item.Encrypt, undefined);
			assert.equal(run.ran('Automatic Answer'), true);
		},
	);

	e2e.check('safe-mode JSON push: 64-bit MsgId kept as a string, execution runs', async () => {
		const before = (await executions(escalationId())).length;
		await e2e.wechat.admin('user-message', { openid: F[7] });
		const message = textMessage(F[7], 'json format');
		const delivery = await push(escalationUrl, e2e.wechat.appId, message, { format: 'json' });
		assert.equal(delivery.deliveries[0].status, 200);
		const rows = await waitForExecutions(escalationId(), before + 1);
		const run = await executionData(rows[rows.length - 1].id);
		assert.equal(run.items(TRIGGER_NODE)[0]?.MsgId, message.MsgId);
	});

	e2e.check('three deliveries of one push (WeChat retries) → identical answers, exactly one execution', async () => {
		const before = (await executions(escalationId())).length;
		await e2e.wechat.admin('user-message', { openid: F[7] });
		const delivery = await push(escalationUrl, e2e.wechat.appId, textMessage(F[7], 'delivered three times'), {
			forceDeliveries: 3,
		});
		assert.equal(delivery.deliveries.length, 3);
		assert.ok(
			delivery.deliveries.every((d) => d.status === 200 && d.body === 'success'),
			JSON.stringify(delivery.deliveries),
		);
		await waitForExecutions(escalationId(), before + 1);
		await sleep(3_000); // time for a duplicate execution to show up, if one were started
		const rows = await executions(escalationId());
		assert.equal(rows.length, before + 1, `${rows.length - before} executions for one push`);
	});

	e2e.check('a push with a forged msg_signature is rejected and starts nothing', async () => {
		const before = (await executions()).length;
		const built = buildPush({
			mode: 'safe',
			format: 'xml',
			token: PUSH_TOKEN,
			encodingAESKey: ENCODING_AES_KEY,
			appId: e2e.wechat.appId,
			message: textMessage(F[7], 'forged'),
		});
		const query = new URLSearchParams({ ...built.query, msg_signature: '0'.repeat(40) });
		const response = await fetchWithTimeout(`${escalationUrl}?${query}`, {
			method: 'POST',
			body: built.body,
			headers: { 'content-type': 'text/xml' },
		});
		assert.ok(response.status >= 400 && response.status < 500, `answered ${response.status}`);
		await sleep(1_500);
		assert.equal((await executions()).length, before);
	});

	e2e.check(
		'trust: a captured safe-mode URL downgraded to plaintext is refused; bad padding, wrong AppID and invalid UTF-8 get one identical answer; each refusal leaves one secret-free line in the n8n log',
		async () => {
			const before = (await executions()).length;
			const refusalsBefore = (await refusalLines(e2e.n8n.logFile)).length;
			const post = async (query: Record<string, string>, body: string) => {
				const response = await fetchWithTimeout(`${escalationUrl}?${new URLSearchParams(query)}`, {
					method: 'POST',
					body,
					headers: { 'content-type': 'text/xml' },
				});
				return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
			};
			// Downgrade: the captured query without encrypt_type/msg_signature, under a forged plaintext body.
			const captured = buildPush({
				mode: 'safe',
				format: 'xml',
				token: PUSH_TOKEN,
				encodingAESKey: ENCODING_AES_KEY,
				appId: e2e.wechat.appId,
				message: textMessage(F[7], 'genuine'),
			});
			const { encrypt_type: _type, msg_signature: _signature, ...plainQuery } = captured.query;
			const downgraded = await post(plainQuery, buildPushXml(textMessage(F[6], 'forged by an attacker')));
			assert.equal(downgraded.status, 401, downgraded.body);
			// Padding oracle: someone who knows the Token signs ciphertexts of their own.
			const answers = new Set<string>();
			for (const probe of paddingOracleProbes(e2e.wechat.appId, textMessage(F[7], 'probe'))) {
				answers.add(JSON.stringify(await post(probe.query, probe.body)));
			}
			assert.equal(answers.size, 1, [...answers].join(' | '));
			const [uniform] = [...answers].map((answer) => JSON.parse(answer) as { status: number; body: string });
			assert.equal(uniform.status, 400);
			assert.equal(uniform.body, '-40007 invalid encrypted push');
			await sleep(1_500);
			assert.equal((await executions()).length, before, 'a refused push started an execution');
			const lines = (await refusalLines(e2e.n8n.logFile)).slice(refusalsBefore);
			assert.equal(lines.length, 4, `refusal lines: ${lines.join(' | ')}`);
			assert.match(lines[0], /refused: -40001 encrypted push expected/);
			for (const line of lines) {
				for (const secret of [PUSH_TOKEN, ENCODING_AES_KEY, e2e.wechat.appSecret]) {
					assert.ok(!line.includes(secret), 'a secret in the n8n log');
				}
				assert.ok(!line.includes('forged by an attacker') && !line.includes('probe'), 'push content in the n8n log');
			}
		},
	);

	e2e.check(
		'reply "Transfer to Customer Service": encrypted transfer_customer_service reply naming the agent',
		async () => {
			const message = textMessage(F[2], '转人工');
			const delivery = await push(transferUrl, e2e.wechat.appId, message);
			const [answer] = delivery.deliveries;
			assert.equal(answer.status, 200);
			const reply = decryptReply(answer.body ?? '', {
				token: PUSH_TOKEN,
				encodingAESKey: ENCODING_AES_KEY,
				appId: e2e.wechat.appId,
			});
			assert.equal(reply.signatureValid, true);
			assert.equal(xmlField(reply.plaintext, 'MsgType'), 'transfer_customer_service');
			assert.equal(xmlField(reply.plaintext, 'ToUserName'), F[2]);
			assert.equal(xmlField(reply.plaintext, 'FromUserName'), OFFICIAL_ACCOUNT);
			assert.match(
				reply.plaintext,
				/<TransInfo>\s*<KfAccount>(<!\[CDATA\[)?alice@emulator_oa(\]\]>)?<\/KfAccount>\s*<\/TransInfo>/,
			);
			await waitForExecutions('e2eTransferReply', 1);
		},
	);

	e2e.check(
		'subscribe push to welcome.json → welcome text and image sent; the same push to escalation.json starts nothing',
		async () => {
			const newcomer = 'oE2eNewcomer0000000000000001';
			await e2e.wechat.admin('seed', { followers: [newcomer] });
			const before = (await e2e.wechat.apiLog()).length;
			const escalationBefore = (await executions(escalationId())).length;
			const event = subscribeEvent(newcomer);
			await push(triggerUrl(e2e.n8n, e2e.examples.welcome), e2e.wechat.appId, event);
			const answer = await push(escalationUrl, e2e.wechat.appId, event);
			assert.equal(answer.deliveries[0].body, 'success');
			const [row] = await waitForExecutions(e2e.examples.welcome.id, 1);
			assert.equal(row.status, 'success');
			const sends = (await e2e.wechat.apiLog())
				.slice(before)
				.filter((call) => call.path === '/cgi-bin/message/custom/send');
			assert.deepEqual(
				sends.map((call) => [(call.json as { touser: string }).touser, (call.json as { msgtype: string }).msgtype]),
				[
					[newcomer, 'text'],
					[newcomer, 'image'],
				],
			);
			await sleep(1_000);
			assert.equal(
				(await executions(escalationId())).length,
				escalationBefore,
				'escalation (text only) ran for an event',
			);
		},
	);

	e2e.check(
		'token revoked while n8n runs: the next push still hands the user to an agent (one token call)',
		async () => {
			await e2e.wechat.admin('user-message', { openid: F[1] });
			await e2e.ensureN8nHoldsToken(async () => {
				const runs = (await executions(escalationId())).length;
				await push(escalationUrl, e2e.wechat.appId, textMessage(F[1], 'When do you open?'));
				await waitForExecutions(escalationId(), runs + 1);
			});
			await e2e.wechat.admin('revoke-token', {});
			const runs = (await executions(escalationId())).length;
			const before = (await e2e.wechat.apiLog()).length;
			await push(escalationUrl, e2e.wechat.appId, textMessage(F[1], 'human please'));
			const rows = await waitForExecutions(escalationId(), runs + 1);
			assert.equal(rows[rows.length - 1].status, 'success');
			const calls = (await e2e.wechat.apiLog()).slice(before);
			assert.equal(calls.filter(isToken).length, 1);
			assert.ok(
				calls.some(
					(call) =>
						call.path === '/customservice/kfsession/create' && (call.json as { openid: string }).openid === F[1],
				),
			);
			assert.ok(
				calls.some((call) => errcode(call) === 40001),
				'the revoked token was never rejected',
			);
		},
	);

	replyChecks(e2e);

	e2e.check(
		'nothing left loopback: no connection, lookup or datagram outside 127.0.0.0/8 by any n8n process',
		async (t) => {
			clearInterval(sampler);
			const { attempts, guardedPids } = await readGuardLog(e2e.n8n.netLogFile);
			assert.deepEqual(attempts.slice(e2e.controlEntries), [], 'the guard recorded non-loopback attempts');
			assert.deepEqual([...seenSockets], [], 'sockets of the n8n process tree had non-loopback remote addresses');
			assert.ok(guardedPids.includes(e2e.n8n.serverPid ?? -1), 'the guard was not loaded into n8n start');
			t.diagnostic(
				`loopback: guard active in ${guardedPids.length} n8n processes; ${e2e.controlEntries} control attempt(s) recorded and refused; 0 others; /proc sampling of n8n start's process tree saw no non-loopback socket`,
			);
		},
	);
}
