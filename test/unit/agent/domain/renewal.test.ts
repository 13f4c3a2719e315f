// The daemon's license work planning (agent/src/domain/renewal.ts): when a token is renewed,
// when the revocation list is fetched, what a failure or a refusal does to the schedule, and
// when the daemon wakes up. Pure: facts in, plan out.
import { describe, expect, it } from 'vitest';
import {
  afterRenewal,
  afterRevocationFetch,
  classifyServerFailure,
  DEFAULT_RENEWAL_POLICY,
  INITIAL_WORK_STATE,
  planLicenseWork,
  renewalDueAtMs,
  serverTimeAgrees,
  type InstalledTokenFacts,
  type LicenseWorkFacts,
  type LicenseWorkState,
} from '../../../../agent/src/domain/renewal.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T = Date.UTC(2026, 8, 1, 12, 0, 0);

const token = (over: Partial<InstalledTokenFacts> = {}): InstalledTokenFacts => ({
  jti: 'tok-1',
  licenseId: 'lic-1',
  iatMs: T,
  expMs: T + 30 * DAY,
  ...over,
});

const facts = (nowMs: number, over: Partial<LicenseWorkFacts> = {}): LicenseWorkFacts => ({
  nowMs,
  token: token(),
  renewOnline: true,
  revocationSource: false,
  modeBoundariesMs: [],
  ...over,
});

const half = (): number => 0.5;

describe('renewal due time', () => {
  it('the defaults: renew after 7 days, within 23 days of exp, not sooner than 1 day, retry a refusal after 24 h, revocations hourly, check every 10 min', () => {
    expect(DEFAULT_RENEWAL_POLICY).toMatchObject({
      renewAfterMs: 7 * DAY,
      renewBeforeExpiryMs: 23 * DAY,
      minRenewalSpacingMs: DAY,
      retryAfterRefusalMs: 24 * HOUR,
      revocationIntervalMs: HOUR,
      checkIntervalMs: 10 * MIN,
    });
  });

  it('a 30-day online token is renewed 7 days after its issue, not a moment earlier', () => {
    expect(renewalDueAtMs(facts(T), INITIAL_WORK_STATE.renewal)).toBe(T + 7 * DAY);
    const before = planLicenseWork(facts(T + 7 * DAY - 1), INITIAL_WORK_STATE);
    expect(before.actions).toEqual([]);
    expect(before.wakeAtMs).toBe(T + 7 * DAY); // 1 ms later: the due time comes before the next check
    const early = planLicenseWork(facts(T + 6 * DAY), INITIAL_WORK_STATE);
    expect(early.wakeAtMs).toBe(T + 6 * DAY + 10 * MIN); // a day early: the check interval comes first
    const at = planLicenseWork(facts(T + 7 * DAY), INITIAL_WORK_STATE);
    expect(at.actions).toEqual(['renew']);
    expect(at.renewalReason).toBe('age');
    expect(at.wakeAtMs).toBe(T + 7 * DAY);
  });

  it('the wake-up lands exactly on the due time when it comes before the next check', () => {
    const plan = planLicenseWork(facts(T + 7 * DAY - 3 * MIN), INITIAL_WORK_STATE);
    expect(plan.actions).toEqual([]);
    expect(plan.wakeAtMs).toBe(T + 7 * DAY);
  });

  it('a token capped at the license end (exp 10 days after issue) is renewed by expiry, but only 1 day after issue and then daily', () => {
    const f = facts(T, { token: token({ expMs: T + 10 * DAY }) });
    expect(renewalDueAtMs(f, INITIAL_WORK_STATE.renewal)).toBe(T + DAY);
    const at = planLicenseWork({ ...f, nowMs: T + DAY }, INITIAL_WORK_STATE);
    expect(at.actions).toEqual(['renew']);
    expect(at.renewalReason).toBe('expiry');
    // The server answered with the same capped token: no renewal again before a day has passed.
    const after = afterRenewal(INITIAL_WORK_STATE, { kind: 'ok' }, { nowMs: T + DAY, jti: 'tok-1' }, half);
    expect(renewalDueAtMs(f, after.renewal)).toBe(T + 2 * DAY);
  });

  it('an expired token (in grace) is renewed at once', () => {
    const f = facts(T + 31 * DAY, { token: token({ iatMs: T, expMs: T + 30 * DAY }) });
    expect(planLicenseWork(f, INITIAL_WORK_STATE).actions).toEqual(['renew']);
  });

  it('an air-gapped token (no server link for its license) is never renewed online', () => {
    const f = facts(T + 300 * DAY, { renewOnline: false, token: token({ expMs: T + 365 * DAY }) });
    expect(renewalDueAtMs(f, INITIAL_WORK_STATE.renewal)).toBeNull();
    const plan = planLicenseWork(f, INITIAL_WORK_STATE);
    expect(plan.actions).toEqual([]);
    expect(plan.renewalDueAtMs).toBeNull();
  });

  it('no token, nothing to renew', () => {
    expect(planLicenseWork(facts(T, { token: null }), INITIAL_WORK_STATE).actions).toEqual([]);
  });

  it('the policy is a parameter: renew after 3 days', () => {
    const policy = { ...DEFAULT_RENEWAL_POLICY, renewAfterMs: 3 * DAY };
    expect(renewalDueAtMs(facts(T), INITIAL_WORK_STATE.renewal, policy)).toBe(T + 3 * DAY);
  });
});

describe('renewal failures and refusals', () => {
  it('unavailable: backoff 30 s · 2^n with full jitter (random 0.5 → 15 s, 30 s, 60 s …), reset by a success', () => {
    let now = T + 7 * DAY;
    let state: LicenseWorkState = INITIAL_WORK_STATE;
    const gaps: number[] = [];
    for (let i = 0; i < 12; i++) {
      const plan = planLicenseWork(facts(now), state);
      expect(plan.actions).toEqual(['renew']);
      state = afterRenewal(state, { kind: 'unavailable', code: 'SERVER_UNREACHABLE' }, { nowMs: now, jti: 'tok-1' }, half);
      const next = planLicenseWork(facts(now), state);
      expect(next.actions).toEqual([]);
      const due = next.renewalDueAtMs!;
      gaps.push(due - now);
      now = due;
    }
    expect(gaps).toEqual([15_000, 30_000, MIN, 2 * MIN, 4 * MIN, 8 * MIN, 16 * MIN, 32 * MIN, 64 * MIN, 128 * MIN, 3 * HOUR, 3 * HOUR]);
    expect(state.renewal.failures).toBe(12);
    state = afterRenewal(state, { kind: 'ok' }, { nowMs: now, jti: 'tok-1' }, half);
    expect(state.renewal).toMatchObject({ failures: 0, retryAtMs: null, lastSuccessAtMs: now, refusal: null });
  });

  it('while backing off, the wake-up is the retry time when it comes before the next check', () => {
    const now = T + 7 * DAY;
    const state = afterRenewal(INITIAL_WORK_STATE, { kind: 'unavailable', code: 'SERVER_ERROR' }, { nowMs: now, jti: 'tok-1' }, half);
    expect(planLicenseWork(facts(now), state).wakeAtMs).toBe(now + 15_000);
  });

  it('a refusal is final for the token: no backoff, the same token is offered again only after 24 h', () => {
    const now = T + 7 * DAY;
    const state = afterRenewal(INITIAL_WORK_STATE, { kind: 'refused', code: 'REVOKED' }, { nowMs: now, jti: 'tok-1' }, half);
    expect(state.renewal).toMatchObject({ failures: 0, retryAtMs: null, refusal: { jti: 'tok-1', code: 'REVOKED', atMs: now } });
    expect(renewalDueAtMs(facts(now), state.renewal)).toBe(now + 24 * HOUR);
    for (const t of [now + 1, now + HOUR, now + 24 * HOUR - 1]) expect(planLicenseWork(facts(t), state).actions).toEqual([]);
    expect(planLicenseWork(facts(now + 24 * HOUR), state).actions).toEqual(['renew']);
  });

  it("a newly installed token is not held back by its predecessor's refusal", () => {
    const now = T + 7 * DAY;
    const state = afterRenewal(INITIAL_WORK_STATE, { kind: 'refused', code: 'DEVICE_MISMATCH' }, { nowMs: now, jti: 'tok-1' }, half);
    const other = facts(now + HOUR, { token: token({ jti: 'tok-2', iatMs: T - DAY }) });
    expect(planLicenseWork(other, state).actions).toEqual(['renew']);
  });
});

describe('revocation list fetches', () => {
  it('at start, then every hour after an answer; none without a server', () => {
    const f = facts(T, { revocationSource: true, renewOnline: false });
    expect(planLicenseWork(f, INITIAL_WORK_STATE).actions).toEqual(['fetch-revocations']);
    const state = afterRevocationFetch(INITIAL_WORK_STATE, { kind: 'ok' }, T, half);
    const next = planLicenseWork(f, state);
    expect(next.actions).toEqual([]);
    expect(next.revocationsDueAtMs).toBe(T + HOUR);
    expect(planLicenseWork({ ...f, nowMs: T + HOUR }, state).actions).toEqual(['fetch-revocations']);
    expect(planLicenseWork(facts(T, { revocationSource: false }), INITIAL_WORK_STATE).revocationsDueAtMs).toBeNull();
  });

  it('backs off when the server is unavailable; a refusal waits the normal interval', () => {
    const f = facts(T, { revocationSource: true, renewOnline: false });
    const failed = afterRevocationFetch(INITIAL_WORK_STATE, { kind: 'unavailable', code: 'SERVER_UNREACHABLE' }, T, half);
    expect(planLicenseWork(f, failed).revocationsDueAtMs).toBe(T + 15_000);
    const refused = afterRevocationFetch(failed, { kind: 'refused', code: 'SIGNATURE_INVALID' }, T + 15_000, half);
    expect(refused.revocations.failures).toBe(0);
    expect(planLicenseWork({ ...f, nowMs: T + 15_000 }, refused).revocationsDueAtMs).toBe(T + 15_000 + HOUR);
  });

  it('renewal comes before the revocation fetch when both are due', () => {
    expect(planLicenseWork(facts(T + 8 * DAY, { revocationSource: true }), INITIAL_WORK_STATE).actions).toEqual(['renew', 'fetch-revocations']);
  });
});

describe('wake-up', () => {
  it('wakes at the next mode boundary (exp, grace end, trial end) when it comes before anything else', () => {
    const f = facts(T + 2 * DAY, { renewOnline: false, modeBoundariesMs: [T, T + 2 * DAY + 5 * MIN, T + 3 * DAY] });
    expect(planLicenseWork(f, INITIAL_WORK_STATE).wakeAtMs).toBe(T + 2 * DAY + 5 * MIN);
  });

  it('never sleeps longer than the check interval', () => {
    const f = facts(T, { renewOnline: false, modeBoundariesMs: [T + 90 * DAY] });
    expect(planLicenseWork(f, INITIAL_WORK_STATE).wakeAtMs).toBe(T + 10 * MIN);
  });
});

describe('classifying server failures', () => {
  it('no answer, 5xx, 429 and undecodable answers are retried with backoff; a 4xx with a catalogue code is final', () => {
    expect(classifyServerFailure({ status: null, code: 'SERVER_UNREACHABLE' }).kind).toBe('unavailable');
    expect(classifyServerFailure({ status: 503, code: 'SERVER_ERROR' }).kind).toBe('unavailable');
    expect(classifyServerFailure({ status: 429, code: 'RATE_LIMITED' }).kind).toBe('unavailable');
    expect(classifyServerFailure({ status: 200, code: 'SERVER_ERROR' }).kind).toBe('unavailable');
    expect(classifyServerFailure({ status: 404, code: 'SERVER_ERROR' }).kind).toBe('unavailable');
    expect(classifyServerFailure({ status: 403, code: 'REVOKED' })).toEqual({ kind: 'refused', code: 'REVOKED' });
    expect(classifyServerFailure({ status: 401, code: 'UNAUTHORIZED' })).toEqual({ kind: 'refused', code: 'UNAUTHORIZED' });
    expect(classifyServerFailure({ status: 403, code: 'DEVICE_MISMATCH' }).kind).toBe('refused');
  });
});

describe('server time', () => {
  it('counts when the device clock is within 2 minutes of the server', () => {
    expect(serverTimeAgrees(T, T + 2 * MIN)).toBe(true);
    expect(serverTimeAgrees(T, T - 2 * MIN)).toBe(true);
    expect(serverTimeAgrees(T, T + 2 * MIN + 1)).toBe(false);
    expect(serverTimeAgrees(Date.UTC(1970, 0, 1), T)).toBe(false);
  });
});
