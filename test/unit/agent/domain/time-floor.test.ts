import { describe, expect, it } from 'vitest';
import { assessClock, CLOCK_TOLERANCE_MS, TIME_EPOCH_MS, trustedFloorMs } from '../../../../agent/src/domain/time-floor.ts';

describe('trustedFloorMs', () => {
  it('is the max of the high-water mark, the newest iat and the epoch', () => {
    expect(trustedFloorMs({ highWaterMs: null, newestIatS: null })).toBe(TIME_EPOCH_MS);
    expect(trustedFloorMs({ highWaterMs: TIME_EPOCH_MS + 5000, newestIatS: (TIME_EPOCH_MS + 9000) / 1000 })).toBe(TIME_EPOCH_MS + 9000);
    expect(trustedFloorMs({ highWaterMs: TIME_EPOCH_MS + 12_000, newestIatS: (TIME_EPOCH_MS + 9000) / 1000 })).toBe(TIME_EPOCH_MS + 12_000);
    expect(trustedFloorMs({ highWaterMs: 5, newestIatS: null, epochMs: 0 })).toBe(5);
  });
});

describe('assessClock', () => {
  const floorMs = TIME_EPOCH_MS + 100 * 86_400_000;
  const ntp = { trusted: true, source: 'ntp' } as const;
  const none = { trusted: false, source: null } as const;

  it('flags a trusted clock only beyond the tolerance', () => {
    expect(assessClock({ nowMs: floorMs - CLOCK_TOLERANCE_MS - 1, trust: ntp, floorMs, highWaterMs: floorMs }).tampered).toBe(true);
    expect(assessClock({ nowMs: floorMs - CLOCK_TOLERANCE_MS, trust: ntp, floorMs, highWaterMs: floorMs }).tampered).toBe(false);
  });

  it('never flags an untrusted clock; the effective time is the floor', () => {
    const a = assessClock({ nowMs: 0, trust: none, floorMs, highWaterMs: floorMs });
    expect(a).toMatchObject({ tampered: false, effectiveNowMs: floorMs, advanceHighWaterToMs: null });
  });

  it('plans to raise the high-water mark with a trusted clock ahead of it', () => {
    expect(assessClock({ nowMs: floorMs + 1, trust: ntp, floorMs, highWaterMs: floorMs }).advanceHighWaterToMs).toBe(floorMs + 1);
    expect(assessClock({ nowMs: floorMs + 1, trust: ntp, floorMs, highWaterMs: null }).advanceHighWaterToMs).toBe(floorMs + 1);
    expect(assessClock({ nowMs: floorMs - 1, trust: ntp, floorMs, highWaterMs: floorMs }).advanceHighWaterToMs).toBeNull();
  });
});
