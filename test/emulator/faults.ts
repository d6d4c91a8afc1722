/**
 * Scripted failures for the next N calls of a path: WeChat errcodes (-1 busy, 45009, 45011, …), slow answers,
 * HTTP errors from a gateway, and dropped connections. Faults are served first-in first-out; a fault without
 * `path` applies to every API path except the two token endpoints, so "the next call fails" does not also hit the
 * token refresh the client makes in response.
 *
 * A recurring fault (`every`) is never used up: it hits every `every`-th matching call from its injection on, as a
 * loaded WeChat fails a share of calls (45011 on 5% of them: `every: 20`). An `errcode` fault with `processed: true`
 * lets the call take effect first (a message is delivered) and then answers the error: WeChat's -1 (系统繁忙) does
 * not say whether the message went out, and a client must not assume either.
 */
export const TOKEN_PATHS: readonly string[] = ['/cgi-bin/token', '/cgi-bin/stable_token'];

interface FaultBase {
	/** Exact request path, e.g. '/cgi-bin/message/custom/send'. Default: any non-token path. */
	path?: string;
	/** How many matching calls it affects; default 1. Not with `every`. */
	times?: number;
	/**
	 * Recurring: hits matching calls number `offset + 1`, `offset + 1 + every`, … counted from the injection (every
	 * matching call counts, also one another fault took), and is never used up.
	 */
	every?: number;
	/** With `every`: how many matching calls pass before the first hit; default 0. */
	offset?: number;
}

export type FaultSpec = FaultBase &
	(
		| {
				kind: 'errcode';
				errcode: number;
				/** `{access_token}` and `{secret}` become the failing request's own values (see echoRequestSecrets). */
				errmsg?: string;
				/** The call takes effect (e.g. the message is delivered), then the error is answered. */
				processed?: boolean;
		  }
		| { kind: 'http'; status: number; body?: string }
		| { kind: 'drop' }
		| { kind: 'slow'; delayMs: number }
	);

/**
 * An errmsg as a proxy in front of WeChat might write it, repeating what the request carried: `{access_token}` is the
 * request's access_token, `{secret}` its AppSecret (query `secret` or JSON `secret`), each empty when absent.
 */
export function echoRequestSecrets(
	errmsg: string | undefined,
	request: { query: Record<string, string>; json?: unknown },
): string | undefined {
	if (errmsg === undefined) return undefined;
	const jsonSecret = (request.json as { secret?: unknown } | undefined)?.secret;
	const secret = request.query.secret ?? (typeof jsonSecret === 'string' ? jsonSecret : '');
	return errmsg.split('{access_token}').join(request.query.access_token ?? '').split('{secret}').join(secret);
}

interface ActiveFault {
	spec: FaultSpec;
	remaining: number;
	/** Recurring faults: matching calls seen since the injection. */
	seen: number;
}

export class FaultQueue {
	private faults: ActiveFault[] = [];

	add(spec: FaultSpec): void {
		validateFault(spec);
		this.faults.push({ spec, remaining: spec.times ?? 1, seen: 0 });
	}

	/**
	 * The fault for this call: the first in order of injection that matches this path and hits it (a one-shot fault
	 * consumes one of its `times`). Every matching recurring fault counts the call, hit or not.
	 */
	take(path: string): FaultSpec | undefined {
		let taken: FaultSpec | undefined;
		for (let index = 0; index < this.faults.length; index++) {
			const fault = this.faults[index];
			const matches = fault.spec.path === undefined ? !TOKEN_PATHS.includes(path) : fault.spec.path === path;
			if (!matches) continue;
			if (fault.spec.every !== undefined) {
				fault.seen += 1;
				const hits = fault.seen > (fault.spec.offset ?? 0) && (fault.seen - 1 - (fault.spec.offset ?? 0)) % fault.spec.every === 0;
				if (hits && taken === undefined) taken = fault.spec;
			} else if (taken === undefined) {
				taken = fault.spec;
				fault.remaining -= 1;
				if (fault.remaining <= 0) this.faults.splice(index--, 1);
			}
		}
		return taken;
	}

	pending(): { spec: FaultSpec; remaining: number }[] {
		return this.faults.map((f) => ({ spec: f.spec, remaining: f.remaining }));
	}

	clear(): void {
		this.faults = [];
	}
}

function validateFault(spec: FaultSpec): void {
	if (spec.times !== undefined && !(Number.isInteger(spec.times) && spec.times >= 1)) {
		throw new Error('fault.times must be an integer >= 1');
	}
	if (spec.every !== undefined) {
		if (!(Number.isInteger(spec.every) && spec.every >= 1)) throw new Error('fault.every must be an integer >= 1');
		if (spec.times !== undefined) throw new Error('fault.every and fault.times exclude each other');
	}
	if (spec.offset !== undefined && !(spec.every !== undefined && Number.isInteger(spec.offset) && spec.offset >= 0)) {
		throw new Error('fault.offset must be an integer >= 0, with fault.every');
	}
	switch (spec.kind) {
		case 'errcode':
			if (!Number.isInteger(spec.errcode)) throw new Error('fault.errcode must be an integer');
			return;
		case 'http':
			if (!(Number.isInteger(spec.status) && spec.status >= 100 && spec.status <= 599)) {
				throw new Error('fault.status must be an HTTP status code');
			}
			return;
		case 'slow':
			if (!(typeof spec.delayMs === 'number' && spec.delayMs >= 0)) throw new Error('fault.delayMs must be >= 0');
			return;
		case 'drop':
			return;
		default:
			throw new Error(`unknown fault kind ${(spec as { kind: unknown }).kind}`);
	}
}
