// Offline verification of the vendor's signed documents (DESIGN §4.2; research §C.6 "JWT
// hygiene"). The result is data — `{ok:true, …}` or `{ok:false, reason, message}` — never a
// thrown jose error; callers switch on `reason` (a catalogue code).
//
// Checks, in order:
//  1. the text is at most MAX_TOKEN_BYTES (before any parsing), then trimmed;
//  2. compact JWS: exactly 3 base64url segments, the protected header a JSON object;
//  3. `alg` is on the allow-list ['ES256'] (`none`, HS256 keyed with the public key, RS… refused);
//  4. `kid` is present and names a key of the trusted set — the key is found by `kid` only;
//     `jwk`/`jku`/`x5u`/`x5c` headers are never used;
//  5. `typ` is exactly the one of the expected document kind;
//  6. the ES256 signature verifies (jose `compactVerify`, algorithms ['ES256']);
//  7. the payload is a JSON object with `iss` = the trusted issuer and `aud` = "kiosk-agent";
//  8. the document's claims schema (licenseClaimsSchema for a license).
// Time claims (nbf, exp, grace) are NOT decided here: the license policy decides them against
// the trusted time floor, after its clock check (domain/license-policy.ts).
import { compactVerify, errors as joseErrors, importJWK } from 'jose';
import type { z } from 'zod';
import { KioskError } from '../../../common/errors.ts';
import {
  DOCUMENT_TYPES,
  LICENSE_AUDIENCE,
  licenseClaimsSchema,
  MAX_TOKEN_BYTES,
  SIGNING_ALG,
  type DocumentKind,
  type LicenseClaims,
} from '../../../common/license-token.ts';
import type { TrustedKeySet } from '../../../common/trusted-keys.ts';
import type { TokenRejection } from '../domain/license-policy.ts';

export const ALLOWED_ALGORITHMS: readonly string[] = Object.freeze([SIGNING_ALG]);

export interface VerifiedDocument<T> {
  readonly ok: true;
  /** The protected header as signed. */
  readonly header: Readonly<Record<string, unknown>>;
  readonly kid: string;
  readonly claims: T;
  /** The trimmed compact JWS. */
  readonly text: string;
}

export interface RejectedDocument {
  readonly ok: false;
  readonly reason: TokenRejection;
  readonly message: string;
}

export type VerifyResult<T> = VerifiedDocument<T> | RejectedDocument;

const reject = (reason: TokenRejection, message: string): RejectedDocument => ({ ok: false, reason, message });

const SEGMENT = /^[A-Za-z0-9_-]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Every jose error class mapped to the catalogue, keyed by the class's stable `code` (never
 * by message). Unknown jose codes fail closed as TOKEN_MALFORMED.
 */
const JOSE_ERROR_REASONS: Readonly<Record<string, TokenRejection>> = {
  [joseErrors.JOSEAlgNotAllowed.code]: 'ALG_NOT_ALLOWED',
  [joseErrors.JOSENotSupported.code]: 'ALG_NOT_ALLOWED',
  [joseErrors.JWSSignatureVerificationFailed.code]: 'SIGNATURE_INVALID',
  [joseErrors.JWSInvalid.code]: 'TOKEN_MALFORMED',
  [joseErrors.JWTInvalid.code]: 'TOKEN_MALFORMED',
  [joseErrors.JWEInvalid.code]: 'TOKEN_MALFORMED',
  [joseErrors.JWEDecryptionFailed.code]: 'TOKEN_MALFORMED',
  [joseErrors.JWTClaimValidationFailed.code]: 'CLAIM_INVALID',
  // Time claims are the policy's; should jose ever report one it is still a claim failure.
  [joseErrors.JWTExpired.code]: 'CLAIM_INVALID',
  [joseErrors.JWKInvalid.code]: 'KEY_UNKNOWN',
  [joseErrors.JWKSInvalid.code]: 'KEY_UNKNOWN',
  [joseErrors.JWKSNoMatchingKey.code]: 'KEY_UNKNOWN',
  [joseErrors.JWKSMultipleMatchingKeys.code]: 'KEY_UNKNOWN',
  [joseErrors.JWKSTimeout.code]: 'KEY_UNKNOWN',
  [joseErrors.JOSEError.code]: 'TOKEN_MALFORMED',
};

/** Maps a jose error to a rejection; anything that is not a jose error is rethrown (a bug). */
export function joseErrorToRejection(err: unknown): RejectedDocument {
  if (err instanceof joseErrors.JOSEError) {
    const reason = JOSE_ERROR_REASONS[err.code] ?? 'TOKEN_MALFORMED';
    return reject(reason, `${reason === 'SIGNATURE_INVALID' ? 'the signature does not verify' : 'the token is refused'} (${err.code})`);
  }
  throw err;
}

// Keys are imported once per key set (the set objects are frozen config, so a WeakMap keyed
// by the set is a per-set cache that goes away with it).
type VerifyKey = Awaited<ReturnType<typeof importJWK>>;
const keyCache = new WeakMap<TrustedKeySet, Map<string, Promise<VerifyKey>>>();

function trustedKey(keys: TrustedKeySet, kid: string): Promise<VerifyKey> | undefined {
  let byKid = keyCache.get(keys);
  if (!byKid) {
    byKid = new Map();
    for (const jwk of keys.keys) {
      const { kty, crv, x, y } = jwk;
      const imported = importJWK({ kty, crv, x, y }, SIGNING_ALG).catch((err: unknown) => {
        throw new KioskError('KEYS_INVALID', `trusted key ${jwk.kid} cannot be imported as an ES256 public key`, { cause: err });
      });
      // A key that fails to import fails only the documents that name it.
      imported.catch(() => undefined);
      byKid.set(jwk.kid, imported);
    }
    keyCache.set(keys, byKid);
  }
  return byKid.get(kid);
}

/**
 * Verifies a compact JWS of the given document kind against the trusted key set and decodes
 * its claims with `schema`. `iss` must be the set's issuer and `aud` "kiosk-agent".
 * `maxBytes` defaults to MAX_TOKEN_BYTES (a revocation list may be larger).
 */
export async function verifySignedDocument<S extends z.ZodType>(
  input: string,
  keys: TrustedKeySet,
  kind: DocumentKind,
  schema: S,
  options: { readonly maxBytes?: number } = {},
): Promise<VerifyResult<z.infer<S>>> {
  // 1. size, before anything else looks at the text
  const maxBytes = options.maxBytes ?? MAX_TOKEN_BYTES;
  if (Buffer.byteLength(input, 'utf8') > maxBytes) {
    return reject('TOKEN_MALFORMED', `the token is larger than ${maxBytes} bytes`);
  }
  const text = input.trim();
  if (text.length === 0) return reject('TOKEN_MALFORMED', 'the token is empty');

  // 2. shape
  const segments = text.split('.');
  if (segments.length !== 3) return reject('TOKEN_MALFORMED', `a compact JWS has 3 segments, this has ${segments.length}`);
  const [headerB64, payloadB64] = segments as [string, string, string];
  if (!segments.every((s) => SEGMENT.test(s)) || headerB64.length === 0 || payloadB64.length === 0) {
    return reject('TOKEN_MALFORMED', 'the token segments are not base64url');
  }
  const header = decodeJsonObject(headerB64);
  if (header === undefined) return reject('TOKEN_MALFORMED', 'the protected header is not a JSON object');
  if ('crit' in header || 'b64' in header) return reject('TOKEN_MALFORMED', 'the protected header asks for an unsupported extension');

  // 3. algorithm allow-list
  const { alg, kid, typ } = header;
  if (typeof alg !== 'string' || !ALLOWED_ALGORITHMS.includes(alg)) {
    return reject('ALG_NOT_ALLOWED', `algorithm ${JSON.stringify(alg ?? null)} is not allowed (only ${ALLOWED_ALGORITHMS.join(', ')})`);
  }

  // 4. the key, by kid, from the trusted set only
  if (typeof kid !== 'string' || kid.length === 0) return reject('KEY_UNKNOWN', 'the token names no key (no kid)');
  const key = trustedKey(keys, kid);
  if (!key) return reject('KEY_UNKNOWN', `key ${JSON.stringify(kid).slice(0, 80)} is not trusted`);

  // 5. document type, exact
  const expectedTyp = DOCUMENT_TYPES[kind];
  if (typ !== expectedTyp) {
    return reject('TYPE_INVALID', `the token type is ${JSON.stringify(typ ?? null).slice(0, 80)}, expected "${expectedTyp}"`);
  }

  // 6. signature
  let payloadBytes: Uint8Array;
  try {
    const verified = await compactVerify(text, await key, { algorithms: [...ALLOWED_ALGORITHMS] });
    payloadBytes = verified.payload;
  } catch (err) {
    return joseErrorToRejection(err);
  }

  // 7. issuer and audience
  const claims = parseJsonObject(payloadBytes);
  if (claims === undefined) return reject('CLAIM_INVALID', 'the payload is not a JSON object');
  if (claims.iss !== keys.issuer) {
    return reject('CLAIM_INVALID', `the issuer is ${JSON.stringify(claims.iss ?? null).slice(0, 80)}, expected "${keys.issuer}"`);
  }
  if (claims.aud !== LICENSE_AUDIENCE) {
    return reject('CLAIM_INVALID', `the audience is ${JSON.stringify(claims.aud ?? null).slice(0, 80)}, expected "${LICENSE_AUDIENCE}"`);
  }

  // 8. the document's schema
  const parsed = schema.safeParse(claims);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return reject('CLAIM_INVALID', `claim ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'invalid'}`);
  }
  return { ok: true, header, kid, claims: parsed.data as z.infer<S>, text };
}

/** Verifies a license token (typ kiosk-license+jwt) and decodes its claims. */
export function verifyLicenseToken(input: string, keys: TrustedKeySet): Promise<VerifyResult<LicenseClaims>> {
  return verifySignedDocument(input, keys, 'license', licenseClaimsSchema);
}

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  return parseJsonObject(Buffer.from(segment, 'base64url'));
}

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
