/**
 * Access tokens as WeChat issues and checks them.
 *
 * - Classic `/cgi-bin/token`: every call issues a new token; the previous one keeps working for a 5-minute grace
 *   period and then answers 40001 ("not latest"). This is why two systems sharing an AppID log each other out.
 * - Stable `/cgi-bin/stable_token`: the same token for everyone while valid; a new one is issued 5 minutes before
 *   expiry (old and new overlap); `force_refresh: true` invalidates it at once, at most 20 times a day and 30 s apart.
 * - The two families are independent: neither call invalidates the other's tokens.
 */
import { randomBytes } from 'node:crypto';
import { MINUTE, SECOND } from './state';

export type TokenKind = 'classic' | 'stable';

export interface IssuedToken {
	value: string;
	kind: TokenKind;
	issuedAt: number;
	expiresAt: number;
	/** Classic only: set when a newer classic token replaced it. */
	graceUntil?: number;
	revoked: boolean;
	/** Set by expireCurrentToken(): answers 42001 as if its 7200 s had passed. */
	forcedExpired: boolean;
}

export type TokenCheck = { ok: true; token: IssuedToken } | { ok: false; errcode: 40001 | 42001 };

export const TOKEN_LIFETIME = 7200 * SECOND;
export const CLASSIC_GRACE = 5 * MINUTE;
export const STABLE_ROTATE_BEFORE = 5 * MINUTE;
export const FORCE_REFRESH_PER_DAY = 20;
export const FORCE_REFRESH_MIN_GAP = 30 * SECOND;

/** Real tokens look like "78_" + ~130 URL-safe characters; clients must store ≥ 512 chars. */
function makeTokenValue(): string {
	const prefix = 70 + Math.floor(Math.random() * 20);
	return `${prefix}_${randomBytes(100).toString('base64url')}`; // 3 + 134 = 137 chars
}

/** The day WeChat's daily limits reset on: midnight Beijing time (UTC+8). */
export function beijingDay(ms: number): number {
	return Math.floor((ms + 8 * 60 * MINUTE) / (24 * 60 * MINUTE));
}

export class TokenService {
	readonly issued = new Map<string, IssuedToken>();
	private classicCurrent?: IssuedToken;
	private stableCurrent?: IssuedToken;
	/** revokeCurrentToken({ stableKeepsReturningIt: true }): normal mode keeps handing out the revoked token. */
	private stableSticky = false;
	private forceRefreshTimes: number[] = [];

	constructor(private readonly now: () => number) {}

	reset(): void {
		this.issued.clear();
		this.classicCurrent = undefined;
		this.stableCurrent = undefined;
		this.stableSticky = false;
		this.forceRefreshTimes = [];
	}

	check(value: string): TokenCheck {
		const token = this.issued.get(value);
		const now = this.now();
		if (!token || token.revoked) return { ok: false, errcode: 40001 };
		if (token.forcedExpired || now >= token.expiresAt) return { ok: false, errcode: 42001 };
		if (token.graceUntil !== undefined && now >= token.graceUntil) return { ok: false, errcode: 40001 };
		return { ok: true, token };
	}

	issueClassic(): { access_token: string; expires_in: number } {
		const now = this.now();
		if (this.classicCurrent && this.classicCurrent.graceUntil === undefined) {
			this.classicCurrent.graceUntil = Math.min(this.classicCurrent.expiresAt, now + CLASSIC_GRACE);
		}
		this.classicCurrent = this.issue('classic', now);
		return { access_token: this.classicCurrent.value, expires_in: 7200 };
	}

	/**
	 * Stable token. Returns an errcode when force_refresh breaks its limits:
	 * 45009 after 20 forced refreshes in a (Beijing) day, 45011 when the previous one was less than 30 s ago.
	 */
	issueStable(forceRefresh: boolean): { access_token: string; expires_in: number } | { errcode: 45009 | 45011 } {
		const now = this.now();
		if (forceRefresh) {
			const today = beijingDay(now);
			this.forceRefreshTimes = this.forceRefreshTimes.filter((t) => beijingDay(t) === today);
			if (this.forceRefreshTimes.length >= FORCE_REFRESH_PER_DAY) return { errcode: 45009 };
			const last = this.forceRefreshTimes[this.forceRefreshTimes.length - 1];
			if (last !== undefined && now - last < FORCE_REFRESH_MIN_GAP) return { errcode: 45011 };
			this.forceRefreshTimes.push(now);
			if (this.stableCurrent) this.stableCurrent.revoked = true;
			this.stableSticky = false;
			this.stableCurrent = this.issue('stable', now);
		} else {
			const current = this.stableCurrent;
			const keepRevoked = this.stableSticky && current !== undefined;
			if (!keepRevoked) {
				if (!current || !this.check(current.value).ok || now >= current.expiresAt - STABLE_ROTATE_BEFORE) {
					// The old one (if still valid) keeps working until its own expiry: the 5-minute overlap.
					this.stableCurrent = this.issue('stable', now);
				}
			}
		}
		const token = this.stableCurrent as IssuedToken;
		// Rounded up: a token fetched 5 ms ago still reports 7200, as WeChat's whole-second answers do.
		return { access_token: token.value, expires_in: Math.max(0, Math.ceil((token.expiresAt - now) / 1000)) };
	}

	/** Every token that works right now answers 42001 from now on. */
	expireAllValid(): number {
		let n = 0;
		for (const token of this.issued.values()) {
			if (this.check(token.value).ok) {
				token.forcedExpired = true;
				n++;
			}
		}
		return n;
	}

	/** Every token that works right now answers 40001 from now on. */
	revokeAllValid(options: { stableKeepsReturningIt?: boolean } = {}): number {
		let n = 0;
		for (const token of this.issued.values()) {
			if (this.check(token.value).ok) {
				token.revoked = true;
				n++;
			}
		}
		this.stableSticky = options.stableKeepsReturningIt === true;
		return n;
	}

	currentClassic(): IssuedToken | undefined {
		return this.classicCurrent;
	}

	currentStable(): IssuedToken | undefined {
		return this.stableCurrent;
	}

	/** `now` is the caller's: one request reads the clock once, so a fresh token reports exactly its lifetime. */
	private issue(kind: TokenKind, now = this.now()): IssuedToken {
		const token: IssuedToken = {
			value: makeTokenValue(),
			kind,
			issuedAt: now,
			expiresAt: now + TOKEN_LIFETIME,
			revoked: false,
			forcedExpired: false,
		};
		this.issued.set(token.value, token);
		return token;
	}
}
