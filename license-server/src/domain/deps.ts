// What domain functions are given (explicit wiring, no singletons): built once in app.ts.
import type { Clock } from '../../../common/clock.ts';
import type { RandomBytes } from '../../../common/license-key.ts';
import type { DocumentSigner } from './document-signer.ts';
import type { DevicePublicJwk, ServerStorage } from './server-storage.ts';

export interface DomainDeps {
  readonly storage: ServerStorage;
  readonly clock: Clock;
  readonly random: RandomBytes;
}

/** RFC 7638 thumbprint of a device public key; null when it is not a valid P-256 public key. */
export type DeviceKeyThumbprint = (jwk: DevicePublicJwk) => Promise<string | null>;

export interface IssuanceDeps extends DomainDeps {
  readonly signer: DocumentSigner;
  readonly deviceKeyThumbprint: DeviceKeyThumbprint;
}
