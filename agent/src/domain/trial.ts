// The offline trial (DESIGN §4.4). Pure. Its length and limits are built into the executable,
// not read from the config file, so an operator cannot extend them by editing a file:
//
// - TRIAL_DAYS = 14: counted from the agent's first `run` (startTrialIfNeeded), measured by the
//   effective time (max(clock, trusted floor)), so rolling the clock back cannot extend it.
//   Until the first run the full period is left.
// - TRIAL_MAX_ORDERS_PER_DAY = 100: enforced by the order intake (sync issue).
// - TRIAL_FEATURES = ['sales']: what a device may do while on trial.
// Deleting the data dir restarts the offline trial: an accepted, documented limit (the
// license server records first contact).

export const TRIAL_DAYS = 14;
export const TRIAL_MAX_ORDERS_PER_DAY = 100;
export const TRIAL_FEATURES: readonly string[] = Object.freeze(['sales']);

const DAY_MS = 24 * 60 * 60 * 1000;
export const TRIAL_PERIOD_MS = TRIAL_DAYS * DAY_MS;

export interface TrialState {
  /** When the trial started (ms since the epoch); null before the first `run`. */
  readonly startedAtMs: number | null;
}

export interface TrialStatus {
  readonly startedAtMs: number | null;
  /** null while the trial has not started. */
  readonly endsAtMs: number | null;
  /** Whole days left, rounded up; TRIAL_DAYS before the start, 0 once over. */
  readonly daysLeft: number;
  /** Time is left (always true before the start). */
  readonly active: boolean;
  readonly maxOrdersPerDay: number;
  readonly features: readonly string[];
}

export function trialStatus(state: TrialState, effectiveNowMs: number): TrialStatus {
  const base = { maxOrdersPerDay: TRIAL_MAX_ORDERS_PER_DAY, features: TRIAL_FEATURES };
  if (state.startedAtMs === null) {
    return { ...base, startedAtMs: null, endsAtMs: null, daysLeft: TRIAL_DAYS, active: true };
  }
  const endsAtMs = state.startedAtMs + TRIAL_PERIOD_MS;
  const leftMs = endsAtMs - effectiveNowMs;
  return {
    ...base,
    startedAtMs: state.startedAtMs,
    endsAtMs,
    daysLeft: leftMs > 0 ? Math.min(TRIAL_DAYS, Math.ceil(leftMs / DAY_MS)) : 0,
    active: leftMs > 0,
  };
}
