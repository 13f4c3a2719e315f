// The trusted time floor (DESIGN §4.4, research licensing-anchors §C.6). Pure.
//
// The floor is the latest time this device has good reason to believe has already happened:
// the persisted high-water mark (advanced only while the clock is trusted), the newest `iat`
// seen on a verified license or revocation list, and the build's epoch. A trusted clock that
// is behind the floor by more than the tolerance has been rolled back: CLOCK_TAMPERED. An
// untrusted clock (a Raspberry Pi booting without an RTC, before NTP) is never flagged;
// decisions then use the floor as "now" so a rolled-back clock can neither revive an expired
// token nor extend the trial.

/** How far a trusted clock may lag the floor before it counts as rolled back (DST, skew). */
export const CLOCK_TOLERANCE_MS = 10 * 60 * 1000;
/** Leeway for `nbf`: a token issued by a server whose clock runs a little ahead. */
export const NBF_LEEWAY_S = 60;
/**
 * No clock reads earlier than this on a device running this build (systemd's TIME_EPOCH idea):
 * an RTC-less Pi booting at 1970 still decides (and starts its trial) at a plausible time.
 */
export const TIME_EPOCH_MS = Date.UTC(2026, 0, 1);

export type ClockTrustSource = 'ntp' | 'rtc' | 'server';

export interface ClockTrust {
  readonly trusted: boolean;
  /** Why the clock is trusted; null when it is not. */
  readonly source: ClockTrustSource | null;
}

export interface TimeFloorFacts {
  /** Persisted high-water mark of trusted clock readings (ms), if any. */
  readonly highWaterMs: number | null;
  /** Newest `iat` (seconds) seen on a verified license or revocation list, if any. */
  readonly newestIatS: number | null;
  /** Defaults to TIME_EPOCH_MS. */
  readonly epochMs?: number;
}

export function trustedFloorMs(facts: TimeFloorFacts): number {
  return Math.max(facts.epochMs ?? TIME_EPOCH_MS, facts.highWaterMs ?? 0, (facts.newestIatS ?? 0) * 1000);
}

export interface ClockAssessment {
  readonly trusted: boolean;
  readonly source: ClockTrustSource | null;
  readonly floorMs: number;
  /** The time decisions use: max(now, floor). */
  readonly effectiveNowMs: number;
  /** A trusted clock behind the floor by more than the tolerance. */
  readonly tampered: boolean;
  /** The high-water mark to persist (trusted clock, no tampering, ahead of the old mark); null: none. */
  readonly advanceHighWaterToMs: number | null;
}

export function assessClock(input: {
  readonly nowMs: number;
  readonly trust: ClockTrust;
  readonly floorMs: number;
  readonly highWaterMs: number | null;
}): ClockAssessment {
  const { nowMs, trust, floorMs, highWaterMs } = input;
  const tampered = trust.trusted && nowMs < floorMs - CLOCK_TOLERANCE_MS;
  const advance = trust.trusted && !tampered && nowMs > (highWaterMs ?? Number.NEGATIVE_INFINITY) ? nowMs : null;
  return {
    trusted: trust.trusted,
    source: trust.source,
    floorMs,
    effectiveNowMs: Math.max(nowMs, floorMs),
    tampered,
    advanceHighWaterToMs: advance,
  };
}
