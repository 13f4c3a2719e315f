// The device public key of an activation request: is it a real P-256 point, and what is its
// RFC 7638 thumbprint (the token's cnf.jkt)? Crypto, so it lives here, not in the pure domain.
import { createPublicKey } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import type { DevicePublicJwk } from '../domain/server-storage.ts';

/** The thumbprint (SHA-256, base64url), or null when the JWK is not a valid P-256 public key. */
export async function deviceKeyThumbprint(jwk: DevicePublicJwk): Promise<string | null> {
  const { kty, crv, x, y } = jwk;
  try {
    createPublicKey({ key: { kty, crv, x, y }, format: 'jwk' });
  } catch {
    return null;
  }
  return calculateJwkThumbprint({ kty, crv, x, y }, 'sha256');
}
