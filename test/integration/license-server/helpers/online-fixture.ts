// The online-licensing domain on a real SQLite file and a real key directory, with a fake clock
// and devices whose private keys the test keeps, to sign device proofs and deactivation files
// with jose directly (as an agent would).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, calculateJwkThumbprint, type CryptoKey } from 'jose';
import { onTestFinished } from 'vitest';
import { fixedClock, toSeconds } from '../../../../common/clock.ts';
import { MAX_PROOF_LIFETIME_S, SERVER_AUDIENCE } from '../../../../common/device-api.ts';
import { computeDeviceId } from '../../../../common/fingerprint.ts';
import { DOCUMENT_TYPES, type ActivationRequest } from '../../../../common/license-token.ts';
import { activate, type ActivationResult } from '../../../../license-server/src/domain/activation.ts';
import type { IssuanceDeps } from '../../../../license-server/src/domain/deps.ts';
import type { DocumentSigner } from '../../../../license-server/src/domain/document-signer.ts';
import { createLicense } from '../../../../license-server/src/domain/licenses.ts';
import type { LicenseTermsInput } from '../../../../license-server/src/domain/license-terms.ts';
import { createRevocationListCache } from '../../../../license-server/src/domain/revocation-list-cache.ts';
import type { LicenseRecord } from '../../../../license-server/src/domain/server-storage.ts';
import { deviceKeyThumbprint } from '../../../../license-server/src/signing/device-key.ts';
import { verifyEs256 } from '../../../../license-server/src/signing/jws-verify.ts';
import { generateKey } from '../../../../license-server/src/signing/key-dir.ts';
import { createServerKeySetReader } from '../../../../license-server/src/signing/server-key-set.ts';
import { loadSigner } from '../../../../license-server/src/signing/signer.ts';
import { openSqliteStorage } from '../../../../license-server/src/storage/sqlite/sqlite-storage.ts';
import { hashComponents, physicalDevice, type FakeDevice } from '../../../helpers/activation-request.ts';
import { makeTempDir } from '../../../helpers/tmp.ts';
import { signJws } from '../../../helpers/token-factory.ts';

export const NOW = Date.UTC(2027, 5, 1, 0, 0, 0);
export const NOW_S = NOW / 1000;
export const ISSUER = 'urn:kiosk:vendor:online-test';
export const DAY_MS = 86_400_000;

export type TestDeps = IssuanceDeps & { readonly clock: ReturnType<typeof fixedClock> };

export interface OnlineFixture {
  readonly dir: string;
  readonly keysDir: string;
  readonly dbFile: string;
  readonly deps: TestDeps;
  /** Loads the signer again (after a key rotation). */
  reloadSigner(): void;
  /** Replaces the signer (e.g. one that pauses inside a transaction). */
  setSigner(signer: DocumentSigner): void;
  /** A second connection to the same database (another process, e.g. the CLI). */
  openOtherStorage(): ReturnType<typeof openSqliteStorage>;
  createLicense(over?: Partial<LicenseTermsInput>): Promise<{ licenseKey: string; license: LicenseRecord }>;
  activate(licenseKey: string, device: TestDevice, mode?: 'online' | 'offline'): Promise<ActivationResult>;
}

export async function onlineFixture(): Promise<OnlineFixture> {
  const dir = makeTempDir('kiosk-online-');
  const keysDir = join(dir, 'keys');
  const dbFile = join(dir, 'server.db');
  await generateKey(keysDir, { issuer: ISSUER });
  const storage = await openSqliteStorage({ file: dbFile });
  onTestFinished(() => storage.close());
  const deps = {
    storage,
    clock: fixedClock(NOW),
    random: randomBytes,
    signer: loadSigner(keysDir),
    deviceKeyThumbprint,
    verifyEs256,
    serverKeySet: createServerKeySetReader(keysDir),
    revocationCache: createRevocationListCache(),
  };
  return {
    dir,
    keysDir,
    dbFile,
    deps,
    reloadSigner() {
      deps.signer = loadSigner(keysDir);
    },
    setSigner(signer) {
      deps.signer = signer;
    },
    async openOtherStorage() {
      const other = await openSqliteStorage({ file: dbFile });
      onTestFinished(() => other.close());
      return other;
    },
    createLicense: (over = {}) => createLicense(deps, { tenant: 'shop-1', features: ['pos'], maxDevices: 2, days: 365, graceDays: 7, actor: 'test', ...over }),
    activate: (licenseKey, device, mode = 'online') => activate(deps, { licenseKey, request: device.request, mode, actor: 'test' }),
  };
}

export interface TestDevice {
  readonly deviceId: string;
  readonly components: Record<string, string>;
  readonly privateKey: CryptoKey;
  readonly jkt: string;
  readonly request: ActivationRequest;
}

/** A physical device with a fresh P-256 device key (or the given one: the same device, same key). */
export async function makeTestDevice(
  n: number | string,
  options: { fake?: FakeDevice; key?: { privateKey: CryptoKey; publicKey: CryptoKey }; issuer?: string } = {},
): Promise<TestDevice> {
  const fake = options.fake ?? physicalDevice(n);
  const issuer = options.issuer ?? ISSUER;
  const components = hashComponents(issuer, fake.raw);
  const { privateKey, publicKey } = options.key ?? (await generateKeyPair('ES256', { extractable: true }));
  const jwk = await exportJWK(publicKey);
  const devicePublicKey = { kty: 'EC' as const, crv: 'P-256' as const, x: jwk.x ?? '', y: jwk.y ?? '' };
  const jkt = await calculateJwkThumbprint(devicePublicKey, 'sha256');
  const deviceId = computeDeviceId(components);
  return {
    deviceId,
    components,
    privateKey,
    jkt,
    request: {
      type: 'kiosk-activation-request',
      v: 1,
      issuer,
      deviceId,
      components,
      devicePublicKey,
      jkt,
      platform: { arch: 'x64', virtualization: null, container: null },
    },
  };
}

let proofCounter = 0;
const newJti = (): string => `proof-${process.pid}-${++proofCounter}-${randomBytes(6).toString('hex')}`;

export interface ProofOptions {
  readonly nowMs?: number;
  readonly lifetimeS?: number;
  readonly iatS?: number;
  readonly jti?: string;
  readonly components?: Record<string, string>;
  /** Claims and header members to override (or remove with undefined). */
  readonly claims?: Record<string, unknown>;
  readonly header?: Record<string, unknown>;
  /** Sign with this key instead of the device's. */
  readonly key?: CryptoKey;
}

/** A device proof (typ kiosk-device-proof+jwt) carrying `lic`, signed by the device key. */
export function signProof(device: TestDevice, lic: string, o: ProofOptions = {}): Promise<string> {
  const iat = o.iatS ?? toSeconds(o.nowMs ?? NOW);
  const claims = {
    iss: device.deviceId,
    aud: SERVER_AUDIENCE,
    iat,
    exp: iat + (o.lifetimeS ?? Math.min(120, MAX_PROOF_LIFETIME_S)),
    jti: o.jti ?? newJti(),
    lic,
    ...(o.components ? { components: o.components } : {}),
    ...o.claims,
  };
  const header = { alg: 'ES256', typ: DOCUMENT_TYPES.deviceProof, kid: device.jkt, ...o.header };
  return signJws(header as { alg: string }, claims, o.key ?? device.privateKey);
}

/** The offline deactivation file (typ kiosk-deactivation+jwt), as `kiosk-agent deactivate --out` writes it. */
export function signDeactivationFile(device: TestDevice, lic: string, o: ProofOptions = {}): Promise<string> {
  const claims = {
    iss: device.deviceId,
    aud: SERVER_AUDIENCE,
    iat: o.iatS ?? toSeconds(o.nowMs ?? NOW),
    jti: o.jti ?? newJti(),
    lic,
    action: 'deactivate',
    ...o.claims,
  };
  const header = { alg: 'ES256', typ: DOCUMENT_TYPES.deactivation, kid: device.jkt, ...o.header };
  return signJws(header as { alg: string }, claims, o.key ?? device.privateKey);
}
