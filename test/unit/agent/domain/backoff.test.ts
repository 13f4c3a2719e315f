// Exponential backoff with full jitter (agent/src/domain/backoff.ts): bounds, the jitter range
// with a seeded random source, and the reset on success. Pure: no IO, no timers.
import { describe, expect, it } from 'vitest';
import {
  BACKOFF_BASE_MS,
  BACKOFF_CAP_MS,
  BACKOFF_MIN_MS,
  backoffCeilingMs,
  backoffDelayMs,
  NO_RETRY,
  recordFailure,
  recordSuccess,
} from '../../../../agent/src/domain/backoff.ts';

/** mulberry32: a small seeded PRNG, so a failing case can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('backoff ceiling', () => {
  it('starts at 30 s, doubles per failure and stops at 6 h', () => {
    expect(BACKOFF_BASE_MS).toBe(30_000);
    expect(BACKOFF_CAP_MS).toBe(6 * HOUR);
    const ceilings = Array.from({ length: 13 }, (_, i) => backoffCeilingMs(i + 1));
    expect(ceilings).toEqual([
      30_000, 60_000, 2 * MIN, 4 * MIN, 8 * MIN, 16 * MIN, 32 * MIN, 64 * MIN, 128 * MIN, 256 * MIN,
      6 * HOUR, 6 * HOUR, 6 * HOUR,
    ]);
  });

  it('stays finite and capped for absurd failure counts; counts below 1 count as 1', () => {
    expect(backoffCeilingMs(10_000)).toBe(6 * HOUR);
    expect(backoffCeilingMs(0)).toBe(30_000);
    expect(backoffCeilingMs(-5)).toBe(30_000);
  });
});

describe('backoff delay (full jitter)', () => {
  it('is random()·ceiling: 0.5 gives half the ceiling', () => {
    expect(backoffDelayMs(1, () => 0.5)).toBe(15_000);
    expect(backoffDelayMs(4, () => 0.5)).toBe(2 * MIN);
    expect(backoffDelayMs(20, () => 0.5)).toBe(3 * HOUR);
  });

  it('never goes below 1 s (random() = 0) nor reaches the ceiling (random() → 1)', () => {
    expect(backoffDelayMs(1, () => 0)).toBe(BACKOFF_MIN_MS);
    expect(backoffDelayMs(1, () => 0.999_999_999)).toBeLessThan(30_000);
    expect(backoffDelayMs(30, () => 0.999_999_999)).toBeLessThan(6 * HOUR);
  });

  it('survives a broken random source (NaN, negative, ≥ 1) within [1 s, ceiling]', () => {
    for (const r of [Number.NaN, -1, 1, 7, Number.POSITIVE_INFINITY]) {
      const d = backoffDelayMs(3, () => r);
      expect(d).toBeGreaterThanOrEqual(BACKOFF_MIN_MS);
      expect(d).toBeLessThanOrEqual(2 * MIN);
    }
  });

  it('spreads over the whole window with a seeded random source: every sample in [1 s, ceiling), both ends reached', () => {
    for (const failures of [1, 3, 6, 11]) {
      const random = seeded(42 + failures);
      const ceiling = backoffCeilingMs(failures);
      const samples = Array.from({ length: 2000 }, () => backoffDelayMs(failures, random));
      for (const d of samples) {
        expect(d).toBeGreaterThanOrEqual(BACKOFF_MIN_MS);
        expect(d).toBeLessThan(ceiling);
        expect(Number.isInteger(d)).toBe(true);
      }
      expect(Math.min(...samples)).toBeLessThan(ceiling * 0.05 + BACKOFF_MIN_MS);
      expect(Math.max(...samples)).toBeGreaterThan(ceiling * 0.95);
      // roughly uniform: the mean near half the ceiling
      const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
      expect(mean / ceiling).toBeGreaterThan(0.45);
      expect(mean / ceiling).toBeLessThan(0.55);
    }
  });

  it('the same seed gives the same delays (replayable)', () => {
    const a = seeded(7);
    const b = seeded(7);
    expect(Array.from({ length: 5 }, (_, i) => backoffDelayMs(i + 1, a))).toEqual(Array.from({ length: 5 }, (_, i) => backoffDelayMs(i + 1, b)));
  });
});

describe('retry state', () => {
  it('each failure counts up and sets retryAt = now + jittered delay; a success resets', () => {
    const now = 1_000_000;
    let s = NO_RETRY;
    s = recordFailure(s, now, () => 0.5);
    expect(s).toEqual({ failures: 1, retryAtMs: now + 15_000 });
    s = recordFailure(s, now + 15_000, () => 0.5);
    expect(s).toEqual({ failures: 2, retryAtMs: now + 15_000 + 30_000 });
    s = recordFailure(s, now + 45_000, () => 0.5);
    expect(s).toEqual({ failures: 3, retryAtMs: now + 45_000 + 60_000 });
    s = recordSuccess();
    expect(s).toEqual({ failures: 0, retryAtMs: null });
    // after the reset the next failure starts again at the 30 s ceiling
    expect(recordFailure(s, now, () => 0.5).retryAtMs).toBe(now + 15_000);
  });
});
