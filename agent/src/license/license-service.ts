// The license service: gathers the facts (IO), asks the pure policy for a decision, carries out
// the plan (persist the high-water mark, install a token). Its collaborators are injected —
// the store, the fingerprint reader, the device key, the clock and its trust — so it runs the
// same in the CLI, the daemon and the tests.
import type { Clock } from '../../../common/clock.ts';
import { KioskError } from '../../../common/errors.ts';
import type { ComponentHashes } from '../../../common/fingerprint.ts';
import type { LicenseClaims } from '../../../common/license-token.ts';
import type { TrustedKeySet } from '../../../common/trusted-keys.ts';
import {
  decideLicense,
  NO_REVOCATIONS,
  planLicenseInstall,
  type DeviceFacts,
  type LicenseDecision,
  type LicenseFacts,
  type LicenseMode,
  type LicenseReason,
  type LicenseStatePort,
  type LicenseStateSnapshot,
  type RevocationFacts,
  type StoredRevocationList,
  type TokenVerdict,
} from '../domain/license-policy.ts';
import { trustedFloorMs, type ClockTrust, type ClockTrustSource } from '../domain/time-floor.ts';
import type { TrialState } from '../domain/trial.ts';
import { revocationFacts, verifyRevocationList } from './revocation-list.ts';
import { verifyLicenseToken, type VerifyResult } from './verify-token.ts';

/** What the service needs from the store (agent/src/store/agent-store.ts implements it). */
export type { LicenseStatePort };

/** The part of a device fingerprint the license check uses (hardware/read-fingerprint.ts). */
export interface FingerprintFacts {
  readonly deviceId: string;
  readonly components: ComponentHashes;
  readonly warnings?: readonly string[];
}

export interface LicenseServiceDeps {
  readonly trustedKeys: TrustedKeySet;
  readonly clock: Clock;
  /** null when there is no store yet (status on a fresh device must not create the data dir). */
  readonly state: LicenseStatePort | null;
  readonly readFingerprint: () => Promise<FingerprintFacts>;
  /** The device key's RFC 7638 thumbprint, or null when the device has no key (never creates one). */
  readonly deviceKeyThumbprint: () => Promise<string | null>;
  readonly clockTrust: () => ClockTrust;
  /** Overrides TIME_EPOCH_MS (tests). */
  readonly epochMs?: number;
}

/** `license status --json`, also the success output of `license install --json`. */
export interface LicenseStatus {
  readonly mode: LicenseMode;
  readonly reason: LicenseReason | null;
  readonly message: string | null;
  readonly features: readonly string[];
  readonly tenant: string | null;
  readonly licenseId: string | null;
  readonly tokenId: string | null;
  readonly tokenExpiresAt: string | null;
  readonly licenseExpiresAt: string | null;
  readonly graceEndsAt: string | null;
  readonly deviceId: string | null;
  readonly trial: {
    readonly startedAt: string | null;
    readonly endsAt: string | null;
    readonly daysLeft: number;
    readonly maxOrdersPerDay: number;
  };
  readonly clock: {
    readonly trusted: boolean;
    readonly source: ClockTrustSource | null;
    readonly floor: string;
    readonly tampered: boolean;
  };
  readonly warnings: readonly string[];
}

export const isUsableMode = (mode: LicenseMode): boolean => mode === 'licensed' || mode === 'grace';

const EMPTY_STATE: LicenseStateSnapshot = {
  installed: null,
  time: { highWaterMs: null, newestIatS: null },
  trial: { startedAtMs: null },
  revocationList: null,
};

/** Evaluates the installed license now; persists the high-water mark when the plan says so. */
export async function evaluateLicense(deps: LicenseServiceDeps): Promise<LicenseStatus> {
  const snapshot = deps.state?.readLicenseState() ?? EMPTY_STATE;
  const token = snapshot.installed ? toVerdict(await verifyLicenseToken(snapshot.installed.token, deps.trustedKeys)) : NONE;
  const { facts, warnings } = await gatherFacts(deps, snapshot, token);
  const decision = decideLicense(facts);
  if (deps.state && decision.clock.advanceHighWaterToMs !== null) deps.state.advanceHighWater(decision.clock.advanceHighWaterToMs);
  return toLicenseStatus(decision, warnings);
}

/**
 * `license install`: verify → no replay of an older token of the same license → usable on this
 * device now (licensed or grace) → one transaction. A refusal throws a KioskError with the
 * reason code and leaves the store untouched; the same token again is an idempotent success.
 */
export interface LicenseInstallResult {
  /** `unchanged`: this very token (jti) was installed already. */
  readonly outcome: 'installed' | 'unchanged';
  readonly status: LicenseStatus;
}

export async function installLicense(deps: LicenseServiceDeps, text: string): Promise<LicenseInstallResult> {
  if (!deps.state) throw new KioskError('INTERNAL', 'installing a license needs the store');
  const state = deps.state;
  const verified = await verifyLicenseToken(text, deps.trustedKeys);
  const token = toVerdict(verified);
  const snapshot = state.readLicenseState();
  const { facts, warnings } = await gatherFacts(deps, snapshot, token);
  const plan = planLicenseInstall({
    ...facts,
    tokenText: verified.ok ? verified.text : text,
    installed: snapshot.installed,
    newestIatForLicense: verified.ok ? state.newestIatForLicense(verified.claims.sub) : null,
    tokenInHistory: verified.ok ? state.tokenInHistory(verified.claims.jti) : false,
  });
  switch (plan.action) {
    case 'refuse':
      throw new KioskError(plan.reason, `the license token is refused: ${plan.message}`, { details: { reason: plan.reason } });
    case 'unchanged':
      if (plan.decision.clock.advanceHighWaterToMs !== null) state.advanceHighWater(plan.decision.clock.advanceHighWaterToMs);
      return { outcome: 'unchanged', status: toLicenseStatus(plan.decision, warnings) };
    case 'install':
      state.commitLicenseInstall(plan.change);
      return { outcome: 'installed', status: toLicenseStatus(plan.decision, warnings) };
  }
}

/**
 * Starts the offline trial at the first `run` (idempotent). The start is the effective time —
 * max(clock, trusted floor) — so an RTC-less device booting at 1970 does not start (and end)
 * its trial in the past.
 */
export function startTrialIfNeeded(deps: Pick<LicenseServiceDeps, 'state' | 'clock' | 'epochMs'>): TrialState {
  if (!deps.state) throw new KioskError('INTERNAL', 'starting the trial needs the store');
  const { time } = deps.state.readLicenseState();
  const floor = trustedFloorMs({ ...time, ...(deps.epochMs === undefined ? {} : { epochMs: deps.epochMs }) });
  return deps.state.startTrialIfNeeded(Math.max(deps.clock.nowMs(), floor));
}

const NONE: TokenVerdict = { status: 'none' };

function toVerdict(result: VerifyResult<LicenseClaims>): TokenVerdict {
  return result.ok ? { status: 'verified', claims: result.claims } : { status: 'rejected', reason: result.reason, message: result.message };
}

async function gatherFacts(
  deps: LicenseServiceDeps,
  snapshot: LicenseStateSnapshot,
  token: TokenVerdict,
): Promise<{ facts: LicenseFacts; warnings: string[] }> {
  const warnings: string[] = [];
  const revocations = await loadRevocations(snapshot.revocationList, deps.trustedKeys, warnings);
  const device = await deviceFacts(deps, warnings);
  const facts: LicenseFacts = {
    nowMs: deps.clock.nowMs(),
    token,
    device,
    revocations,
    clockTrust: deps.clockTrust(),
    time: snapshot.time,
    trial: snapshot.trial,
    ...(deps.epochMs === undefined ? {} : { epochMs: deps.epochMs }),
  };
  return { facts, warnings };
}

async function loadRevocations(list: StoredRevocationList | null, keys: TrustedKeySet, warnings: string[]): Promise<RevocationFacts> {
  if (!list) return NO_REVOCATIONS;
  const verified = await verifyRevocationList(list.document, keys);
  if (!verified.ok) {
    warnings.push(`the stored revocation list (version ${list.version}) is ignored: ${verified.reason}: ${verified.message}`);
    return NO_REVOCATIONS;
  }
  return revocationFacts(verified.claims);
}

async function deviceFacts(deps: LicenseServiceDeps, warnings: string[]): Promise<DeviceFacts> {
  let fingerprint: DeviceFacts['fingerprint'] = null;
  try {
    const fp = await deps.readFingerprint();
    fingerprint = { deviceId: fp.deviceId, components: fp.components };
    warnings.push(...(fp.warnings ?? []));
  } catch (err) {
    warnings.push(`the hardware fingerprint cannot be read: ${errorText(err)}`);
  }
  let keyThumbprint: string | null = null;
  try {
    keyThumbprint = await deps.deviceKeyThumbprint();
  } catch (err) {
    warnings.push(`the device key cannot be loaded: ${errorText(err)}`);
  }
  return { fingerprint, keyThumbprint };
}

const errorText = (err: unknown): string =>
  err instanceof KioskError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);

const isoOrNull = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function toLicenseStatus(decision: LicenseDecision, warnings: readonly string[] = []): LicenseStatus {
  const l = decision.license;
  return {
    mode: decision.mode,
    reason: decision.reason,
    message: decision.message,
    features: [...decision.features],
    tenant: l?.tenant ?? null,
    licenseId: l?.licenseId ?? null,
    tokenId: l?.tokenId ?? null,
    tokenExpiresAt: isoOrNull(l?.tokenExpiresAtMs),
    licenseExpiresAt: isoOrNull(l?.licenseExpiresAtMs),
    graceEndsAt: isoOrNull(l?.graceEndsAtMs),
    deviceId: decision.deviceId,
    trial: {
      startedAt: isoOrNull(decision.trial.startedAtMs),
      endsAt: isoOrNull(decision.trial.endsAtMs),
      daysLeft: decision.trial.daysLeft,
      maxOrdersPerDay: decision.trial.maxOrdersPerDay,
    },
    clock: {
      trusted: decision.clock.trusted,
      source: decision.clock.source,
      floor: new Date(decision.clock.floorMs).toISOString(),
      tampered: decision.clock.tampered,
    },
    warnings: [...warnings],
  };
}
