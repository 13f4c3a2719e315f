// Signs documents with the active key (DESIGN §4.2): compact JWS, header
// {alg: "ES256", typ: <the document type's>, kid}; license claims are checked against the
// shared schema before they are signed, so the server never issues a token agents would refuse.
// The signature is node:crypto's synchronous ECDSA over P-256 with SHA-256 in the JWS (IEEE
// P1363, r‖s) encoding, with the private key imported once: no thread-pool round trip while a
// caller holds the storage's write lock, no key import per document.
//
// A running server signs with the key directory's active key as it is NOW (DESIGN §4.1: a
// `keys activate` in another process takes effect at once): createKeyDirSigner stats
// signing.json and jwks.json at most once per `recheckMs` and loads the key again when either
// changed.
import { sign, type KeyObject } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { KioskError } from '../../../common/errors.ts';
import { DOCUMENT_TYPES, licenseClaimsSchema, SIGNING_ALG, type DocumentKind, type LicenseClaims } from '../../../common/license-token.ts';
import type { DocumentSigner } from '../domain/document-signer.ts';
import { JWKS_FILE, loadSigningKey, SIGNING_FILE, type SigningKey } from './key-dir.ts';

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/** A compact JWS signed with ES256 (synchronous). */
export function signCompactEs256(header: Readonly<Record<string, unknown>>, payload: Readonly<Record<string, unknown>>, privateKey: KeyObject): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = sign('sha256', Buffer.from(input, 'ascii'), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

export function createSigner(key: SigningKey): DocumentSigner {
  const signNow = (kind: DocumentKind, claims: Readonly<Record<string, unknown>>): string => {
    if (claims.iss !== undefined && claims.iss !== key.issuer) {
      throw new KioskError('INTERNAL', `refusing to sign for issuer ${String(claims.iss)}: this key set belongs to ${key.issuer}`);
    }
    let payload: Record<string, unknown> = { ...claims, iss: key.issuer };
    if (kind === 'license') {
      const parsed = licenseClaimsSchema.safeParse(payload);
      if (!parsed.success) {
        const first = parsed.error.issues[0];
        throw new KioskError('INTERNAL', `refusing to sign invalid license claims (${first?.path.join('.') || 'claims'}: ${first?.message})`);
      }
      payload = parsed.data; // exactly the schema's claims, nothing else
    }
    return signCompactEs256({ alg: SIGNING_ALG, typ: DOCUMENT_TYPES[kind], kid: key.kid }, payload, key.privateKey);
  };
  // The port is asynchronous (another signer may need IO); this one settles without a round trip.
  const signDocument = (kind: DocumentKind, claims: Readonly<Record<string, unknown>>): Promise<string> => {
    try {
      return Promise.resolve(signNow(kind, claims));
    } catch (err) {
      return Promise.reject(err);
    }
  };
  return {
    issuer: key.issuer,
    kid: key.kid,
    signLicense: (claims: LicenseClaims) => signDocument('license', claims),
    signDocument,
  };
}

/** The signer of a key directory as it is now; KEYS_MISSING when it holds no keys. */
export function loadSigner(keysDir: string): DocumentSigner {
  return createSigner(loadSigningKey(keysDir));
}

export interface KeyDirSignerOptions {
  /** The time the recheck interval is measured on (the server's clock). */
  readonly nowMs: () => number;
  /** Stat the key files at most this often; 0 = on every use. */
  readonly recheckMs?: number;
}

export const DEFAULT_KEY_RECHECK_MS = 1_000;

/**
 * The signer of a key directory that follows it: when signing.json or jwks.json changed (a
 * `keys activate`, `generate` or `retire`, in any process), the active key is loaded again —
 * checked by stat (inode, size, mtime), at most once per recheckMs. Loads at once, so a
 * directory without keys fails here (KEYS_MISSING). A directory that became unusable makes
 * every use fail (fail closed) until it is fixed; nothing is signed with a stale key then.
 */
export function createKeyDirSigner(keysDir: string, options: KeyDirSignerOptions): DocumentSigner {
  const recheckMs = Math.max(0, options.recheckMs ?? DEFAULT_KEY_RECHECK_MS);
  const stamp = (): string => `${fileStamp(join(keysDir, SIGNING_FILE))}|${fileStamp(join(keysDir, JWKS_FILE))}`;
  let loadedStamp = stamp();
  let current = loadSigner(keysDir);
  let checkedAtMs = options.nowMs();
  const now = (): DocumentSigner => {
    const t = options.nowMs();
    if (recheckMs > 0 && Math.abs(t - checkedAtMs) < recheckMs) return current;
    const s = stamp();
    if (s !== loadedStamp) {
      current = loadSigner(keysDir); // throws (and is retried on the next use) when the new state is unusable
      loadedStamp = s;
    }
    checkedAtMs = t;
    return current;
  };
  return {
    get issuer() {
      return now().issuer;
    },
    get kid() {
      return now().kid;
    },
    signLicense: (claims) => {
      try {
        return now().signLicense(claims);
      } catch (err) {
        return Promise.reject(err);
      }
    },
    signDocument: (kind, claims) => {
      try {
        return now().signDocument(kind, claims);
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}

function fileStamp(path: string): string {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw err;
  }
}
