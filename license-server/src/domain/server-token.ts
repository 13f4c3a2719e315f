// Our own license tokens coming back to us (inside a device proof or a deactivation file):
// signed by one of this server's keys — any key of jwks.json, not only the signing one, so a
// key rotation does not orphan devices — with the exact header and claims of DESIGN §4.2.
// Time claims are not decided here: a refresh accepts a token past its `exp`.
import { KioskError, type ErrorCode } from '../../../common/errors.ts';
import { DOCUMENT_TYPES, LICENSE_AUDIENCE, licenseClaimsSchema, MAX_TOKEN_BYTES, SIGNING_ALG, type LicenseClaims } from '../../../common/license-token.ts';
import { decodeCompactJws } from './compact-jws.ts';
import type { IssuanceDeps } from './deps.ts';

/** Why a token is not ours (the catalogue's token codes). */
export type ServerTokenRejection = Extract<ErrorCode, 'TOKEN_MALFORMED' | 'ALG_NOT_ALLOWED' | 'KEY_UNKNOWN' | 'TYPE_INVALID' | 'SIGNATURE_INVALID' | 'CLAIM_INVALID'>;

/**
 * The claims of a license token this server signed. Rejects with KioskError of a
 * ServerTokenRejection code, in the agent's order: form, alg, kid, typ, signature, iss/aud, schema.
 */
export async function verifyServerLicenseToken(deps: Pick<IssuanceDeps, 'serverKeySet' | 'verifyEs256'>, token: string): Promise<LicenseClaims> {
  const reject = (code: ServerTokenRejection, message: string): never => {
    throw new KioskError(code, message);
  };
  const decoded = decodeCompactJws(token, MAX_TOKEN_BYTES);
  if (!decoded) return reject('TOKEN_MALFORMED', 'the license token is not a compact JWS');
  const { header, payload } = decoded;
  if (header.alg !== SIGNING_ALG) return reject('ALG_NOT_ALLOWED', `the license token uses alg ${String(header.alg)}, not ES256`);
  const keySet = await deps.serverKeySet();
  const key = typeof header.kid === 'string' ? keySet.keys.find((k) => k.kid === header.kid) : undefined;
  if (!key) return reject('KEY_UNKNOWN', 'the license token names no key of this server');
  if (header.typ !== DOCUMENT_TYPES.license) return reject('TYPE_INVALID', `the license token has typ ${String(header.typ)}, not ${DOCUMENT_TYPES.license}`);
  if (!(await deps.verifyEs256(token, { kty: key.kty, crv: key.crv, x: key.x, y: key.y }))) {
    return reject('SIGNATURE_INVALID', `the license token's signature does not verify with key ${key.kid}`);
  }
  const claims = payload as Record<string, unknown> | null;
  if (claims === null || typeof claims !== 'object' || claims.iss !== keySet.issuer || claims.aud !== LICENSE_AUDIENCE) {
    return reject('CLAIM_INVALID', 'the license token was not issued by this server for kiosk agents (iss/aud)');
  }
  const parsed = licenseClaimsSchema.safeParse(claims);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return reject('CLAIM_INVALID', `the license token's claims are invalid (${first?.path.join('.') || 'claims'}: ${first?.message})`);
  }
  return parsed.data;
}
