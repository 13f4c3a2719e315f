// ES256 signature checks for the domain's VerifyEs256 port: device-signed documents against a
// stored device public key, and our own tokens against a key of our set. Keys come only from
// the caller, never from the document (`jwk`/`jku`/`x5u` headers are ignored).
import { createPublicKey, type KeyObject } from 'node:crypto';
import { compactVerify, errors as joseErrors } from 'jose';
import { SIGNING_ALG } from '../../../common/license-token.ts';
import type { DevicePublicJwk } from '../domain/server-storage.ts';

/** Public keys imported once (this server's keys, devices that come back): bounded, dropped whole when full. */
const MAX_CACHED_KEYS = 10_000;

function importP256(key: DevicePublicJwk): KeyObject | null {
  try {
    const publicKey = createPublicKey({ key: { kty: key.kty, crv: key.crv, x: key.x, y: key.y }, format: 'jwk' });
    return publicKey.asymmetricKeyType === 'ec' && publicKey.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? publicKey : null;
  } catch {
    return null; // not a P-256 point
  }
}

/** verifyEs256 with its own cache of imported keys (one per server context, made by the wiring). */
export function createVerifyEs256(): (jws: string, key: DevicePublicJwk) => Promise<boolean> {
  const imported = new Map<string, KeyObject | null>();
  return (jws, key) => {
    const id = `${key.kty}.${key.crv}.${key.x}.${key.y}`;
    let publicKey = imported.get(id);
    if (publicKey === undefined) {
      publicKey = importP256(key);
      if (imported.size >= MAX_CACHED_KEYS) imported.clear();
      imported.set(id, publicKey);
    }
    return verifyWith(jws, publicKey);
  };
}

/** True when `jws` is an ES256 compact JWS that verifies with `key`; false for anything else. */
export async function verifyEs256(jws: string, key: DevicePublicJwk): Promise<boolean> {
  return verifyWith(jws, importP256(key));
}

async function verifyWith(jws: string, publicKey: KeyObject | null): Promise<boolean> {
  if (publicKey === null) return false;
  try {
    await compactVerify(jws, publicKey, { algorithms: [SIGNING_ALG] });
    return true;
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) return false;
    throw err;
  }
}
