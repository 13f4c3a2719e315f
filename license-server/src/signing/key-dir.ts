// The signing key directory (DESIGN §4.1): DIR/<kid>.private.pem (PKCS#8, 0600), DIR/jwks.json
// (the public key set agents trust, issuer beside the keys: common/trusted-keys.ts),
// DIR/signing.json (which key signs) and DIR/retired/ (private keys of retired keys).
// Rotation: generate adds a key that is trusted but does not sign; activate makes it sign;
// retire removes a key from the trusted set. Private key material is never printed or logged.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import { z } from 'zod';
import { writeFileAtomic } from '../../../common/atomic-write.ts';
import { KioskError } from '../../../common/errors.ts';
import type { RandomBytes } from '../../../common/license-key.ts';
import { ISSUER_PATTERN, SIGNING_ALG } from '../../../common/license-token.ts';
import { parseTrustedKeySetText, type PublicJwk, type TrustedKeySet } from '../../../common/trusted-keys.ts';

export const JWKS_FILE = 'jwks.json';
export const SIGNING_FILE = 'signing.json';
export const RETIRED_DIR = 'retired';
export const KID_LENGTH = 16;

/**
 * The key id: the first 64 bits of the RFC 7638 thumbprint, as 16 hex digits (anyone can
 * recompute it from the public key; hex, so it never starts with a dash on a command line).
 */
export const kidOf = (thumbprint: string): string => Buffer.from(thumbprint, 'base64url').toString('hex').slice(0, KID_LENGTH);

export const privateKeyPath = (dir: string, kid: string): string => join(dir, `${kid}.private.pem`);

export interface KeyDirState {
  readonly issuer: string;
  readonly keys: readonly PublicJwk[];
  /** The key that signs: signing.json, or the first key when that file is absent. */
  readonly signingKid: string;
}

export type KeyStatus = 'signing' | 'trusted' | 'retired';

export interface KeyInfo {
  readonly kid: string;
  readonly status: KeyStatus;
  readonly hasPrivateKey: boolean;
}

/** The state of DIR, or undefined when it holds no key set yet. */
export function readKeyDir(dir: string): KeyDirState | undefined {
  const jwksPath = join(dir, JWKS_FILE);
  let text: string;
  try {
    text = readFileSync(jwksPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const set = parseTrustedKeySetText(text, jwksPath);
  const signingKid = readSigningKid(dir) ?? set.keys[0]?.kid ?? '';
  if (!set.keys.some((k) => k.kid === signingKid)) {
    throw new KioskError('KEYS_INVALID', `${join(dir, SIGNING_FILE)} names key ${signingKid}, which ${jwksPath} does not hold`);
  }
  return { issuer: set.issuer, keys: set.keys, signingKid };
}

export function listKeys(dir: string): { readonly issuer: string; readonly keys: readonly KeyInfo[] } {
  const state = requireKeyDir(dir);
  const keys: KeyInfo[] = state.keys.map((k) => ({
    kid: k.kid,
    status: k.kid === state.signingKid ? 'signing' : 'trusted',
    hasPrivateKey: existsSync(privateKeyPath(dir, k.kid)),
  }));
  const retiredDir = join(dir, RETIRED_DIR);
  if (existsSync(retiredDir)) {
    for (const name of readdirSync(retiredDir).sort()) {
      const m = /^([A-Za-z0-9_-]+)\.private\.pem$/.exec(name);
      if (m?.[1]) keys.push({ kid: m[1], status: 'retired', hasPrivateKey: true });
    }
  }
  return { issuer: state.issuer, keys };
}

export interface GeneratedKey {
  readonly kid: string;
  readonly issuer: string;
  readonly signingKid: string;
  /** Every key now trusted, the new one last. */
  readonly trustedKids: readonly string[];
  /** DIR existed with group/other access and was narrowed to 0700. */
  readonly tightenedDir: boolean;
}

/** A random issuer id, so that no two vendors share one by accident. */
export function newIssuerId(random: RandomBytes = randomBytes): string {
  return `urn:kiosk:vendor:${Buffer.from(random(16)).toString('hex')}`;
}

/** Makes an ES256 key pair in DIR: the signing key if DIR had none, else the next (trusted, not signing). */
export async function generateKey(dir: string, options: { readonly issuer?: string; readonly random?: RandomBytes } = {}): Promise<GeneratedKey> {
  if (options.issuer !== undefined && !ISSUER_PATTERN.test(options.issuer)) {
    throw new KioskError('USAGE', `--issuer "${options.issuer}" must be 1-128 characters of A-Z a-z 0-9 _ . : / -`);
  }
  const tightenedDir = ensurePrivateDir(dir);
  const existing = readKeyDir(dir);
  if (existing && options.issuer !== undefined && options.issuer !== existing.issuer) {
    throw new KioskError('USAGE', `${dir} holds keys of issuer ${existing.issuer}; a key set has one issuer (drop --issuer, or use another directory)`);
  }
  const issuer = existing?.issuer ?? options.issuer ?? newIssuerId(options.random);

  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  if (kty !== 'EC' || crv !== 'P-256' || !x || !y) throw new KioskError('INTERNAL', 'the generated key is not a P-256 key');
  const kid = kidOf(await calculateJwkThumbprint({ kty, crv, x, y }, 'sha256'));
  if (existing?.keys.some((k) => k.kid === kid)) throw new KioskError('INTERNAL', `key id ${kid} exists already; run the command again`);
  const jwk: PublicJwk = { kty, crv, x, y, kid, alg: SIGNING_ALG, use: 'sig' };

  // The private key first: a crash before jwks.json leaves an unused file, never a trusted key without one.
  writeFileAtomic(privateKeyPath(dir, kid), privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600);
  const keys = [...(existing?.keys ?? []), jwk];
  writeKeySet(dir, { issuer, keys });
  const signingKid = existing?.signingKid ?? kid;
  if (!existing) writeSigningKid(dir, kid);
  return { kid, issuer, signingKid, trustedKids: keys.map((k) => k.kid), tightenedDir };
}

/** Makes KID the signing key. Agents must trust it already (shipped in their key set) before this. */
export function activateKey(dir: string, kid: string): { readonly kid: string; readonly previousKid: string } {
  const state = requireKeyDir(dir);
  requireTrusted(dir, state, kid);
  loadPrivateKey(dir, kid, state); // refuse a key that could not sign
  if (state.signingKid !== kid) writeSigningKid(dir, kid);
  return { kid, previousKid: state.signingKid };
}

/** Drops KID from the trusted set and moves its private key to DIR/retired/. */
export function retireKey(dir: string, kid: string): { readonly kid: string; readonly movedTo: string | null } {
  const state = requireKeyDir(dir);
  requireTrusted(dir, state, kid);
  if (kid === state.signingKid) {
    throw new KioskError('USAGE', `${kid} is the signing key: activate another key first (license-server keys activate KID)`);
  }
  let movedTo: string | null = null;
  const from = privateKeyPath(dir, kid);
  if (existsSync(from)) {
    ensurePrivateDir(join(dir, RETIRED_DIR));
    movedTo = privateKeyPath(join(dir, RETIRED_DIR), kid);
    renameSync(from, movedTo);
  }
  // A signing.json that was never written named the first key implicitly: pin it before the order changes.
  writeSigningKid(dir, state.signingKid);
  writeKeySet(dir, { issuer: state.issuer, keys: state.keys.filter((k) => k.kid !== kid) });
  return { kid, movedTo };
}

export interface SigningKey {
  readonly kid: string;
  readonly issuer: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: PublicJwk;
}

/** The active key, checked: its private key exists, is P-256, and matches the public key agents trust. */
export function loadSigningKey(dir: string): SigningKey {
  const state = readKeyDir(dir);
  if (!state) throw new KioskError('KEYS_MISSING', `no signing keys in ${dir}: run license-server keys generate --out ${dir}`);
  const { privateKey, publicJwk } = loadPrivateKey(dir, state.signingKid, state);
  return { kid: state.signingKid, issuer: state.issuer, privateKey, publicJwk };
}

function loadPrivateKey(dir: string, kid: string, state: KeyDirState): { privateKey: KeyObject; publicJwk: PublicJwk } {
  const path = privateKeyPath(dir, kid);
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new KioskError('KEYS_MISSING', `key ${kid} has no private key in ${dir} (${kid}.private.pem)`);
    throw err;
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new KioskError('KEYS_INVALID', `${path} is not a private key`);
  }
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new KioskError('KEYS_INVALID', `${path} is not a P-256 (ES256) key`);
  }
  const publicJwk = state.keys.find((k) => k.kid === kid);
  const derived = createPublicKey(privateKey).export({ format: 'jwk' });
  if (!publicJwk || derived.x !== publicJwk.x || derived.y !== publicJwk.y) {
    throw new KioskError('KEYS_INVALID', `${path} does not match key ${kid} in ${JWKS_FILE}`);
  }
  return { privateKey, publicJwk };
}

function requireKeyDir(dir: string): KeyDirState {
  const state = readKeyDir(dir);
  if (!state) throw new KioskError('KEYS_MISSING', `no signing keys in ${dir}: run license-server keys generate --out ${dir}`);
  return state;
}

function requireTrusted(dir: string, state: KeyDirState, kid: string): void {
  if (!state.keys.some((k) => k.kid === kid)) {
    throw new KioskError('USAGE', `no key ${kid} in ${dir} (keys: ${state.keys.map((k) => k.kid).join(', ')})`);
  }
}

function writeKeySet(dir: string, set: TrustedKeySet): void {
  writeFileAtomic(join(dir, JWKS_FILE), `${JSON.stringify(set, null, 2)}\n`, 0o644);
}

const signingFileSchema = z.object({ kid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) });

function readSigningKid(dir: string): string | undefined {
  const path = join(dir, SIGNING_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KioskError('KEYS_INVALID', `${path}: not JSON`);
  }
  const parsed = signingFileSchema.safeParse(value);
  if (!parsed.success) throw new KioskError('KEYS_INVALID', `${path}: expected {"kid": KID}`);
  return parsed.data.kid;
}

function writeSigningKid(dir: string, kid: string): void {
  writeFileAtomic(join(dir, SIGNING_FILE), `${JSON.stringify({ kid })}\n`, 0o644);
}

/** Creates DIR with mode 0700, or narrows an existing DIR that others can read. Returns true if narrowed. */
function ensurePrivateDir(dir: string): boolean {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700); // mkdir's mode is subject to the umask
    return false;
  }
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o077) === 0) return false;
  chmodSync(dir, 0o700);
  return true;
}
