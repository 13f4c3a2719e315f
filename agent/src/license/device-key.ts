// The device key pair (ES256, P-256), made in the data dir on first use: <dataDir>/device-key.pem,
// PKCS#8 PEM, mode 0600; the data dir is made 0700 when absent. The license token binds it
// (cnf.jkt), so losing or silently replacing it orphans the license: a key file that exists but
// cannot be used is an error (DATA_DIR_UNUSABLE), never overwritten.
// Creation is crash-safe and race-safe: the PEM goes to a temp file (fsync), then link() puts it
// in place — link fails when the name exists, so exactly one of two racing processes wins and
// both load the winner.
import { fsyncDir } from '../../../common/atomic-write.ts';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import { KioskError } from '../../../common/errors.ts';

export interface DeviceKey {
  readonly privateKey: KeyObject;
  /** Public JWK: { kty: "EC", crv: "P-256", x, y }. */
  readonly publicJwk: { readonly kty: 'EC'; readonly crv: 'P-256'; readonly x: string; readonly y: string };
  /** RFC 7638 thumbprint (SHA-256, base64url) of publicJwk: the token's cnf.jkt. */
  readonly jkt: string;
}

export const DEVICE_KEY_FILE = 'device-key.pem';

export function deviceKeyPath(dataDir: string): string {
  return join(dataDir, DEVICE_KEY_FILE);
}

/** Loads <dataDir>/device-key.pem, or makes it (and the data dir, 0700) when absent. */
export async function loadOrCreateDeviceKey(dataDir: string): Promise<DeviceKey> {
  const existing = await loadDeviceKey(dataDir);
  if (existing) return existing;
  ensureDataDir(dataDir);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  installDeviceKeyPem(dataDir, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const key = await loadDeviceKey(dataDir);
  if (!key) throw new KioskError('DATA_DIR_UNUSABLE', `${deviceKeyPath(dataDir)} vanished right after it was written`);
  return key;
}

/** Loads the key if it exists; never creates one (status must not make keys). */
export async function loadDeviceKey(dataDir: string): Promise<DeviceKey | undefined> {
  const file = deviceKeyPath(dataDir);
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new KioskError('DATA_DIR_UNUSABLE', `cannot read the device key ${file}: ${code ?? 'error'}`, { cause: err });
  }
  return deviceKeyFromPem(pem, file);
}

/** Parses a PKCS#8 PEM P-256 private key; anything else is DATA_DIR_UNUSABLE naming the file. */
export async function deviceKeyFromPem(pem: string, file: string): Promise<DeviceKey> {
  const unusable = (why: string, cause?: unknown): KioskError =>
    new KioskError(
      'DATA_DIR_UNUSABLE',
      `the device key ${file} is ${why}; it is left as it is (the license is bound to it): restore it from a backup, or move it away and activate again`,
      cause === undefined ? undefined : { cause },
    );
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw unusable('not a readable private key', err);
  }
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw unusable('not a P-256 key');
  }
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') throw unusable('not a P-256 key');
  const publicJwk = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y } as const;
  return { privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

/**
 * Puts a PEM in place as <dataDir>/device-key.pem unless one is there: temp file (0600, fsync),
 * link() to the final name, remove the temp name. Returns true when this call's key won.
 */
export function installDeviceKeyPem(dataDir: string, pem: string): boolean {
  const file = deviceKeyPath(dataDir);
  const tmp = join(dataDir, `.${DEVICE_KEY_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      const buf = Buffer.from(pem, 'utf8');
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    fsyncDir(dataDir);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new KioskError('DATA_DIR_UNUSABLE', `cannot write the device key ${file}: ${code}`, { cause: err });
  } finally {
    rmSync(tmp, { force: true });
  }
}

function ensureDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (!statSync(dataDir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new KioskError('DATA_DIR_UNUSABLE', `cannot use the data directory ${dataDir}: ${code}`, { cause: err });
  }
}
