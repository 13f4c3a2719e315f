// The device public key of an activation request: is it a real P-256 point, and what is its
// RFC 7638 thumbprint (the token's cnf.jkt)? Crypto, so it lives here, not in the pure domain.
// Synchronous node:crypto (no thread-pool round trip); run before any transaction.
import { createHash, ECDH } from 'node:crypto';
import type { DevicePublicJwk } from '../domain/server-storage.ts';

/** RFC 7638: SHA-256 over the required members of an EC key in lexicographic order, base64url. */
export function ecJwkThumbprint(jwk: { readonly crv: string; readonly x: string; readonly y: string }): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: 'EC', x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical, 'utf8').digest('base64url');
}

/** The thumbprint (SHA-256, base64url), or null when the JWK is not a valid P-256 public key. */
export async function deviceKeyThumbprint(jwk: DevicePublicJwk): Promise<string | null> {
  const { kty, crv, x, y } = jwk;
  if (kty !== 'EC' || crv !== 'P-256' || !isP256Point(x, y)) return null;
  return ecJwkThumbprint({ crv, x, y });
}

/**
 * True when (x, y) — base64url, 32 bytes each — is a point on P-256. OpenSSL decodes the
 * uncompressed point and refuses one that is not on the curve; about a third of the cost of
 * importing the JWK as a key object, which an activation does not need.
 */
export function isP256Point(x: string, y: string): boolean {
  const bx = Buffer.from(x, 'base64url');
  const by = Buffer.from(y, 'base64url');
  if (bx.length !== 32 || by.length !== 32) return false;
  try {
    ECDH.convertKey(Buffer.concat([Buffer.of(4), bx, by]), 'prime256v1');
    return true;
  } catch {
    return false;
  }
}
