/**
 * Reply From Workflow behind `n8n start`: the workflow's Message → Reply becomes the HTTP answer to WeChat's push.
 * Every answer is read as WeChat reads it — decrypted with the EncodingAESKey and its MsgSignature checked in the
 * encrypted modes — and compared in full with the reply WeChat must get: addressed back to the push's sender, from
 * the account, with exactly the workflow's content. Pushes of one check go out together, so the matrix of modes and
 * formats costs about as much as one push each.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';

import {
	buildPush,
	decryptReply,
	deliverBuiltPush,
	type Delivery,
	type PushFormat,
	type PushMode,
	toXml,
	xmlField,
} from '../../../test/emulator/pushSender';
import { ENCODING_AES_KEY, PUSH_TOKEN, triggerUrl } from '../lib/fixtures';
import { OFFICIAL_ACCOUNT, push as pushAsWeChat, textMessage } from '../lib/pushes';
import { sleep } from '../lib/waits';
import type { E2eRun } from './e2eRun';
import {
	AFTER_A_SECOND_TEXT,
	AGENT,
	LATE_TEXT,
	REPLY_MEDIA,
	REPLY_TEXT,
	REPLY_TRIGGERS,
	type ReplyTrigger,
	type Route,
	SHORT_DEADLINE_MS,
	SLOW_WAIT_SECONDS,
} from './replyWorkflows';
import { F } from './testData';

/** WeChat waits this long for an answer, then gives up on the delivery and retries. */
const WECHAT_WAITS_MS = 5000;
/**
 * How long the checks of what is answered wait for it. Longer than WeChat would: on a loaded machine n8n may take a
 * while before the trigger even sees a push, and these checks are about the reply, not the time; the time is checked
 * where the deadline is the point (the slow triggers).
 */
const PATIENCE_MS = 15_000;
const MODES: PushMode[] = ['plaintext', 'compatible', 'safe'];
const FORMATS: PushFormat[] = ['xml', 'json'];
const USER = F[5];

/** A passive reply's own fields (what follows ToUserName, FromUserName and CreateTime), as WeChat's XML has them. */
type ReplyFields = Record<string, unknown>;

const TRANSFER_ANYONE: ReplyFields = { MsgType: 'transfer_customer_service' };
const EXPECTED: Partial<Record<Route, ReplyFields>> = {
	text: { MsgType: 'text', Content: REPLY_TEXT },
	image: { MsgType: 'image', Image: { MediaId: REPLY_MEDIA.image } },
	voice: { MsgType: 'voice', Voice: { MediaId: REPLY_MEDIA.voice } },
	'transfer to alice': { MsgType: 'transfer_customer_service', TransInfo: { KfAccount: AGENT } },
	transfer: TRANSFER_ANYONE,
};

function escapeText(text: string): string {
	return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function decodeEntities(text: string): string {
	const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
	return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
		if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(parseInt(name.slice(2), 16));
		if (name.startsWith('#')) return String.fromCodePoint(Number(name.slice(1)));
		return named[name] ?? entity;
	});
}

/**
 * One spelling for equal XML: CDATA or entities, either is how WeChat's parser reads the same text; white space
 * between elements carries nothing. Element names, their order and every character of text still count.
 */
function canonicalXml(xml: string): string {
	return xml
		.trim()
		.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_, text: string) => escapeText(text))
		.replace(/>([^<]*)</g, (_, text: string) => (text.trim() === '' ? '><' : `>${escapeText(decodeEntities(text))}<`));
}

interface Answer {
	delivery: Delivery;
	/** The reply as WeChat reads it: the body, or in the encrypted modes the decrypted Encrypt. */
	reply: string;
}

/** What WeChat does with an answer: plaintext taken as is; encrypted ones checked and decrypted. */
function readAnswer(delivery: Delivery, mode: PushMode, appId: string, what: string): Answer {
	assert.equal(delivery.status, 200, `${what}: answered ${delivery.status ?? delivery.error}: ${delivery.body}`);
	const body = delivery.body ?? '';
	assert.match(delivery.contentType ?? '', body === 'success' ? /^text\/plain/ : /^text\/xml/, `${what}: content type`);
	if (mode === 'plaintext' || body === 'success') {
		assert.doesNotMatch(body, /<Encrypt>/, `${what}: an encrypted answer to a plaintext push`);
		return { delivery, reply: body };
	}
	assert.match(body.trim(), /^<xml>[\s\S]*<\/xml>$/, `${what}: the encrypted answer is not XML: ${body.slice(0, 200)}`);
	const decrypted = decryptReply(body, { token: PUSH_TOKEN, encodingAESKey: ENCODING_AES_KEY, appId });
	assert.equal(decrypted.signatureValid, true, `${what}: MsgSignature does not match the Encrypt it came with`);
	assert.match(decrypted.timestamp, /^\d{10}$/, `${what}: TimeStamp is not Unix seconds: ${decrypted.timestamp}`);
	assert.ok(Math.abs(Number(decrypted.timestamp) - Date.now() / 1000) < 300, `${what}: TimeStamp is not now`);
	assert.match(decrypted.nonce, /^\S+$/, `${what}: no Nonce`);
	return { delivery, reply: decrypted.plaintext };
}

/** The whole reply: back to the push's sender, from the account, a current CreateTime, and exactly `fields`. */
function assertReply(answer: Answer, push: Record<string, unknown>, fields: ReplyFields, what: string): void {
	const createTime = xmlField(answer.reply, 'CreateTime') ?? '';
	assert.match(createTime, /^\d{10}$/, `${what}: CreateTime is not Unix seconds in ${answer.reply}`);
	assert.ok(Math.abs(Number(createTime) - Date.now() / 1000) < 300, `${what}: CreateTime is not now`);
	const expected = toXml({
		ToUserName: push.FromUserName,
		FromUserName: OFFICIAL_ACCOUNT,
		CreateTime: createTime,
		...fields,
	});
	assert.equal(canonicalXml(answer.reply), canonicalXml(expected), `${what}: the reply differs`);
}

interface Sent {
	mode: PushMode;
	format: PushFormat;
	push: Record<string, string | number>;
	answer: Answer;
	what: string;
}

export function replyChecks(e2e: E2eRun): void {
	exampleChecks(e2e);

	const workflowId = () => e2e.replyWorkflow.id;
	const url = (which: ReplyTrigger) => triggerUrl(e2e.n8n, e2e.replyWorkflow, REPLY_TRIGGERS[which].name);
	const executions = async () => await e2e.n8n.internals.executions(workflowId());

	/** A push whose text picks `route`, in `mode` and `format`, to the trigger that accepts that mode. */
	async function send(route: string, mode: PushMode, format: PushFormat): Promise<Sent> {
		const push = textMessage(USER, route);
		const built = buildPush({
			mode,
			format,
			token: PUSH_TOKEN,
			encodingAESKey: ENCODING_AES_KEY,
			appId: e2e.wechat.appId,
			message: push,
		});
		const what = `"${route}", ${mode} ${format.toUpperCase()}`;
		const trigger = mode === 'plaintext' ? 'plaintext' : 'encrypted';
		const delivery = await deliverBuiltPush(url(trigger), built, 1, PATIENCE_MS);
		return { mode, format, push, answer: readAnswer(delivery, mode, e2e.wechat.appId, what), what };
	}

	/** The same route in every mode and format at once. */
	async function sendEverywhere(route: Route): Promise<Sent[]> {
		return await Promise.all(MODES.flatMap((mode) => FORMATS.map((format) => send(route, mode, format))));
	}

	/**
	 * Waits for the executions the pushes started — one per push — and checks how each ended (in any order) and that
	 * none started a second one.
	 */
	async function expectExecutions(before: number, statuses: string[]): Promise<void> {
		const rows = await e2e.n8n.internals.waitForExecutions(workflowId(), before + statuses.length);
		const fresh = rows.slice(before);
		assert.deepEqual(
			fresh.map((row) => row.status).sort(),
			[...statuses].sort(),
			`executions: ${JSON.stringify(fresh)}`,
		);
	}
	const SIX_SUCCEEDED = Array.from({ length: 6 }, () => 'success');

	for (const route of ['text', 'image', 'voice', 'transfer to alice', 'transfer'] as const) {
		e2e.check(
			`reply from workflow, Message → Reply "${route}": plaintext, compatible and safe mode × XML and JSON push → the exact passive reply, addressed back, encrypted as the push was (MsgSignature checked), XML for JSON pushes`,
			async () => {
				const before = (await executions()).length;
				for (const sent of await sendEverywhere(route)) {
					assertReply(sent.answer, sent.push, EXPECTED[route] ?? {}, sent.what);
					if (sent.format === 'json') assert.match(sent.answer.delivery.body ?? '', /^\s*</, `${sent.what}: not XML`);
				}
				await expectExecutions(before, SIX_SUCCEEDED);
			},
		);
	}

	e2e.check(
		'reply from workflow, "image from binary": the file uploaded as temporary media, its new media_id in the passive reply, in every mode and format',
		async () => {
			const before = (await executions()).length;
			const logBefore = (await e2e.wechat.apiLog()).length;
			const sent = await sendEverywhere('image from binary');
			const uploads = (await e2e.wechat.apiLog())
				.slice(logBefore)
				.filter((call) => call.path === '/cgi-bin/media/upload');
			assert.equal(uploads.length, sent.length, 'one upload per push');
			assert.ok(uploads.every((call) => call.query.type === 'image'));
			const issued = uploads.map((call) => String((call.response.body as { media_id?: string }).media_id));
			const replied = sent.map((entry) => xmlField(entry.answer.reply, 'MediaId') ?? '');
			assert.deepEqual([...replied].sort(), [...issued].sort(), 'each reply names the media_id its upload got');
			for (const entry of sent) {
				const mediaId = xmlField(entry.answer.reply, 'MediaId') ?? '';
				assertReply(entry.answer, entry.push, { MsgType: 'image', Image: { MediaId: mediaId } }, entry.what);
			}
			await expectExecutions(before, SIX_SUCCEEDED);
		},
	);

	e2e.check(
		'reply from workflow: a last node that is not a Reply, and a failing workflow, get the Fallback Reply — success (the default) or transfer_customer_service — in every mode and format',
		async () => {
			const before = (await executions()).length;
			const [noReply, failed] = [await sendEverywhere('no reply'), await sendEverywhere('fail')];
			for (const sent of [...noReply, ...failed]) {
				if (sent.mode === 'plaintext') {
					// The plaintext trigger falls back to a transfer, the encrypted one to the default, success.
					assertReply(sent.answer, sent.push, TRANSFER_ANYONE, sent.what);
				} else {
					assert.equal(sent.answer.delivery.body, 'success', `${sent.what}: ${sent.answer.delivery.body}`);
				}
			}
			await expectExecutions(before, [...SIX_SUCCEEDED, ...SIX_SUCCEEDED.map(() => 'error')]);
		},
	);

	e2e.check(
		`reply from workflow, slow (Reply Deadline ${SHORT_DEADLINE_MS} ms, Wait ${SLOW_WAIT_SECONDS} s): the Fallback Reply (success / transfer_customer_service) after the deadline and before WeChat's 5 s; the late reply is dropped with a line in n8n's log; a retry 300 ms into the run gets the identical answer and starts nothing`,
		async () => {
			const logBefore = await deadlineLines(e2e.n8n.logFile);
			const before = (await executions()).length;
			const pushes = [
				textMessage(USER, 'slow, falls back to success'),
				textMessage(USER, 'slow, falls back to a transfer'),
			];
			const built = pushes.map((message) =>
				buildPush({
					mode: 'safe',
					format: 'xml',
					token: PUSH_TOKEN,
					encodingAESKey: ENCODING_AES_KEY,
					appId: e2e.wechat.appId,
					message,
				}),
			);
			// WeChat's own patience: what it has not got after 5 s does not count as an answer.
			const first = deliverBuiltPush(url('slowSuccess'), built[0], 1, WECHAT_WAITS_MS);
			const transfer = deliverBuiltPush(url('slowTransfer'), built[1], 1, WECHAT_WAITS_MS);
			await sleep(300);
			const retry = deliverBuiltPush(url('slowSuccess'), built[0], 2, WECHAT_WAITS_MS);
			const [firstAnswer, transferAnswer, retryAnswer] = await Promise.all([first, transfer, retry]);

			for (const [name, delivery] of [
				['fallback success', firstAnswer],
				['fallback transfer', transferAnswer],
			] as const) {
				assert.equal(delivery.status, 200, `${name}: ${delivery.status ?? delivery.error}`);
				// A protocol bound, not a speed measurement: the answer comes from the deadline, and within WeChat's wait.
				assert.ok(delivery.ms >= SHORT_DEADLINE_MS, `${name}: answered after ${delivery.ms} ms, before the deadline`);
				assert.ok(delivery.ms < WECHAT_WAITS_MS, `${name}: answered after ${delivery.ms} ms`);
			}
			assert.equal(firstAnswer.body, 'success');
			const transferred = readAnswer(transferAnswer, 'safe', e2e.wechat.appId, 'fallback transfer');
			assertReply(transferred, pushes[1], TRANSFER_ANYONE, 'fallback transfer');
			assert.equal(retryAnswer.status, 200);
			assert.equal(retryAnswer.body, firstAnswer.body, 'the retry got another answer than the first delivery');

			// The executions themselves run to the end; only their replies come too late.
			await expectExecutions(before, ['success', 'success']);
			await sleep(1_000); // time for a second execution of the retried push to show up, if one were started
			assert.equal((await executions()).length, before + 2, 'the retry started an execution');
			const logAfter = await deadlineLines(e2e.n8n.logFile);
			const fallbackLines = logAfter.fallback.slice(logBefore.fallback.length);
			const droppedLines = logAfter.dropped.slice(logBefore.dropped.length);
			assert.equal(fallbackLines.length, 2, `fallback lines: ${fallbackLines.join(' | ')}`);
			assert.equal(droppedLines.length, 2, `dropped-reply lines: ${droppedLines.join(' | ')}`);
			for (const line of [...fallbackLines, ...droppedLines]) {
				for (const secret of [PUSH_TOKEN, ENCODING_AES_KEY, e2e.wechat.appSecret]) {
					assert.ok(!line.includes(secret), 'a secret in the n8n log');
				}
				assert.ok(!line.includes('falls back to') && !line.includes(LATE_TEXT), 'message content in the n8n log');
			}
		},
	);

	e2e.check(
		'reply from workflow: a retry 300 ms into a run that replies in time (after a 1 s Wait) gets the identical reply and starts nothing',
		async () => {
			const before = (await executions()).length;
			const push = textMessage(USER, 'slow');
			const built = buildPush({
				mode: 'safe',
				format: 'json',
				token: PUSH_TOKEN,
				encodingAESKey: ENCODING_AES_KEY,
				appId: e2e.wechat.appId,
				message: push,
			});
			const first = deliverBuiltPush(url('encrypted'), built, 1, PATIENCE_MS);
			await sleep(300);
			const retry = deliverBuiltPush(url('encrypted'), built, 2, PATIENCE_MS);
			const [firstAnswer, retryAnswer] = await Promise.all([first, retry]);
			const reply = readAnswer(firstAnswer, 'safe', e2e.wechat.appId, 'first delivery');
			assertReply(reply, push, { MsgType: 'text', Content: AFTER_A_SECOND_TEXT }, 'first delivery');
			assert.equal(retryAnswer.status, 200);
			assert.equal(retryAnswer.body, firstAnswer.body, 'the retry got another answer than the first delivery');
			await expectExecutions(before, ['success']);
			await sleep(1_000);
			assert.equal((await executions()).length, before + 1, 'the retry started an execution');
		},
	);
}

/** The online agent serving the fewest sessions in a getonlinekflist answer (ties: the first listed). */
function leastLoaded(onlineList: unknown): string | undefined {
	const agents = ((onlineList as { kf_online_list?: Array<Record<string, unknown>> }).kf_online_list ?? []).filter(
		(agent) => Number(agent.status) !== 0,
	);
	let best: Record<string, unknown> | undefined;
	for (const agent of agents) if (!best || Number(agent.accepted_case) < Number(best.accepted_case)) best = agent;
	return best === undefined ? undefined : String(best.kf_account);
}

/**
 * The trigger's lines (n8n's log, level warn) about the fallback it answered at the deadline and about the
 * workflow's reply it dropped because it came later.
 */
async function deadlineLines(logFile: string): Promise<{ fallback: string[]; dropped: string[] }> {
	const lines = (await fs.readFile(logFile, 'utf8').catch(() => '')).split('\n');
	return {
		fallback: lines.filter((line) => /WeChat push answered with .* not replied within \d+ ms/.test(line)),
		dropped: lines.filter((line) => /WeChat push.* answer came .* after .* deadline.* dropped/.test(line)),
	};
}

/** examples/escalation-by-workflow.json behind n8n start, as shipped (only its credential points at the emulator). */
function exampleChecks(e2e: E2eRun): void {
	e2e.check(
		'example escalation-by-workflow.json: who asks for a human goes to the agent who served them last (if online) or the least-loaded one, by a transfer_customer_service reply; a question gets a passive text',
		async () => {
			const example = e2e.examples['escalation-by-workflow'];
			const exampleUrl = triggerUrl(e2e.n8n, example);
			const returning = 'oE2eReturningCustomer0000001';
			const firstTimer = 'oE2eFirstTimeWriter000000001';
			const servedAt = Math.floor(Date.now() / 1000) - 600;
			// Bob served the returning customer ten minutes ago; Alice and Bob are online (testData.ts).
			await e2e.wechat.admin('seed', {
				records: [{ openid: returning, opercode: 2002, text: 'served before', time: servedAt, worker: 'bob@emulator_oa' }],
			});
			const ask = async (openid: string, text: string) => {
				const logBefore = (await e2e.wechat.apiLog()).length;
				const push = textMessage(openid, text);
				const { deliveries } = await pushAsWeChat(exampleUrl, e2e.wechat.appId, push);
				const answer = readAnswer(deliveries[deliveries.length - 1], 'safe', e2e.wechat.appId, text);
				const calls = (await e2e.wechat.apiLog()).slice(logBefore);
				return { push, answer, calls };
			};

			const again = await ask(returning, '请转人工，找上次那位');
			assertReply(
				again.answer,
				again.push,
				{ MsgType: 'transfer_customer_service', TransInfo: { KfAccount: 'bob@emulator_oa' } },
				'returning customer',
			);

			const first = await ask(firstTimer, 'Can I talk to a human agent?');
			const online = first.calls.find((call) => call.path === '/cgi-bin/customservice/getonlinekflist');
			const expected = leastLoaded(online?.response.body);
			assert.ok(expected, 'nobody online in the emulator');
			assert.ok(first.calls.some((call) => call.path === '/customservice/msgrecord/getmsglist'));
			assertReply(
				first.answer,
				first.push,
				{ MsgType: 'transfer_customer_service', TransInfo: { KfAccount: expected } },
				'first-time writer',
			);

			const question = await ask(firstTimer, 'Do you ship to Hong Kong?');
			assertReply(
				question.answer,
				question.push,
				{
					MsgType: 'text',
					Content: '您好！我们已收到您的消息：“Do you ship to Hong Kong?”。回复“人工”转人工客服。Reply "human" to talk to an agent.',
				},
				'question',
			);
			assert.deepEqual(question.calls, [], 'a passive text calls no WeChat API');
			const rows = await e2e.n8n.internals.waitForExecutions(example.id, 3);
			assert.deepEqual(
				rows.map((row) => row.status),
				['success', 'success', 'success'],
			);
		},
	);
}
