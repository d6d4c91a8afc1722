/**
 * Counts the expressions n8n's engine evaluates (every parameter value starting with `=` that goes through
 * `Expression#resolveSimpleParameterValue`), for the per-item cost tests. Installed around each test of the calling
 * file or suite by `countExpressionEvaluations()`.
 */
import { afterEach, beforeEach } from 'node:test';
import { Expression } from 'n8n-workflow';

type Resolve = (value: unknown, ...rest: unknown[]) => unknown;

/** Returns the list of expressions evaluated during the current test, emptied before each test. */
export function countExpressionEvaluations(): { readonly list: string[] } {
	const counted = { list: [] as string[] };
	const prototype = Expression.prototype as unknown as { resolveSimpleParameterValue: Resolve };
	const original = prototype.resolveSimpleParameterValue;
	beforeEach(() => {
		counted.list = [];
		prototype.resolveSimpleParameterValue = function (this: unknown, value: unknown, ...rest: unknown[]) {
			if (typeof value === 'string' && value.startsWith('=')) counted.list.push(value);
			return original.call(this, value, ...rest);
		};
	});
	afterEach(() => {
		prototype.resolveSimpleParameterValue = original;
	});
	return counted;
}
