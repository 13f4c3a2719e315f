// The daemon's license work, planned (DESIGN §4.2, §4.4, §4.7; STYLE plan-then-execute): given
// what the agent knows now — the installed token, whether it has a server link, how the last
// attempts went — decide what to do now (renew the token, fetch the revocation list) and when
// to wake up next. Pure: the runner (agent/src/daemon/license-keeper.ts) gathers the facts,
// carries the plan out and feeds the outcomes back through afterRenewal/afterRevocationFetch.
//
// Rules (numbers are the defaults; the config file may move them within bounds, config.ts):
// - Renewal (online tokens only: an air-gapped token without a server link is never renewed
//   online). Due when the token is 7 days old or within 23 days of its `exp` — for the usual
//   30-day online token both mean "a week after issue" — but never sooner than 1 day after its
//   `iat` or after the last successful renewal (a token capped at the license's end is always
//   within 23 days of `exp`: without the spacing it would be renewed on every wake-up).
// - A server that cannot be reached, or answers 5xx / 429 / nonsense: exponential backoff with
//   full jitter (domain/backoff.ts: base 30 s, cap 6 h), reset by a success.
// - A 4xx refusal (REVOKED, DEVICE_MISMATCH, …) is final for that token: no backoff, no
//   hammering; the same token is offered again only after 24 h. A newly installed token (another
//   jti) is not held back by its predecessor's refusal.
// - Revocation list: fetched at start and then every hour; backoff on failure like renewal.
// - Wake-up: the earliest of the renewal and revocation due times, the next moment the mode can
//   change by itself (token exp, grace end, trial end), and the check interval (10 min) — the
//   loop re-evaluates the license at every wake-up, so an operator's `license install` or a
//   hardware change is noticed within it.
import type { ErrorCode } from '../../../common/errors.ts';
import { DEFAULT_BACKOFF, NO_RETRY, recordFailure, type BackoffPolicy, type RandomUnit, type RetryState } from './backoff.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

export interface RenewalPolicy {
  /** Renew a token this old (7 days). */
  readonly renewAfterMs: number;
  /** Renew a token this close to its exp (23 days). */
  readonly renewBeforeExpiryMs: number;
  /** Never renew sooner than this after the token's iat or the last renewal (1 day). */
  readonly minRenewalSpacingMs: number;
  /** After a 4xx refusal, offer the same token again after this long (24 h). */
  readonly retryAfterRefusalMs: number;
  /** Fetch the revocation list this often (1 h). */
  readonly revocationIntervalMs: number;
  /** Wake up and re-evaluate at least this often (10 min). */
  readonly checkIntervalMs: number;
  readonly backoff: BackoffPolicy;
}

export const DEFAULT_RENEWAL_POLICY: RenewalPolicy = Object.freeze({
  renewAfterMs: 7 * DAY_MS,
  renewBeforeExpiryMs: 23 * DAY_MS,
  minRenewalSpacingMs: DAY_MS,
  retryAfterRefusalMs: 24 * HOUR_MS,
  revocationIntervalMs: HOUR_MS,
  checkIntervalMs: 10 * MINUTE_MS,
  backoff: DEFAULT_BACKOFF,
});

/** The installed token, as the planner needs it (from its verified claims). */
export interface InstalledTokenFacts {
  readonly jti: string;
  readonly licenseId: string;
  readonly iatMs: number;
  readonly expMs: number;
}

export interface LicenseWorkFacts {
  readonly nowMs: number;
  /** The installed token that verified; null when none is installed (or it does not verify). */
  readonly token: InstalledTokenFacts | null;
  /** The token can be renewed online: the server link belongs to its license. */
  readonly renewOnline: boolean;
  /** A server to fetch the revocation list from is known (link or config). */
  readonly revocationSource: boolean;
  /** Moments the mode may change without a new fact: token exp, grace end, trial end. */
  readonly modeBoundariesMs: readonly number[];
}

export interface RenewalRefusal {
  readonly jti: string;
  readonly code: ErrorCode;
  readonly atMs: number;
}

export interface RenewalJobState extends RetryState {
  readonly lastSuccessAtMs: number | null;
  /** The last final refusal (4xx) and the token it was about. */
  readonly refusal: RenewalRefusal | null;
}

export interface RevocationJobState extends RetryState {
  /** Last fetch that got an answer (a list, or a final refusal); null: not yet in this run. */
  readonly lastAnsweredAtMs: number | null;
}

export interface LicenseWorkState {
  readonly renewal: RenewalJobState;
  readonly revocations: RevocationJobState;
}

export const INITIAL_WORK_STATE: LicenseWorkState = Object.freeze({
  renewal: Object.freeze({ ...NO_RETRY, lastSuccessAtMs: null, refusal: null }),
  revocations: Object.freeze({ ...NO_RETRY, lastAnsweredAtMs: null }),
});

export type LicenseAction = 'renew' | 'fetch-revocations';

export type RenewalReason = 'age' | 'expiry';

export interface LicenseWorkPlan {
  /** What to do now, in this order; the runner re-evaluates the license after them. */
  readonly actions: readonly LicenseAction[];
  /** Why the token is due (for the log); null when no renewal is planned now. */
  readonly renewalReason: RenewalReason | null;
  /** When the next renewal is due (ms); null: never (no token, or no online renewal). */
  readonly renewalDueAtMs: number | null;
  /** When the next revocation fetch is due (ms); null: no server known. */
  readonly revocationsDueAtMs: number | null;
  /** When to wake up next (ms), > nowMs unless an action is due now. */
  readonly wakeAtMs: number;
}

/** When the installed token should next be renewed online; null when it never is. */
export function renewalDueAtMs(
  facts: Pick<LicenseWorkFacts, 'token' | 'renewOnline'>,
  state: RenewalJobState,
  policy: RenewalPolicy = DEFAULT_RENEWAL_POLICY,
): number | null {
  const { token } = facts;
  if (token === null || !facts.renewOnline) return null;
  const byAge = token.iatMs + policy.renewAfterMs;
  const byExpiry = token.expMs - policy.renewBeforeExpiryMs;
  let due = Math.max(token.iatMs + policy.minRenewalSpacingMs, Math.min(byAge, byExpiry));
  if (state.lastSuccessAtMs !== null) due = Math.max(due, state.lastSuccessAtMs + policy.minRenewalSpacingMs);
  if (state.refusal !== null && state.refusal.jti === token.jti) due = Math.max(due, state.refusal.atMs + policy.retryAfterRefusalMs);
  if (state.retryAtMs !== null) due = Math.max(due, state.retryAtMs);
  return due;
}

/** When the revocation list should next be fetched; null without a server. */
export function revocationsDueAtMs(
  facts: Pick<LicenseWorkFacts, 'revocationSource' | 'nowMs'>,
  state: RevocationJobState,
  policy: RenewalPolicy = DEFAULT_RENEWAL_POLICY,
): number | null {
  if (!facts.revocationSource) return null;
  const due = state.lastAnsweredAtMs === null ? facts.nowMs : state.lastAnsweredAtMs + policy.revocationIntervalMs;
  return state.retryAtMs === null ? due : Math.max(due, state.retryAtMs);
}

export function planLicenseWork(facts: LicenseWorkFacts, state: LicenseWorkState, policy: RenewalPolicy = DEFAULT_RENEWAL_POLICY): LicenseWorkPlan {
  const { nowMs } = facts;
  const renewalDue = renewalDueAtMs(facts, state.renewal, policy);
  const revocationsDue = revocationsDueAtMs(facts, state.revocations, policy);
  const actions: LicenseAction[] = [];
  let renewalReason: RenewalReason | null = null;
  if (renewalDue !== null && renewalDue <= nowMs && facts.token) {
    actions.push('renew');
    renewalReason = nowMs >= facts.token.iatMs + policy.renewAfterMs ? 'age' : 'expiry';
  }
  // Revocations after the renewal: a refresh refused as REVOKED is then confirmed by the list.
  if (revocationsDue !== null && revocationsDue <= nowMs) actions.push('fetch-revocations');

  const candidates = [nowMs + policy.checkIntervalMs, ...facts.modeBoundariesMs.filter((t) => t > nowMs)];
  if (renewalDue !== null && renewalDue > nowMs) candidates.push(renewalDue);
  if (revocationsDue !== null && revocationsDue > nowMs) candidates.push(revocationsDue);
  return {
    actions,
    renewalReason,
    renewalDueAtMs: renewalDue,
    revocationsDueAtMs: revocationsDue,
    wakeAtMs: actions.length > 0 ? nowMs : Math.min(...candidates),
  };
}

/**
 * How a call to the license server went, as the planner sees it:
 * - `ok`: answered and the answer was used;
 * - `unavailable`: unreachable, timed out, 5xx, 429, or an answer that does not decode — retry
 *   with backoff;
 * - `refused`: a 4xx with a catalogue code (or the agent refused what came back, e.g. a token
 *   for another device) — final for this token/list.
 */
export type ServerOutcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'unavailable'; readonly code: ErrorCode }
  | { readonly kind: 'refused'; readonly code: ErrorCode };

/** The state after a renewal attempt at `nowMs` for the token `jti`. */
export function afterRenewal(
  state: LicenseWorkState,
  outcome: ServerOutcome,
  at: { readonly nowMs: number; readonly jti: string },
  random: RandomUnit,
  policy: RenewalPolicy = DEFAULT_RENEWAL_POLICY,
): LicenseWorkState {
  const r = state.renewal;
  switch (outcome.kind) {
    case 'ok':
      return { ...state, renewal: { ...NO_RETRY, lastSuccessAtMs: at.nowMs, refusal: null } };
    case 'unavailable':
      return { ...state, renewal: { ...r, ...recordFailure(r, at.nowMs, random, policy.backoff) } };
    case 'refused':
      return { ...state, renewal: { ...r, ...NO_RETRY, refusal: { jti: at.jti, code: outcome.code, atMs: at.nowMs } } };
  }
}

/** The state after a revocation fetch at `nowMs`. A refusal waits the normal interval. */
export function afterRevocationFetch(
  state: LicenseWorkState,
  outcome: ServerOutcome,
  nowMs: number,
  random: RandomUnit,
  policy: RenewalPolicy = DEFAULT_RENEWAL_POLICY,
): LicenseWorkState {
  const r = state.revocations;
  if (outcome.kind === 'unavailable') {
    return { ...state, revocations: { ...r, ...recordFailure(r, nowMs, random, policy.backoff) } };
  }
  return { ...state, revocations: { ...NO_RETRY, lastAnsweredAtMs: nowMs } };
}

/** An HTTP answer's status and code, classified: retry with backoff, or take it as final. */
export function classifyServerFailure(failure: { readonly status: number | null; readonly code: ErrorCode }): ServerOutcome {
  if (failure.status === null || failure.status >= 500 || failure.status === 429 || failure.status === 408) {
    return { kind: 'unavailable', code: failure.code };
  }
  if (failure.code === 'SERVER_UNREACHABLE' || failure.code === 'SERVER_ERROR' || failure.code === 'RATE_LIMITED') {
    return { kind: 'unavailable', code: failure.code };
  }
  return { kind: 'refused', code: failure.code };
}

/**
 * How far the device clock may differ from the server's `serverTimeMs` (request round trip
 * included) for the server's word to make the clock trusted (DESIGN §4.4).
 */
export const SERVER_TIME_TOLERANCE_MS = 2 * MINUTE_MS;

/** The server told the time and the device clock agrees with it. */
export function serverTimeAgrees(deviceNowMs: number, serverTimeMs: number, toleranceMs = SERVER_TIME_TOLERANCE_MS): boolean {
  return Math.abs(deviceNowMs - serverTimeMs) <= toleranceMs;
}
