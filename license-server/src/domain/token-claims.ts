// The claims of a license token (DESIGN §4.2) and their time maths. Pure.
import { toSeconds } from '../../../common/clock.ts';
import type { ComponentHashes } from '../../../common/fingerprint.ts';
import { LICENSE_AUDIENCE, type LicenseClaims } from '../../../common/license-token.ts';
import type { ActivationMode, LicenseRecord } from './server-storage.ts';

/** Online tokens are short-lived and renewed weekly; air-gapped ones run to the license's end. */
export const ONLINE_TOKEN_LIFETIME_SECONDS = 30 * 86_400;

export interface LicenseClaimsInput {
  readonly issuer: string;
  readonly license: LicenseRecord;
  /** The device id of record (the seat's), not necessarily the request's. */
  readonly deviceId: string;
  /** The request's component hashes: what the device reads now. */
  readonly components: ComponentHashes;
  readonly jkt: string;
  readonly mode: ActivationMode;
  readonly jti: string;
  readonly nowMs: number;
}

/** The token's end: online min(now + 30 days, lexp); offline lexp. */
export function tokenExpiry(mode: ActivationMode, iat: number, lexp: number): number {
  return mode === 'online' ? Math.min(iat + ONLINE_TOKEN_LIFETIME_SECONDS, lexp) : lexp;
}

export function buildLicenseClaims(input: LicenseClaimsInput): LicenseClaims {
  const iat = toSeconds(input.nowMs);
  const lexp = toSeconds(input.license.expiresAtMs);
  return {
    iss: input.issuer,
    aud: LICENSE_AUDIENCE,
    sub: input.license.id,
    jti: input.jti,
    iat,
    nbf: iat,
    exp: tokenExpiry(input.mode, iat, lexp),
    lexp,
    tenant: input.license.tenant,
    features: [...input.license.features],
    grace: input.license.graceSeconds,
    device: { v: 1, id: input.deviceId, components: { ...input.components } },
    cnf: { jkt: input.jkt },
  };
}
