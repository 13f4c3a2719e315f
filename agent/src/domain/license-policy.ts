// The license policy (DESIGN §2, §4.4): pure functions from facts to a decision, in the
// plan-then-execute style. IO code gathers the facts (verified token, fingerprint, device key,
// stored time and trial state, revocation list) and carries out what the decision asks for
// (persisting the high-water mark, installing a token).
//
// Order of checks for a token: verification (done before, handed in as a verdict) → the clock
// against the trusted floor → revocation → nbf → exp/grace → fingerprint → device key binding.
// The clock comes before the time claims: a clock rolled back to before `nbf` is tampering,
// not NOT_YET_VALID.
import type { ErrorCode } from '../../../common/errors.ts';
import { matchFingerprint, type ComponentHashes, type FingerprintMatch } from '../../../common/fingerprint.ts';
import type { LicenseClaims } from '../../../common/license-token.ts';
import { assessClock, NBF_LEEWAY_S, trustedFloorMs, type ClockAssessment, type ClockTrust } from './time-floor.ts';
import { trialStatus, type TrialState, type TrialStatus } from './trial.ts';

export type LicenseMode = 'licensed' | 'grace' | 'trial' | 'unlicensed';

/** Why a token is refused by verification (common/errors.ts codes). */
export type TokenRejection = Extract<
  ErrorCode,
  'TOKEN_MALFORMED' | 'ALG_NOT_ALLOWED' | 'KEY_UNKNOWN' | 'SIGNATURE_INVALID' | 'TYPE_INVALID' | 'CLAIM_INVALID'
>;

/** Every reason a license can be unusable, or an install refused. */
export type LicenseReason =
  | TokenRejection
  | Extract<
      ErrorCode,
      | 'LICENSE_MISSING'
      | 'NOT_YET_VALID'
      | 'EXPIRED'
      | 'DEVICE_MISMATCH'
      | 'FINGERPRINT_UNVERIFIABLE'
      | 'REVOKED'
      | 'CLOCK_TAMPERED'
      | 'TOKEN_REPLAYED'
    >;

// ---------------------------------------------------------------------------------------------
// State records: what the agent store keeps for licensing. The store returns these and the
// license service consumes them; both import the types from here (IO folders do not import
// each other).

export interface StoredLicense {
  /** The compact JWS as installed. */
  readonly token: string;
  readonly sub: string;
  readonly jti: string;
  /** Seconds. */
  readonly iat: number;
  readonly installedAtMs: number;
}

export interface TimeState {
  readonly highWaterMs: number | null;
  /** Seconds. */
  readonly newestIatS: number | null;
}

export interface StoredRevocationList {
  readonly version: number;
  /** Seconds. */
  readonly iat: number;
  /** The signed document (compact JWS), verified again whenever it is used. */
  readonly document: string;
  readonly storedAtMs: number;
}

export interface LicenseStateSnapshot {
  readonly installed: StoredLicense | null;
  readonly time: TimeState;
  readonly trial: TrialState;
  readonly revocationList: StoredRevocationList | null;
}

/** What an accepted install writes, in one transaction. */
export interface LicenseInstallChange {
  readonly license: StoredLicense;
  /**
   * The jti of the token installed when the plan was made (null: none). The store refuses the
   * change if another process installed something in between (the plan would be stale).
   */
  readonly replacesJti: string | null;
  /** The newest-iat fact after the install. */
  readonly newestIatS: number;
  /** The high-water mark to persist, or null to leave it. */
  readonly highWaterMs: number | null;
}

/**
 * The license state as the license service uses it: the port the agent store implements
 * (store/agent-store.ts) and the service consumes (license/license-service.ts).
 */
export interface LicenseStatePort {
  /** One consistent read of everything the license policy needs. */
  readLicenseState(): LicenseStateSnapshot;
  /** Highest iat of any token of license `sub` ever installed (installed or history). */
  newestIatForLicense(sub: string): number | null;
  /** True when a token with this jti was installed on this device before and later replaced or given up. */
  tokenInHistory(jti: string): boolean;
  /**
   * One transaction: the installed token to the history, the new one installed, newest iat and
   * high-water mark raised. Re-checks `replacesJti` and the replay rule inside the transaction.
   */
  commitLicenseInstall(change: LicenseInstallChange): void;
  advanceHighWater(ms: number): void;
  /** Records the trial start unless it started already; returns the state. */
  startTrialIfNeeded(startedAtMs: number): TrialState;
}

// ---------------------------------------------------------------------------------------------
// Facts and decision.

export type TokenVerdict =
  | { readonly status: 'none' }
  | { readonly status: 'rejected'; readonly reason: TokenRejection; readonly message: string }
  | { readonly status: 'verified'; readonly claims: LicenseClaims };

export interface DeviceFacts {
  /** The fingerprint read now; null when it could not be read at all. */
  readonly fingerprint: { readonly deviceId: string; readonly components: ComponentHashes } | null;
  /** RFC 7638 thumbprint of this device's key; null when the device has no key. */
  readonly keyThumbprint: string | null;
}

export interface RevocationFacts {
  readonly licenseIds: ReadonlySet<string>;
  readonly deviceIds: ReadonlySet<string>;
  readonly tokenIds: ReadonlySet<string>;
}

export const NO_REVOCATIONS: RevocationFacts = Object.freeze({
  licenseIds: new Set<string>(),
  deviceIds: new Set<string>(),
  tokenIds: new Set<string>(),
});

export interface LicenseFacts {
  readonly nowMs: number;
  readonly token: TokenVerdict;
  readonly device: DeviceFacts;
  readonly revocations: RevocationFacts;
  readonly clockTrust: ClockTrust;
  readonly time: TimeState;
  readonly trial: TrialState;
  /** Overrides TIME_EPOCH_MS (tests). */
  readonly epochMs?: number;
}

/** The authentic facts of a verified token, shown even when the token is not usable. */
export interface LicenseSummary {
  readonly licenseId: string;
  readonly tokenId: string;
  readonly tenant: string;
  readonly features: readonly string[];
  readonly issuedAtMs: number;
  readonly tokenExpiresAtMs: number;
  readonly licenseExpiresAtMs: number;
  readonly graceEndsAtMs: number;
  /** The device id of record (the token's). */
  readonly deviceId: string;
}

export interface LicenseDecision {
  readonly mode: LicenseMode;
  /** null only in mode `licensed`. */
  readonly reason: LicenseReason | null;
  readonly message: string | null;
  /** What the device may do now. */
  readonly features: readonly string[];
  /** null when there is no token or it did not verify. */
  readonly license: LicenseSummary | null;
  /** The token's device id when the license is usable, else the fingerprint's (null: unreadable). */
  readonly deviceId: string | null;
  readonly fingerprintMatch: FingerprintMatch | null;
  readonly trial: TrialStatus;
  /** Includes the plan: `advanceHighWaterToMs`. */
  readonly clock: ClockAssessment;
}

interface TokenJudgement {
  readonly usable: 'licensed' | 'grace' | null;
  readonly reason: LicenseReason | null;
  readonly message: string | null;
  readonly fingerprintMatch: FingerprintMatch | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function decideLicense(facts: LicenseFacts): LicenseDecision {
  const claims = facts.token.status === 'verified' ? facts.token.claims : null;
  const newestIatS = Math.max(facts.time.newestIatS ?? 0, claims?.iat ?? 0) || null;
  const floorMs = trustedFloorMs({
    highWaterMs: facts.time.highWaterMs,
    newestIatS,
    ...(facts.epochMs === undefined ? {} : { epochMs: facts.epochMs }),
  });
  const clock = assessClock({ nowMs: facts.nowMs, trust: facts.clockTrust, floorMs, highWaterMs: facts.time.highWaterMs });
  const trial = trialStatus(facts.trial, clock.effectiveNowMs);
  const judged = judgeToken(facts, clock);

  const license: LicenseSummary | null = claims && {
    licenseId: claims.sub,
    tokenId: claims.jti,
    tenant: claims.tenant,
    features: claims.features,
    issuedAtMs: claims.iat * 1000,
    tokenExpiresAtMs: claims.exp * 1000,
    licenseExpiresAtMs: claims.lexp * 1000,
    graceEndsAtMs: (claims.exp + claims.grace) * 1000,
    deviceId: claims.device.id,
  };
  const common = { license, fingerprintMatch: judged.fingerprintMatch, trial, clock };

  if (judged.usable !== null && claims) {
    return {
      ...common,
      mode: judged.usable,
      reason: judged.reason,
      message: judged.message,
      features: claims.features,
      deviceId: claims.device.id,
    };
  }
  const deviceId = facts.device.fingerprint?.deviceId ?? null;
  return {
    ...common,
    mode: trial.active ? 'trial' : 'unlicensed',
    reason: judged.reason ?? 'LICENSE_MISSING',
    message: judged.message,
    features: trial.active ? trial.features : [],
    deviceId,
  };
}

function judgeToken(facts: LicenseFacts, clock: ClockAssessment): TokenJudgement {
  const refuse = (reason: LicenseReason, message: string, fingerprintMatch: FingerprintMatch | null = null): TokenJudgement => ({
    usable: null,
    reason,
    message,
    fingerprintMatch,
  });
  const { token } = facts;
  if (token.status === 'none') return refuse('LICENSE_MISSING', 'no license is installed');
  if (token.status === 'rejected') return refuse(token.reason, token.message);
  const c = token.claims;

  if (clock.tampered) {
    return refuse(
      'CLOCK_TAMPERED',
      `the system clock reads ${iso(facts.nowMs)}, behind the trusted time ${iso(clock.floorMs)}: it has been set back`,
    );
  }

  const { revocations } = facts;
  if (revocations.licenseIds.has(c.sub)) return refuse('REVOKED', `license ${c.sub} has been revoked`);
  if (revocations.deviceIds.has(c.device.id)) return refuse('REVOKED', `device ${c.device.id} has been revoked`);
  if (revocations.tokenIds.has(c.jti)) return refuse('REVOKED', `token ${c.jti} has been revoked`);

  const nowS = Math.floor(clock.effectiveNowMs / 1000);
  if (c.nbf > nowS + NBF_LEEWAY_S) return refuse('NOT_YET_VALID', `the token is valid from ${iso(c.nbf * 1000)}`);

  let usable: 'licensed' | 'grace' = 'licensed';
  let graceMessage: string | null = null;
  if (nowS >= c.exp) {
    if (nowS >= c.exp + c.grace) {
      return refuse('EXPIRED', `the token expired at ${iso(c.exp * 1000)} and its grace period ended at ${iso((c.exp + c.grace) * 1000)}`);
    }
    usable = 'grace';
    graceMessage = `the token expired at ${iso(c.exp * 1000)}; it is honoured until ${iso((c.exp + c.grace) * 1000)}: renew it`;
  }

  const fp = facts.device.fingerprint;
  if (fp === null) return refuse('FINGERPRINT_UNVERIFIABLE', 'the hardware fingerprint cannot be read');
  const match = matchFingerprint(c.device.components, fp.components);
  if (match.outcome === 'mismatch') {
    const why = match.anchorMismatch ? `${match.anchorMismatch} differs` : `only ${match.score} of ${match.total} weight matches`;
    return refuse('DEVICE_MISMATCH', `the license is bound to device ${c.device.id}, not this one (${why})`, match);
  }
  if (match.outcome === 'unverifiable') {
    return refuse(
      'FINGERPRINT_UNVERIFIABLE',
      `too little of the hardware is readable to check the binding (unreadable: ${match.unreadable.join(', ') || 'all'})`,
      match,
    );
  }
  if (facts.device.keyThumbprint === null) {
    return refuse('DEVICE_MISMATCH', 'this device has no device key; the license is bound to a device key', match);
  }
  if (facts.device.keyThumbprint !== c.cnf.jkt) {
    return refuse('DEVICE_MISMATCH', 'the license is bound to another device key', match);
  }
  return { usable, reason: usable === 'grace' ? 'EXPIRED' : null, message: graceMessage, fingerprintMatch: match };
}

// ---------------------------------------------------------------------------------------------
// Install plan (`license install`): verify → no replay → usable on this device now → write.

export type InstallPlan =
  | { readonly action: 'refuse'; readonly reason: LicenseReason; readonly message: string }
  /** The same token (jti) is installed already: nothing to write. */
  | { readonly action: 'unchanged'; readonly decision: LicenseDecision }
  | { readonly action: 'install'; readonly decision: LicenseDecision; readonly change: LicenseInstallChange };

export interface InstallFacts extends LicenseFacts {
  /** The token text offered (stored as given, trimmed). */
  readonly tokenText: string;
  readonly installed: StoredLicense | null;
  /** Highest iat ever installed for the offered token's license id (installed or history). */
  readonly newestIatForLicense: number | null;
  /** The offered token was installed here before and has since been replaced or given up (deactivation). */
  readonly tokenInHistory: boolean;
}

export function planLicenseInstall(facts: InstallFacts): InstallPlan {
  const { token } = facts;
  if (token.status === 'none') return { action: 'refuse', reason: 'TOKEN_MALFORMED', message: 'no token was given' };
  if (token.status === 'rejected') return { action: 'refuse', reason: token.reason, message: token.message };
  const c = token.claims;
  if (facts.newestIatForLicense !== null && c.iat < facts.newestIatForLicense) {
    return {
      action: 'refuse',
      reason: 'TOKEN_REPLAYED',
      message: `a newer token of license ${c.sub} (issued ${iso(facts.newestIatForLicense * 1000)}) was installed; this one was issued ${iso(c.iat * 1000)}`,
    };
  }
  if (facts.tokenInHistory && facts.installed?.jti !== c.jti) {
    // Same iat as the newest (else TOKEN_REPLAYED above): the token this device gave up when it
    // was deactivated. Its seat may be someone else's now; a freed seat is not used twice.
    return { action: 'refuse', reason: 'REVOKED', message: `token ${c.jti} was given up on this device (deactivated); activate again to get a new one` };
  }
  const decision = decideLicense(facts);
  if (decision.mode !== 'licensed' && decision.mode !== 'grace') {
    const reason = decision.reason ?? 'LICENSE_MISSING';
    return { action: 'refuse', reason, message: decision.message ?? reason };
  }
  if (facts.installed !== null && facts.installed.jti === c.jti) return { action: 'unchanged', decision };
  return {
    action: 'install',
    decision,
    change: {
      license: { token: facts.tokenText, sub: c.sub, jti: c.jti, iat: c.iat, installedAtMs: facts.nowMs },
      replacesJti: facts.installed?.jti ?? null,
      newestIatS: Math.max(facts.time.newestIatS ?? 0, c.iat),
      highWaterMs: decision.clock.advanceHighWaterToMs,
    },
  };
}
