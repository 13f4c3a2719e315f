// Test issuers and tokens: a trusted key set file (issuer + P-256 public JWKs) and signed
// documents with any header, claims or algorithm — plus raw segment surgery for hostile cases.
// Keys are generated per call (STYLE: keys generated per run).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompactSign, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { DOCUMENT_TYPES, LICENSE_AUDIENCE } from '../../common/license-token.ts';
import type { PublicJwk, TrustedKeySet } from '../../common/trusted-keys.ts';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: PublicJwk;
}

export interface TestIssuer {
  readonly issuer: string;
  readonly keys: readonly SigningKey[];
  readonly keySet: TrustedKeySet;
  /** The first key, or the one with this kid. */
  key(kid?: string): SigningKey;
}

export async function generateSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const publicJwk = { kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y!, kid, alg: 'ES256', use: 'sig' } as PublicJwk;
  return { kid, privateKey, publicKey, publicJwk };
}

export async function makeTestIssuer(opts: { issuer?: string; kids?: readonly string[] } = {}): Promise<TestIssuer> {
  const issuer = opts.issuer ?? 'https://vendor.example/test';
  const keys = await Promise.all((opts.kids ?? ['k1', 'k2']).map((kid) => generateSigningKey(kid)));
  const keySet: TrustedKeySet = { issuer, keys: keys.map((k) => k.publicJwk) };
  return {
    issuer,
    keys,
    keySet,
    key(kid) {
      const k = kid === undefined ? keys[0] : keys.find((x) => x.kid === kid);
      if (!k) throw new Error(`no key ${kid}`);
      return k;
    },
  };
}

/** Writes a key set as `license-server keys generate` does: { issuer, keys: [public JWKs] }. */
export function writeTrustedKeySet(dir: string, keySet: TrustedKeySet | { issuer: string; keys: readonly unknown[] }, name = 'jwks.json'): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(keySet, null, 2));
  return file;
}

export const b64url = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64url');
export const b64json = (value: unknown): string => b64url(JSON.stringify(value));

/** Signs `payload` with jose, using exactly `header` as the protected header (alg included). */
export async function signJws(header: Record<string, unknown> & { alg: string }, payload: unknown, key: CryptoKey | Uint8Array): Promise<string> {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : new TextEncoder().encode(JSON.stringify(payload));
  return new CompactSign(bytes).setProtectedHeader(header).sign(key);
}

/** Assembles a compact JWS from raw parts: no signing (alg none, forged signatures). */
export function rawJws(header: unknown, payload: unknown, signature: Uint8Array | string = ''): string {
  const sig = typeof signature === 'string' ? signature : b64url(signature);
  return `${b64json(header)}.${b64json(payload)}.${sig}`;
}

export function segments(token: string): [string, string, string] {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('not a compact JWS');
  return parts as [string, string, string];
}

/** Replaces one segment (0 header, 1 payload, 2 signature), keeping the others. */
export function replaceSegment(token: string, index: 0 | 1 | 2, segment: string): string {
  const parts = segments(token);
  parts[index] = segment;
  return parts.join('.');
}

export interface DeviceBinding {
  readonly deviceId: string;
  readonly components: Readonly<Record<string, string>>;
  /** cnf.jkt: the device key's thumbprint. */
  readonly jkt: string;
}

export interface LicenseClaimOptions {
  readonly issuer: string;
  readonly device: DeviceBinding;
  /** iat (seconds); nbf defaults to it. */
  readonly iatS: number;
  readonly sub?: string;
  readonly jti?: string;
  readonly tenant?: string;
  readonly features?: readonly string[];
  /** Token lifetime from iat (seconds); default 30 days. */
  readonly lifetimeS?: number;
  /** Grace after exp (seconds); default 7 days. */
  readonly graceS?: number;
}

const DAY_S = 86_400;
let jtiCounter = 0;

/** Valid license claims (DESIGN §4.2) bound to `device`; spread and override for hostile cases. */
export function licenseClaims(o: LicenseClaimOptions): Record<string, unknown> {
  const exp = o.iatS + (o.lifetimeS ?? 30 * DAY_S);
  return {
    iss: o.issuer,
    aud: LICENSE_AUDIENCE,
    sub: o.sub ?? 'lic-0001',
    jti: o.jti ?? `tok-${process.pid}-${++jtiCounter}`,
    iat: o.iatS,
    nbf: o.iatS,
    exp,
    lexp: exp + 365 * DAY_S,
    tenant: o.tenant ?? 'acme',
    features: o.features ?? ['sales', 'reports'],
    grace: o.graceS ?? 7 * DAY_S,
    device: { v: 1, id: o.device.deviceId, components: { ...o.device.components } },
    cnf: { jkt: o.device.jkt },
  };
}

export const licenseHeader = (kid: string): { alg: 'ES256'; typ: string; kid: string } => ({ alg: 'ES256', typ: DOCUMENT_TYPES.license, kid });

/** A properly signed license token. */
export function signLicense(issuer: TestIssuer, claims: Record<string, unknown>, kid = issuer.key().kid): Promise<string> {
  return signJws(licenseHeader(kid), claims, issuer.key(kid).privateKey);
}

/** A signed revocation list (typ kiosk-revocations+jwt; provisional claims shape). */
export function signRevocationList(
  issuer: TestIssuer,
  list: { iatS: number; version: number; licenses?: string[]; devices?: string[]; tokens?: string[] },
): Promise<string> {
  return signJws(
    { alg: 'ES256', typ: DOCUMENT_TYPES.revocationList, kid: issuer.key().kid },
    {
      iss: issuer.issuer,
      aud: LICENSE_AUDIENCE,
      iat: list.iatS,
      version: list.version,
      licenses: list.licenses ?? [],
      devices: list.devices ?? [],
      tokens: list.tokens ?? [],
    },
    issuer.key().privateKey,
  );
}

/**
 * An ECDSA signature in DER (what `openssl dgst -sign` writes) as the 64-byte r||s JOSE form:
 * SEQUENCE { INTEGER r, INTEGER s }, each integer left-padded/stripped to 32 bytes.
 */
export function derToJoseSignature(der: Uint8Array): Buffer {
  const buf = Buffer.from(der);
  let pos = 0;
  const expect = (tag: number): number => {
    if (buf[pos] !== tag) throw new Error(`DER: expected tag ${tag} at ${pos}`);
    pos += 1;
    let len = buf[pos]!;
    pos += 1;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = (len << 8) | buf[pos++]!;
    }
    return len;
  };
  expect(0x30);
  const int = (): Buffer => {
    const len = expect(0x02);
    let bytes = buf.subarray(pos, pos + len);
    pos += len;
    while (bytes.length > 32 && bytes[0] === 0) bytes = bytes.subarray(1);
    if (bytes.length > 32) throw new Error('DER: integer longer than 32 bytes');
    return Buffer.concat([Buffer.alloc(32 - bytes.length), bytes]);
  };
  const r = int();
  const s = int();
  return Buffer.concat([r, s]);
}
