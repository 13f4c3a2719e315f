// What domain functions are given (explicit wiring, no singletons): built once in app.ts.
import type { Clock } from '../../../common/clock.ts';
import type { RandomBytes } from '../../../common/license-key.ts';
import type { TrustedKeySet } from '../../../common/trusted-keys.ts';
import type { DocumentSigner } from './document-signer.ts';
import type { RevocationListCache } from './revocation-list-cache.ts';
import type { SeatActivator } from './seat.ts';
import type { DevicePublicJwk, ServerStorage } from './server-storage.ts';

export interface DomainDeps {
  readonly storage: ServerStorage;
  readonly clock: Clock;
  readonly random: RandomBytes;
}

/** RFC 7638 thumbprint of a device public key; null when it is not a valid P-256 public key. */
export type DeviceKeyThumbprint = (jwk: DevicePublicJwk) => Promise<string | null>;

/**
 * True when `jws` is a compact JWS with protected header alg ES256 whose signature verifies
 * with this P-256 public key; false for anything else (malformed, other alg, wrong key).
 */
export type VerifyEs256 = (jws: string, key: DevicePublicJwk) => Promise<boolean>;

/** This server's public key set as it is now (jwks.json: every trusted key, not only the signing one). */
export type ServerKeySet = () => Promise<TrustedKeySet>;

export interface IssuanceDeps extends DomainDeps {
  readonly signer: DocumentSigner;
  readonly deviceKeyThumbprint: DeviceKeyThumbprint;
  /** Checks device-signed documents against a stored device key, and our own tokens. */
  readonly verifyEs256: VerifyEs256;
  readonly serverKeySet: ServerKeySet;
  /** The signed revocation list per version (one per process); without it every call signs anew. */
  readonly revocationCache?: RevocationListCache;
  /** Takes an activation's seat and signs its token elsewhere (the seat worker thread); absent: here. */
  readonly activateSeat?: SeatActivator;
}
