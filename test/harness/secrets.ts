import assert from 'node:assert/strict';

/**
 * Every string reachable from a value: own properties enumerable or not (n8n errors keep `cause`, `errorResponse`
 * and `context` as such), array entries, Map/Set members, and each error's JSON form. Cycles are visited once.
 */
export function reachableStrings(value: unknown): string[] {
	const strings: string[] = [];
	const seen = new WeakSet<object>();
	const visit = (current: unknown, depth: number): void => {
		if (depth > 40) return;
		if (typeof current === 'string') {
			strings.push(current);
			return;
		}
		if (typeof current !== 'object' || current === null) return;
		if (seen.has(current)) return;
		seen.add(current);
		if (current instanceof Map) {
			for (const [key, entry] of current) {
				visit(key, depth + 1);
				visit(entry, depth + 1);
			}
			return;
		}
		if (current instanceof Set) {
			for (const entry of current) visit(entry, depth + 1);
			return;
		}
		if (Buffer.isBuffer(current) || ArrayBuffer.isView(current)) return;
		for (const key of Object.getOwnPropertyNames(current)) {
			let property: unknown;
			try {
				property = (current as Record<string, unknown>)[key];
			} catch {
				continue;
			}
			visit(property, depth + 1);
		}
		const toJSON = (current as { toJSON?: () => unknown }).toJSON;
		if (typeof toJSON === 'function') {
			try {
				strings.push(JSON.stringify(toJSON.call(current)));
			} catch {
				// Some objects (sockets) refuse; their fields were visited above.
			}
		}
	};
	visit(value, 0);
	return strings;
}

/** Fails naming the secret's kind (never the secret) when any reachable string contains one of the secrets. */
export function assertNoSecrets(value: unknown, secrets: Record<string, string | undefined>): void {
	const strings = reachableStrings(value);
	for (const [kind, secret] of Object.entries(secrets)) {
		if (!secret) continue;
		const leaking = strings.find((text) => text.includes(secret));
		assert.equal(
			leaking === undefined,
			true,
			`the ${kind} leaked into: ${leaking?.split(secret).join('<' + kind + '>').slice(0, 300)}`,
		);
	}
}
