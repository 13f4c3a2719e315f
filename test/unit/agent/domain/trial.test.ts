import { describe, expect, it } from 'vitest';
import { TRIAL_DAYS, TRIAL_FEATURES, TRIAL_MAX_ORDERS_PER_DAY, trialStatus } from '../../../../agent/src/domain/trial.ts';

const DAY = 86_400_000;
const START = Date.UTC(2026, 2, 1);

describe('trial', () => {
  it('is built in: 14 days, 100 orders a day, sales only', () => {
    expect([TRIAL_DAYS, TRIAL_MAX_ORDERS_PER_DAY, [...TRIAL_FEATURES]]).toEqual([14, 100, ['sales']]);
    expect(Object.isFrozen(TRIAL_FEATURES)).toBe(true);
  });

  it('before the first run: the full period left, no end date', () => {
    expect(trialStatus({ startedAtMs: null }, START)).toMatchObject({ startedAtMs: null, endsAtMs: null, daysLeft: 14, active: true });
  });

  it('counts whole days left, rounded up, and ends exactly 14 days after the start', () => {
    expect(trialStatus({ startedAtMs: START }, START).daysLeft).toBe(14);
    expect(trialStatus({ startedAtMs: START }, START + 1).daysLeft).toBe(14);
    expect(trialStatus({ startedAtMs: START }, START + DAY).daysLeft).toBe(13);
    expect(trialStatus({ startedAtMs: START }, START + 14 * DAY - 1)).toMatchObject({ daysLeft: 1, active: true });
    expect(trialStatus({ startedAtMs: START }, START + 14 * DAY)).toMatchObject({ daysLeft: 0, active: false, endsAtMs: START + 14 * DAY });
  });

  it('a start in the future (clock moved back past it) never shows more than the period', () => {
    expect(trialStatus({ startedAtMs: START }, START - 5 * DAY).daysLeft).toBe(14);
  });
});
