// Device-signed documents (common/device-api.ts): the proof a device signs for every online
// request (typ kiosk-device-proof+jwt) and the offline deactivation file (kiosk-deactivation+jwt).
// A document is authentic when its embedded license token is one of ours, the token's seat of
// record (found by the token's jti) still holds the device key the token names, and the document
// verifies with that STORED key: a copied token alone opens nothing. Crypto is behind the
// VerifyEs256 port. Credential failures are UNAUTHORIZED with details.reason = the precise code;
// refusals about the seat are REVOKED / EXPIRED / NOT_YET_VALID / DEVICE_MISMATCH.
import { toSeconds } from '../../../common/clock.ts';
import {
  deactivationClaimsSchema,
  deviceProofClaimsSchema,
  MAX_DEVICE_BODY_BYTES,
  MAX_PROOF_LIFETIME_S,
  type DeactivationClaims,
  type DeviceProofClaims,
} from '../../../common/device-api.ts';
import { KioskError, type ErrorCode } from '../../../common/errors.ts';
import { matchFingerprint } from '../../../common/fingerprint.ts';
import { DOCUMENT_TYPES, SIGNING_ALG, type LicenseClaims } from '../../../common/license-token.ts';
import type { z } from 'zod';
import { decodeCompactJws } from './compact-jws.ts';
import type { IssuanceDeps } from './deps.ts';
import { isoTime } from './iso-time.ts';
import type { ActivationRecord, LicenseRecord, StorageOps } from './server-storage.ts';
import { verifyServerLicenseToken } from './server-token.ts';

/** A proof's iat may be this far ahead of the server's clock. */
export const PROOF_CLOCK_SKEW_S = 60;
/** Used proof ids are remembered this long past their exp (should the server clock step back). */
export const PROOF_JTI_RETENTION_MARGIN_S = 300;

export interface VerifiedDeviceDocument<C> {
  readonly claims: C;
  /** The embedded license token: ours, signature checked; its exp may have passed. */
  readonly lic: LicenseClaims;
  /** The seat the token was issued for, as read before any transaction. */
  readonly activation: ActivationRecord;
  readonly license: LicenseRecord;
}

export const credentialError = (reason: ErrorCode, message: string): KioskError =>
  new KioskError('UNAUTHORIZED', message, { details: { reason } });

/**
 * A device proof (refresh, online deactivation, MQTT password): authentic, exp − iat ≤
 * MAX_PROOF_LIFETIME_S, not expired, iat at most PROOF_CLOCK_SKEW_S ahead, and — when it
 * carries `components` — not a fingerprint mismatch with the seat of record. The jti is NOT
 * used up here: callers do that with useProof inside their transaction.
 */
export async function verifyDeviceProof(deps: IssuanceDeps, proof: string): Promise<VerifiedDeviceDocument<DeviceProofClaims>> {
  const verified = await authenticate(deps, proof, 'deviceProof', deviceProofClaimsSchema, 'device proof');
  checkProofTimes(verified.claims, toSeconds(deps.clock.nowMs()));
  const { components } = verified.claims;
  if (components !== undefined) {
    const match = matchFingerprint(verified.activation.components, components);
    if (match.outcome === 'mismatch') {
      const why = match.anchorMismatch ? `${match.anchorMismatch} differs` : `only ${match.score} of ${match.total} weight matches`;
      throw new KioskError('DEVICE_MISMATCH', `the hardware no longer matches device ${verified.activation.deviceId} (${why}): activate it again`);
    }
  }
  return verified;
}

/** The offline deactivation file: authentic, and not dated more than PROOF_CLOCK_SKEW_S ahead. It has no expiry. */
export async function verifyDeactivationDocument(deps: IssuanceDeps, document: string): Promise<VerifiedDeviceDocument<DeactivationClaims>> {
  const verified = await authenticate(deps, document.trim(), 'deactivation', deactivationClaimsSchema, 'deactivation file');
  const nowS = toSeconds(deps.clock.nowMs());
  if (verified.claims.iat > nowS + PROOF_CLOCK_SKEW_S) {
    throw credentialError('NOT_YET_VALID', `the deactivation file is dated ${isoTime(verified.claims.iat * 1000)}, ahead of the server's clock (${isoTime(nowS * 1000)})`);
  }
  return verified;
}

/** The time rules of a device proof (pure). */
export function checkProofTimes(claims: { readonly iat: number; readonly exp: number }, nowS: number): void {
  const lifetime = claims.exp - claims.iat;
  if (lifetime <= 0 || lifetime > MAX_PROOF_LIFETIME_S) {
    throw credentialError('CLAIM_INVALID', `a device proof is valid for 1 to ${MAX_PROOF_LIFETIME_S} s (exp − iat is ${lifetime} s)`);
  }
  if (claims.iat > nowS + PROOF_CLOCK_SKEW_S) {
    throw credentialError('NOT_YET_VALID', `the device proof was made at ${isoTime(claims.iat * 1000)}, ahead of the server's clock (${isoTime(nowS * 1000)}): check the device's clock`);
  }
  if (nowS >= claims.exp) {
    throw credentialError('EXPIRED', `the device proof expired at ${isoTime(claims.exp * 1000)} (server time ${isoTime(nowS * 1000)}): sign a fresh one`);
  }
}

/** Uses up the proof's jti (single use); UNAUTHORIZED when it was used before. */
export async function useProof(ops: StorageOps, claims: DeviceProofClaims, nowS: number): Promise<void> {
  const fresh = await ops.useProofJti({ issuer: claims.iss, jti: claims.jti, expS: claims.exp }, nowS - PROOF_JTI_RETENTION_MARGIN_S);
  if (!fresh) throw credentialError('TOKEN_REPLAYED', `device proof ${claims.jti} was used already: sign a fresh proof for every request`);
}

/** The seat may be renewed: active, the token's key still the seat's, the license neither revoked nor outside its term. */
export function requireUsableSeat(seat: { readonly activation: ActivationRecord; readonly license: LicenseRecord; readonly lic: LicenseClaims }, nowMs: number): void {
  const { activation, license, lic } = seat;
  if (activation.status !== 'active') {
    throw new KioskError('REVOKED', `this device was deactivated: device ${activation.deviceId} no longer holds a seat of license ${license.id} (activate it again)`);
  }
  if (activation.jkt !== lic.cnf.jkt) throw superseded(lic, activation);
  if (license.status === 'revoked') {
    throw new KioskError('REVOKED', `license ${license.id} was revoked on ${isoTime(license.revokedAtMs ?? nowMs)}`);
  }
  if (nowMs >= license.expiresAtMs) throw new KioskError('EXPIRED', `license ${license.id} expired on ${isoTime(license.expiresAtMs)}`);
  if (nowMs < license.startsAtMs) throw new KioskError('NOT_YET_VALID', `license ${license.id} starts on ${isoTime(license.startsAtMs)}`);
}

const superseded = (lic: LicenseClaims, activation: ActivationRecord): KioskError =>
  new KioskError('REVOKED', `license token ${lic.jti} was superseded: the seat of device ${activation.deviceId} was activated again with another device key`);

async function authenticate<C extends { readonly iss: string; readonly lic: string }>(
  deps: IssuanceDeps,
  text: string,
  kind: 'deviceProof' | 'deactivation',
  schema: z.ZodType<C>,
  what: string,
): Promise<VerifiedDeviceDocument<C>> {
  const decoded = decodeCompactJws(text, MAX_DEVICE_BODY_BYTES);
  if (!decoded) throw credentialError('TOKEN_MALFORMED', `the ${what} is not a compact JWS`);
  if (decoded.header.alg !== SIGNING_ALG) throw credentialError('ALG_NOT_ALLOWED', `the ${what} uses alg ${String(decoded.header.alg)}, not ES256`);
  if (decoded.header.typ !== DOCUMENT_TYPES[kind]) {
    throw credentialError('TYPE_INVALID', `the ${what} has typ ${String(decoded.header.typ)}, not ${DOCUMENT_TYPES[kind]}`);
  }
  const parsed = schema.safeParse(decoded.payload);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw credentialError('CLAIM_INVALID', `the ${what}'s claims are invalid (${first?.path.join('.') || 'claims'}: ${first?.message})`);
  }
  const claims = parsed.data;

  let lic: LicenseClaims;
  try {
    lic = await verifyServerLicenseToken(deps, claims.lic);
  } catch (err) {
    if (err instanceof KioskError) throw credentialError(err.code, `${what}: ${err.message}`);
    throw err;
  }
  if (claims.iss !== lic.device.id) {
    throw credentialError('CLAIM_INVALID', `the ${what} is issued by device ${claims.iss}, but its license token is bound to device ${lic.device.id}`);
  }
  if (decoded.header.kid !== undefined && decoded.header.kid !== lic.cnf.jkt) {
    throw credentialError('KEY_UNKNOWN', `the ${what} names key ${String(decoded.header.kid)}, not the device key its license token is bound to`);
  }

  // The seat of record: the activation this very token was issued for (an old token of a seat
  // that was freed stays tied to that seat, whatever the device holds today).
  const issued = await deps.storage.getIssuedToken(lic.jti);
  const activation = issued && (await deps.storage.getActivation(issued.activationId));
  const license = issued && (await deps.storage.getLicense(issued.licenseId));
  if (!issued || !activation || !license || issued.licenseId !== lic.sub || activation.licenseId !== lic.sub || activation.deviceId !== lic.device.id) {
    throw credentialError('CLAIM_INVALID', `license token ${lic.jti} has no activation of record on this server`);
  }
  // Public knowledge (the revocation list names superseded tokens), so said before the signature check.
  if (activation.jkt !== lic.cnf.jkt) throw superseded(lic, activation);
  if (!(await deps.verifyEs256(text, activation.devicePublicJwk))) {
    throw credentialError('SIGNATURE_INVALID', `the ${what}'s signature does not verify with the key of device ${activation.deviceId}`);
  }
  return { claims, lic, activation, license };
}
