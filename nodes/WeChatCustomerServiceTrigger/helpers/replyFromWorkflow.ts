/**
 * Reply From Workflow (docs/wechat-protocol.md §11): the workflow decides the passive reply, within WeChat's 5 s.
 *
 * n8n answers the push itself, in response mode "lastNode", with the `passiveReply` field of the first item of the
 * last node that ran (Message → Reply builds it). That is n8n's own mechanism and works in queue mode too: the
 * webhook process that received the push waits for the execution, wherever it runs. But n8n would send whatever the
 * last node holds, as JSON, whenever the execution ends. So, on the one response object of this push, the trigger
 * takes over what n8n writes: a valid reply is addressed to the push's sender and encrypted as the push was; anything
 * else becomes the fallback reply. And if n8n has not written when the deadline comes, the trigger answers the
 * fallback itself and drops n8n's later write (which would otherwise fail in n8n with "headers already sent").
 */
import { sleep, type IDataObject, type Logger } from 'n8n-workflow';

import { readPassiveReply } from '../../shared/passiveReply';
import type { StoredReply } from './deduplicate';
import type { PushSettings } from './pushSettings';
import { passiveAnswer, type PushOutcome } from './receivePush';

/**
 * Answers being decided, by the memory keys of their push: a delivery of the same push that arrives meanwhile waits
 * for the first delivery's answer (at most until the deadline) instead of getting the fallback remembered for now.
 */
const pendingAnswers = new Map<string, Promise<StoredReply>>();

/** The answer the first delivery of this push is still waiting for, if it is. */
export function pendingAnswer(key: string | undefined): Promise<StoredReply> | undefined {
	return key === undefined ? undefined : pendingAnswers.get(key);
}

/** What n8n answers when it could not create or run the execution (n8n 1.x and 2.x): WeChat must deliver again. */
const EXECUTION_NOT_RUN = 'There was a problem executing the workflow';
/** What n8n answers when a node of the workflow failed. */
const WORKFLOW_FAILED = 'Error in workflow';

/**
 * Every method through which n8n (its webhook request handler, its error responses) writes the status, the headers
 * or the body of a response.
 */
const RESPONSE_WRITERS = [
	'status',
	'sendStatus',
	'set',
	'header',
	'append',
	'type',
	'contentType',
	'setHeader',
	'setHeaders',
	'writeHead',
	'write',
	'send',
	'json',
	'end',
] as const;
type ResponseWriter = (typeof RESPONSE_WRITERS)[number];
const BODY_WRITERS = new Set<ResponseWriter>(['send', 'json', 'end', 'write', 'sendStatus']);

/** The express response of one push, as far as the trigger uses it. */
export interface PushResponse {
	headersSent: boolean;
	statusCode: number;
	status(code: number): PushResponse;
	type(contentType: string): PushResponse;
	send(body: string): PushResponse;
}

type Method = (...args: unknown[]) => unknown;

function n8nMessage(body: unknown): string | undefined {
	if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
	const message = (body as IDataObject).message;
	return typeof message === 'string' ? message : undefined;
}

/**
 * Takes over the answer to a push that started an execution with Reply From Workflow. `outcome` carries the fallback
 * (what receivePush remembered for the push) and where a reply goes. Returns at once; the answer is written when n8n
 * writes its own, or at the deadline, whichever comes first.
 */
export function answerWhenWorkflowReplies(options: {
	response: PushResponse;
	outcome: PushOutcome;
	settings: Pick<PushSettings, 'token' | 'appId' | 'fallbackReply' | 'replyDeadlineMs'>;
	logger: Logger;
	where: IDataObject;
	/** `Date.now`; a parameter so that tests can move the clock. */
	now: () => number;
}): void {
	const { outcome, settings, logger, where, now } = options;
	const response = options.response;
	const writers = options.response as unknown as Record<ResponseWriter, Method>;
	const target = outcome.replyTarget;
	const fallback: StoredReply = { status: outcome.status, contentType: outcome.contentType, body: outcome.body };
	const fallbackName = `the fallback reply (${settings.fallbackReply})`;
	const keys = outcome.rememberedKeys ?? [];
	const startedAt = now();
	let decided = false;
	let answeredAtDeadline = false;
	let writingOurAnswer = false;
	let lateWriteLogged = false;
	let n8nStatus = 200;

	let settle: (answer: StoredReply) => void = () => undefined;
	const pending = new Promise<StoredReply>((resolve) => {
		settle = resolve;
	});
	for (const key of keys) pendingAnswers.set(key, pending);

	for (const name of RESPONSE_WRITERS) {
		const original = writers[name];
		if (typeof original !== 'function') continue;
		// Own properties shadow express's methods on this response object only.
		writers[name] = function (this: unknown, ...args: unknown[]): unknown {
			if (writingOurAnswer) return original.apply(response, args);
			if (name === 'status' || name === 'sendStatus') n8nStatus = Number(args[0]) || n8nStatus;
			if (BODY_WRITERS.has(name)) n8nWrote(name === 'sendStatus' || name === 'end' ? undefined : args[0]);
			return response;
		};
	}

	function decide(answer: StoredReply, logLine: string | undefined): void {
		if (decided) return;
		decided = true;
		for (const key of keys) pendingAnswers.delete(key);
		if (logLine) logger.warn(`WeChat push ${logLine}`, where);
		// The fallback is remembered already; an error answer is forgotten there, so WeChat's next delivery runs it.
		if (answer !== fallback) outcome.rememberAnswer?.(answer, now());
		settle(answer);
		if (response.headersSent) return;
		writingOurAnswer = true;
		try {
			response.status(answer.status).type(answer.contentType).send(answer.body);
		} catch {
			// The connection is gone (WeChat gave up): its next delivery gets the remembered answer.
			logger.warn('WeChat push answer not sent: the connection was closed', where);
		} finally {
			writingOurAnswer = false;
		}
	}

	function n8nWrote(body: unknown): void {
		if (decided) {
			// n8n's own follow-up writes (a stream's end) after its answer was taken are nothing to report.
			if (!answeredAtDeadline || lateWriteLogged) return;
			lateWriteLogged = true;
			logger.warn(
				`WeChat push: the workflow's answer came ${now() - startedAt} ms after the push, after ${fallbackName} had been sent at the ${settings.replyDeadlineMs} ms deadline; it was dropped`,
				where,
			);
			return;
		}
		if (n8nStatus >= 300) {
			const message = n8nMessage(body);
			if (message === EXECUTION_NOT_RUN) {
				decide(
					{ status: 500, contentType: 'text/plain', body: 'n8n could not run the execution' },
					`failed: n8n could not start the execution (HTTP ${n8nStatus}); WeChat's next delivery of this push will run it`,
				);
				return;
			}
			const why = message === WORKFLOW_FAILED ? 'the workflow failed' : 'the workflow ended without a reply';
			decide(fallback, `answered with ${fallbackName}: ${why}`);
			return;
		}
		const reply = readPassiveReply(body);
		if (!reply.ok || !target) {
			const why = reply.ok ? 'no reply target' : reply.reason;
			decide(
				fallback,
				`answered with ${fallbackName}: the last node that ran gave no passive reply (${why}); end each branch with Message → Reply`,
			);
			return;
		}
		if (reply.reply.MsgType === 'transfer_customer_service' && !target.userMessage) {
			decide(
				passiveAnswer(target, reply.reply, settings, now()),
				'answered "success": the workflow replied transfer_customer_service to an event; only user messages can be handed to an agent',
			);
			return;
		}
		decide(passiveAnswer(target, reply.reply, settings, now()), undefined);
	}

	void sleep(settings.replyDeadlineMs).then(() => {
		if (decided) return;
		answeredAtDeadline = true;
		decide(fallback, `answered with ${fallbackName}: the workflow had not replied within ${settings.replyDeadlineMs} ms`);
	});
}
