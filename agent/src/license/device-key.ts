// The device key pair (ES256, P-256), made in the data dir on first use, private key 0600.
// INTERFACE PINNED — the implementation is being written.
import type { KeyObject } from 'node:crypto';
import { KioskError } from '../../../common/errors.ts';

export interface DeviceKey {
  readonly privateKey: KeyObject;
  /** Public JWK: { kty: "EC", crv: "P-256", x, y }. */
  readonly publicJwk: { readonly kty: 'EC'; readonly crv: 'P-256'; readonly x: string; readonly y: string };
  /** RFC 7638 thumbprint (SHA-256, base64url) of publicJwk: the token's cnf.jkt. */
  readonly jkt: string;
}

/** Loads <dataDir>/device-key.pem, or makes it (and the data dir, 0700) when absent. */
export async function loadOrCreateDeviceKey(_dataDir: string): Promise<DeviceKey> {
  throw new KioskError('INTERNAL', 'not implemented yet');
}

/** Loads the key if it exists; never creates one (status must not make keys). */
export async function loadDeviceKey(_dataDir: string): Promise<DeviceKey | undefined> {
  throw new KioskError('INTERNAL', 'not implemented yet');
}
