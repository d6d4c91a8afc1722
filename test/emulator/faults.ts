/**
 * Scripted failures for the next N calls of a path: WeChat errcodes (-1 busy, 45009, 45011, …), slow answers,
 * HTTP errors from a gateway, and dropped connections. Faults are served first-in first-out; a fault without
 * `path` applies to every API path except the two token endpoints, so "the next call fails" does not also hit the
 * token refresh the client makes in response.
 */
export const TOKEN_PATHS: readonly string[] = ['/cgi-bin/token', '/cgi-bin/stable_token'];

interface FaultBase {
	/** Exact request path, e.g. '/cgi-bin/message/custom/send'. Default: any non-token path. */
	path?: string;
	/** How many matching calls it affects; default 1. */
	times?: number;
}

export type FaultSpec = FaultBase &
	(
		| {
				kind: 'errcode';
				errcode: number;
				/** `{access_token}` and `{secret}` become the failing request's own values (see echoRequestSecrets). */
				errmsg?: string;
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
}

export class FaultQueue {
	private faults: ActiveFault[] = [];

	add(spec: FaultSpec): void {
		validateFault(spec);
		this.faults.push({ spec, remaining: spec.times ?? 1 });
	}

	/** Takes the first fault that matches this path (consuming one of its `times`). */
	take(path: string): FaultSpec | undefined {
		const index = this.faults.findIndex((f) =>
			f.spec.path === undefined ? !TOKEN_PATHS.includes(path) : f.spec.path === path,
		);
		if (index < 0) return undefined;
		const fault = this.faults[index];
		fault.remaining -= 1;
		if (fault.remaining <= 0) this.faults.splice(index, 1);
		return fault.spec;
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
