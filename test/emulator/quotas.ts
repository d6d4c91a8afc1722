/**
 * Daily call quotas per API path (WeChat's 接口调用次数, reset at midnight Beijing time and by /cgi-bin/clear_quota).
 * Over the limit the API answers 45009. Only token endpoints have a limit by default (classic 2000/day, stable
 * 500000/day); tests set others with setDailyQuota.
 */
import { beijingDay } from './tokens';

export const DEFAULT_DAILY_QUOTAS: Readonly<Record<string, number>> = {
	'/cgi-bin/token': 2000,
	'/cgi-bin/stable_token': 500000,
};

export class DailyQuotas {
	private limits = new Map<string, number>(Object.entries(DEFAULT_DAILY_QUOTAS));
	private counters = new Map<string, { day: number; count: number }>();

	constructor(private readonly now: () => number) {}

	setLimit(path: string, perDay: number | undefined): void {
		if (perDay === undefined) this.limits.delete(path);
		else this.limits.set(path, perDay);
	}

	/** Counts one call; false when it is over today's limit. */
	take(path: string): boolean {
		const limit = this.limits.get(path);
		if (limit === undefined) return true;
		const day = beijingDay(this.now());
		const counter = this.counters.get(path);
		const current = counter && counter.day === day ? counter : { day, count: 0 };
		current.count += 1;
		this.counters.set(path, current);
		return current.count <= limit;
	}

	used(path: string): number {
		const counter = this.counters.get(path);
		return counter && counter.day === beijingDay(this.now()) ? counter.count : 0;
	}

	clearCounters(): void {
		this.counters.clear();
	}

	reset(): void {
		this.counters.clear();
		this.limits = new Map(Object.entries(DEFAULT_DAILY_QUOTAS));
	}
}
