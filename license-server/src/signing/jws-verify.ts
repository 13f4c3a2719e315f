// ES256 signature checks for the domain's VerifyEs256 port: device-signed documents against a
// stored device public key, and our own tokens against a key of our set. Keys come only from
// the caller, never from the document (`jwk`/`jku`/`x5u` headers are ignored).
import { createPublicKey, type KeyObject } from 'node:crypto';
import { compactVerify, errors as joseErrors } from 'jose';
import { SIGNING_ALG } from '../../../common/license-token.ts';
import type { DevicePublicJwk } from '../domain/server-storage.ts';

/** True when `jws` is an ES256 compact JWS that verifies with `key`; false for anything else. */
export async function verifyEs256(jws: string, key: DevicePublicJwk): Promise<boolean> {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: { kty: key.kty, crv: key.crv, x: key.x, y: key.y }, format: 'jwk' });
  } catch {
    return false; // not a P-256 point
  }
  if (publicKey.asymmetricKeyType !== 'ec' || publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return false;
  try {
    await compactVerify(jws, publicKey, { algorithms: [SIGNING_ALG] });
    return true;
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) return false;
    throw err;
  }
}
