/**
 * How hard the node presses WeChat: how many requests are in flight at once, and which failures are tried again.
 *
 * n8n's declarative engine starts every item's request at once; 10,000 items were 10,000 simultaneous connections.
 * A limit per credential (one AppID) and process keeps that bounded without timers: a request waits for a free slot.
 * Retries follow what is safe: a frequency limit (45011) and a connection that failed before anything was sent
 * cannot have delivered a message, so they are retried with backoff and jitter; "system busy" (-1) may have been
 * processed, so only reads retry it unless the user opts in. Every retry writes a log line.
 */
import { sleep, type IDataObject } from 'n8n-workflow';

import { failedBeforeSending } from '../../shared/neverSent';

export interface RequestPolicy {
	/** Requests of this credential allowed in flight at once in this process. */
	maxInFlight: number;
	/** Retries per request after a frequency limit, a busy answer (when allowed) or a connection that never opened. */
	maxRetries: number;
	/** Whether -1 (system busy) is retried: always for reads; for a send only when the user accepts a possible repeat. */
	retryWhenBusy: boolean;
	/**
	 * Options → Same Credential for Every Item: the credential is read once per node run and shared by its items
	 * (helpers/operation.ts). Off by default, because n8n resolves a credential's expressions for each item.
	 */
	sameCredentialForEveryItem: boolean;
}

export const DEFAULT_MAX_IN_FLIGHT = 20;
export const DEFAULT_MAX_RETRIES = 3;
const BACKOFF_BASE_MS = 1000;

/** Reads the node's Options (n8n's `requestOptions` collection, which this node adds its own controls to). */
export function readRequestPolicy(options: IDataObject, operationIsRead: boolean): RequestPolicy {
	const whole = (value: unknown, fallback: number, min: number) => {
		const number = Number(value ?? fallback);
		return Number.isInteger(number) && number >= min ? number : fallback;
	};
	return {
		maxInFlight: whole(options.maxInFlight, DEFAULT_MAX_IN_FLIGHT, 1),
		maxRetries: Math.min(whole(options.maxRetries, DEFAULT_MAX_RETRIES, 0), 10),
		retryWhenBusy: operationIsRead || options.retryBusySends === true,
		sameCredentialForEveryItem: options.sameCredentialForEveryItem === true,
	};
}

/** A counting semaphore: `acquire` resolves when a slot is free; `release` hands the slot to the next in line. */
class InFlightLimit {
	private active = 0;

	private readonly waiting: Array<() => void> = [];

	constructor(public max: number) {}

	async acquire(): Promise<void> {
		if (this.active < this.max) {
			this.active++;
			return;
		}
		await new Promise<void>((resolve) => this.waiting.push(resolve));
	}

	release(): void {
		const next = this.waiting.shift();
		if (next) next();
		else this.active--;
	}
}

const limits = new Map<string, InFlightLimit>();

/** Runs `request` when fewer than `max` requests of this credential are in flight in this process. */
export async function withInFlightLimit<T>(credentialKey: string, max: number, request: () => Promise<T>): Promise<T> {
	let limit = limits.get(credentialKey);
	if (!limit) {
		limit = new InFlightLimit(max);
		limits.set(credentialKey, limit);
	}
	// The latest setting wins for requests that start from now on.
	limit.max = max;
	await limit.acquire();
	try {
		return await request();
	} finally {
		limit.release();
	}
}

/** WeChat's frequency limit (API 调用太频繁): nothing was done, try later. */
const FREQUENCY_LIMIT = 45011;
/** 系统繁忙: the request may or may not have been processed. */
const SYSTEM_BUSY = -1;
export type RetryReason = 'frequency limit (45011)' | 'system busy (-1)' | 'connection failed before sending';

/** Why this error may be retried under `policy`, or undefined when it must not be. */
export function retryReason(error: unknown, policy: RequestPolicy): RetryReason | undefined {
	const errcode = (error as { errcode?: unknown } | null)?.errcode;
	if (errcode === FREQUENCY_LIMIT) return 'frequency limit (45011)';
	if (errcode === SYSTEM_BUSY && policy.retryWhenBusy) return 'system busy (-1)';
	if (failedBeforeSending(error)) return 'connection failed before sending';
	return undefined;
}

/** Exponential backoff with jitter: about 1 s, 2 s, 4 s …, each between half and one and a half of that. */
export async function backOff(attempt: number): Promise<number> {
	const delay = Math.round(BACKOFF_BASE_MS * 2 ** attempt * (0.5 + Math.random()));
	await sleep(delay);
	return delay;
}
