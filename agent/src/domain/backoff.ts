// Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
// Jitter"). Pure: the random source is a parameter, so tests pin it.
//
//   ceiling(n) = min(capMs, baseMs · 2^(n−1))        n = consecutive failures, 1, 2, …
//   delay(n)   = max(minMs, ⌊random() · ceiling(n)⌋)  random() ∈ [0, 1)
//
// With the defaults (base 30 s, cap 6 h) the ceiling doubles 30 s, 1 min, 2 min … and reaches
// the cap at the 11th failure (30 s · 2^10 ≈ 8.5 h > 6 h). Full jitter spreads a fleet that lost
// the server at the same moment over the whole window instead of letting it return in lockstep;
// the 1 s floor keeps a random() of 0 from turning into a tight loop. A success resets n to 0.

/** A uniform random number in [0, 1) (Math.random's contract); injected. */
export type RandomUnit = () => number;

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
  /** The shortest delay ever returned. */
  readonly minMs: number;
}

export const BACKOFF_BASE_MS = 30_000;
export const BACKOFF_CAP_MS = 6 * 60 * 60 * 1000;
export const BACKOFF_MIN_MS = 1_000;

export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({ baseMs: BACKOFF_BASE_MS, capMs: BACKOFF_CAP_MS, minMs: BACKOFF_MIN_MS });

/** The upper bound of the jittered delay after `failures` consecutive failures (≥ 1). */
export function backoffCeilingMs(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const n = Math.max(1, Math.floor(failures));
  // 2^40 · base is far beyond any cap; clamping the exponent keeps the maths finite.
  const exponential = policy.baseMs * 2 ** Math.min(n - 1, 40);
  return Math.min(policy.capMs, exponential);
}

/** The delay before the next attempt after `failures` consecutive failures (≥ 1). */
export function backoffDelayMs(failures: number, random: RandomUnit, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const ceiling = backoffCeilingMs(failures, policy);
  const r = random();
  // A broken random source must not produce a negative or unbounded delay.
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1 - Number.EPSILON) : 0;
  return Math.min(ceiling, Math.max(policy.minMs, Math.floor(unit * ceiling)));
}

/** Consecutive failures of one repeated job and when it may run again. */
export interface RetryState {
  readonly failures: number;
  /** Not before this time (ms); null when not backing off. */
  readonly retryAtMs: number | null;
}

export const NO_RETRY: RetryState = Object.freeze({ failures: 0, retryAtMs: null });

/** One more failure at `nowMs`: the next attempt waits a jittered, growing delay. */
export function recordFailure(state: RetryState, nowMs: number, random: RandomUnit, policy: BackoffPolicy = DEFAULT_BACKOFF): RetryState {
  const failures = state.failures + 1;
  return { failures, retryAtMs: nowMs + backoffDelayMs(failures, random, policy) };
}

/** A success resets the backoff. */
export function recordSuccess(): RetryState {
  return NO_RETRY;
}
