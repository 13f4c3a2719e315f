import { generateKeyPairSync } from 'node:crypto';
import { errors as joseErrors, exportJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { isErrorCode } from '../../../../common/errors.ts';
import { MAX_TOKEN_BYTES } from '../../../../common/license-token.ts';
import { joseErrorToRejection, verifyLicenseToken } from '../../../../agent/src/license/verify-token.ts';
import {
  b64json,
  generateSigningKey,
  licenseClaims,
  licenseHeader,
  makeTestIssuer,
  rawJws,
  replaceSegment,
  segments,
  signJws,
  signLicense,
  type TestIssuer,
} from '../../../helpers/token-factory.ts';

const IAT = Math.floor(Date.UTC(2026, 5, 1) / 1000);
const device = { deviceId: 'e'.repeat(32), components: { soc_serial: 'a'.repeat(32), machine_id: 'd'.repeat(32) }, jkt: 'J'.repeat(43) };

let issuer: TestIssuer;
let claims: Record<string, unknown>;
let good: string;

beforeAll(async () => {
  issuer = await makeTestIssuer();
  claims = licenseClaims({ issuer: issuer.issuer, device, iatS: IAT });
  good = await signLicense(issuer, claims);
});

describe('verifyLicenseToken', () => {
  it('accepts a good token and returns its decoded claims, kid and header', async () => {
    const r = await verifyLicenseToken(`  ${good}\n`, issuer.keySet);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.kid).toBe('k1');
    expect(r.claims).toMatchObject({ sub: 'lic-0001', tenant: 'acme', device: { id: device.deviceId } });
    expect(r.text).toBe(good);
  });

  it('accepts a token signed by the second trusted key (rotation)', async () => {
    const r = await verifyLicenseToken(await signLicense(issuer, claims, 'k2'), issuer.keySet);
    expect(r.ok).toBe(true);
  });

  const cases: Array<[string, () => Promise<string> | string, string]> = [
    ['alg none', () => rawJws({ alg: 'none', typ: 'kiosk-license+jwt', kid: 'k1' }, claims), 'ALG_NOT_ALLOWED'],
    [
      'HS256 keyed with the public key',
      async () => signJws({ alg: 'HS256', typ: 'kiosk-license+jwt', kid: 'k1' }, claims, new TextEncoder().encode(JSON.stringify(issuer.key().publicJwk))),
      'ALG_NOT_ALLOWED',
    ],
    ['RS256', () => rawJws({ alg: 'RS256', typ: 'kiosk-license+jwt', kid: 'k1' }, claims, new Uint8Array(256)), 'ALG_NOT_ALLOWED'],
    ['alg missing', () => rawJws({ typ: 'kiosk-license+jwt', kid: 'k1' }, claims, new Uint8Array(64)), 'ALG_NOT_ALLOWED'],
    ['all-zero ES256 signature', () => rawJws(licenseHeader('k1'), claims, new Uint8Array(64)), 'SIGNATURE_INVALID'],
    ['short signature', () => rawJws(licenseHeader('k1'), claims, new Uint8Array(10)), 'SIGNATURE_INVALID'],
    ['empty signature', () => rawJws(licenseHeader('k1'), claims, ''), 'SIGNATURE_INVALID'],
    ['another key under a trusted kid', async () => signJws(licenseHeader('k1'), claims, (await generateSigningKey('k1')).privateKey), 'SIGNATURE_INVALID'],
    [
      'an embedded jwk header (attacker key) with a trusted kid',
      async () => {
        const attacker = await generateSigningKey('k1');
        return signJws({ ...licenseHeader('k1'), jwk: { kty: 'EC', crv: 'P-256', x: attacker.publicJwk.x, y: attacker.publicJwk.y } }, claims, attacker.privateKey);
      },
      'SIGNATURE_INVALID',
    ],
    [
      'jku/x5u/x5c headers pointing elsewhere (attacker key)',
      async () => {
        const attacker = await generateSigningKey('k1');
        return signJws({ ...licenseHeader('k1'), jku: 'https://evil.example/jwks', x5u: 'https://evil.example/c', x5c: ['AAAA'] }, claims, attacker.privateKey);
      },
      'SIGNATURE_INVALID',
    ],
    ['an unknown kid', async () => signJws(licenseHeader('k9'), claims, (await generateSigningKey('k9')).privateKey), 'KEY_UNKNOWN'],
    ['no kid (signed by a trusted key)', () => signJws({ alg: 'ES256', typ: 'kiosk-license+jwt' }, claims, issuer.key().privateKey), 'KEY_UNKNOWN'],
    ['a numeric kid', () => signJws({ alg: 'ES256', typ: 'kiosk-license+jwt', kid: 1 }, claims, issuer.key().privateKey), 'KEY_UNKNOWN'],
    ['a wrong typ', () => signJws({ ...licenseHeader('k1'), typ: 'JWT' }, claims, issuer.key().privateKey), 'TYPE_INVALID'],
    ['the revocation-list typ', () => signJws({ ...licenseHeader('k1'), typ: 'kiosk-revocations+jwt' }, claims, issuer.key().privateKey), 'TYPE_INVALID'],
    ['typ in another case (jose would normalise it)', () => signJws({ ...licenseHeader('k1'), typ: 'KIOSK-LICENSE+JWT' }, claims, issuer.key().privateKey), 'TYPE_INVALID'],
    ['no typ', () => signJws({ alg: 'ES256', kid: 'k1' }, claims, issuer.key().privateKey), 'TYPE_INVALID'],
    ['a tampered payload', () => replaceSegment(good, 1, b64json({ ...claims, features: ['sales', 'reports', 'everything'] })), 'SIGNATURE_INVALID'],
    ['a header swapped after signing', () => replaceSegment(good, 0, b64json({ ...licenseHeader('k1'), extra: 1 })), 'SIGNATURE_INVALID'],
    ['wrong audience', () => signLicense(issuer, { ...claims, aud: 'someone-else' }), 'CLAIM_INVALID'],
    ['audience as an array', () => signLicense(issuer, { ...claims, aud: ['kiosk-agent'] }), 'CLAIM_INVALID'],
    ['wrong issuer', () => signLicense(issuer, { ...claims, iss: 'https://other.example' }), 'CLAIM_INVALID'],
    ['a claim missing (cnf)', () => signLicense(issuer, { ...claims, cnf: undefined }), 'CLAIM_INVALID'],
    ['lexp before exp', () => signLicense(issuer, { ...claims, lexp: (claims.exp as number) - 1 }), 'CLAIM_INVALID'],
    ['a payload that is not JSON', () => signJws(licenseHeader('k1'), 'not json', issuer.key().privateKey), 'CLAIM_INVALID'],
    ['a JSON array payload', () => signJws(licenseHeader('k1'), [1, 2], issuer.key().privateKey), 'CLAIM_INVALID'],
    ['a crit extension header', () => rawJws({ ...licenseHeader('k1'), crit: ['x'], x: 1 }, claims, new Uint8Array(64)), 'TOKEN_MALFORMED'],
    ['an unencoded payload (b64: false)', () => rawJws({ ...licenseHeader('k1'), b64: false }, claims, new Uint8Array(64)), 'TOKEN_MALFORMED'],
    ['truncated', () => good.slice(0, good.length - 30).split('.').slice(0, 2).join('.'), 'TOKEN_MALFORMED'],
    ['extra segments', () => `${good}.AAAA.BBBB`, 'TOKEN_MALFORMED'],
    ['non-base64 characters', () => replaceSegment(good, 1, 'ab$%^&*()'), 'TOKEN_MALFORMED'],
    ['base64 padding', () => replaceSegment(good, 2, `${segments(good)[2]}==`), 'TOKEN_MALFORMED'],
    ['a header that is not JSON', () => `${Buffer.from('{nope').toString('base64url')}.${segments(good)[1]}.${segments(good)[2]}`, 'TOKEN_MALFORMED'],
    ['a header that is a JSON string', () => `${b64json('ES256')}.${segments(good)[1]}.${segments(good)[2]}`, 'TOKEN_MALFORMED'],
    ['empty', () => '', 'TOKEN_MALFORMED'],
    ['whitespace only', () => ' \n\t ', 'TOKEN_MALFORMED'],
    ['one byte over the cap', () => `${good}${' '.repeat(MAX_TOKEN_BYTES + 1 - good.length)}`, 'TOKEN_MALFORMED'],
    ['megabytes of garbage', () => 'A'.repeat(3 * 1024 * 1024), 'TOKEN_MALFORMED'],
  ];

  it.each(cases)('%s → %s', async (_name, make, reason) => {
    const r = await verifyLicenseToken(await make(), issuer.keySet);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe(reason);
    expect(r.message.length).toBeGreaterThan(0);
  });

  it('a token exactly at the cap is parsed (and refused only for what it is)', async () => {
    const padded = `${good}${' '.repeat(MAX_TOKEN_BYTES - good.length)}`;
    expect(Buffer.byteLength(padded)).toBe(MAX_TOKEN_BYTES);
    expect((await verifyLicenseToken(padded, issuer.keySet)).ok).toBe(true);
  });

  it('time claims are not decided here: an expired and a not-yet-valid token still verify', async () => {
    const expired = await signLicense(issuer, { ...claims, exp: 1000, nbf: 10, iat: 10, lexp: 2000 });
    const future = await signLicense(issuer, { ...claims, nbf: 4_000_000_000, exp: 4_100_000_000, lexp: 4_200_000_000 });
    expect((await verifyLicenseToken(expired, issuer.keySet)).ok).toBe(true);
    expect((await verifyLicenseToken(future, issuer.keySet)).ok).toBe(true);
  });

  it('a key set without the signing key refuses with KEY_UNKNOWN; one that holds it accepts', async () => {
    const only2 = { issuer: issuer.issuer, keys: [issuer.key('k2').publicJwk] };
    expect(await verifyLicenseToken(good, only2)).toMatchObject({ ok: false, reason: 'KEY_UNKNOWN' });
    expect((await verifyLicenseToken(good, { ...only2, keys: [issuer.key('k1').publicJwk] })).ok).toBe(true);
  });

  it('a trusted key that is not a valid P-256 point fails with KEYS_INVALID (an environment error), not a verdict', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = await exportJWK(publicKey);
    const broken = { issuer: issuer.issuer, keys: [{ ...issuer.key().publicJwk, x: jwk.x!, y: jwk.x! }] };
    await expect(verifyLicenseToken(good, broken)).rejects.toMatchObject({ code: 'KEYS_INVALID' });
  });
});

describe('jose errors → catalogue', () => {
  it('maps every jose error class to a catalogue code, by its code', () => {
    // every export of jose's `errors` namespace is an error class; (message, {}) suits all their constructors
    const classes = Object.values(joseErrors) as unknown as Array<new (message: string, extra: object) => Error>;
    expect(classes.length).toBeGreaterThan(10);
    for (const Cls of classes) {
      const err = new Cls('x', {});
      expect(err).toBeInstanceOf(joseErrors.JOSEError);
      const r = joseErrorToRejection(err);
      expect(isErrorCode(r.reason), Cls.name).toBe(true);
    }
    expect(joseErrorToRejection(new joseErrors.JWSSignatureVerificationFailed()).reason).toBe('SIGNATURE_INVALID');
    expect(joseErrorToRejection(new joseErrors.JOSEAlgNotAllowed('x')).reason).toBe('ALG_NOT_ALLOWED');
  });

  it('rethrows what is not a jose error (a bug is not a verdict)', () => {
    expect(() => joseErrorToRejection(new TypeError('bug'))).toThrow(TypeError);
  });
});
