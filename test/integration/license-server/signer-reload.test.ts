// The running server's signer follows its key directory (DESIGN §4.1: `keys activate` in
// another process takes effect at once): key files are checked at most once per recheck
// interval, on the server's clock; a directory left unusable fails closed until fixed. Also the
// synchronous node:crypto signature and RFC 7638 thumbprint against jose.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, compactVerify, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { licenseClaimsSchema, type LicenseClaims } from '../../../common/license-token.ts';
import { deviceKeyThumbprint, ecJwkThumbprint, isP256Point } from '../../../license-server/src/signing/device-key.ts';
import { activateKey, generateKey, readKeyDir, retireKey } from '../../../license-server/src/signing/key-dir.ts';
import { createKeyDirSigner } from '../../../license-server/src/signing/signer.ts';
import { makeTempDir } from '../../helpers/tmp.ts';

const ISSUER = 'urn:kiosk:vendor:reload-test';
const claims: LicenseClaims = {
  iss: ISSUER,
  aud: 'kiosk-agent',
  sub: 'lic_0123456789abcdef0123',
  jti: 'j1',
  iat: 1_800_000_000,
  nbf: 1_800_000_000,
  exp: 1_802_592_000,
  lexp: 1_830_000_000,
  tenant: 'shop',
  features: ['pos'],
  grace: 86_400,
  device: { v: 1, id: 'a'.repeat(32), components: { mac: 'b'.repeat(32) } },
  cnf: { jkt: 'c'.repeat(43) },
};

async function twoKeys(): Promise<{ dir: string; k1: string; k2: string }> {
  const dir = join(makeTempDir(), 'keys');
  const first = await generateKey(dir, { issuer: ISSUER });
  const next = await generateKey(dir);
  return { dir, k1: first.kid, k2: next.kid };
}

describe('key directory signer', () => {
  it('signs with the newly activated key once the recheck interval has passed on the server clock', async () => {
    const { dir, k1, k2 } = await twoKeys();
    let now = 1_000;
    const signer = createKeyDirSigner(dir, { nowMs: () => now, recheckMs: 1_000 });
    expect(signer.kid).toBe(k1);
    activateKey(dir, k2);
    now += 999;
    expect(signer.kid).toBe(k1); // not checked yet: at most one stat per interval
    now += 1;
    expect(signer.kid).toBe(k2);
    const token = await signer.signLicense(claims);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', typ: 'kiosk-license+jwt', kid: k2 });
    const { payload } = await jwtVerify(token, createLocalJWKSet(readKeyDir(dir) as never), { typ: 'kiosk-license+jwt', currentDate: new Date(claims.iat * 1000) });
    expect(licenseClaimsSchema.parse(payload)).toEqual(claims);

    // retiring the old key changes jwks.json: reloaded, still signing with K2
    retireKey(dir, k1);
    now += 1_000;
    expect(signer.kid).toBe(k2);
  });

  it('fails closed while the directory is unusable, and recovers when it is fixed', async () => {
    const { dir, k1 } = await twoKeys();
    const signer = createKeyDirSigner(dir, { nowMs: () => 0, recheckMs: 0 });
    writeFileSync(join(dir, 'signing.json'), JSON.stringify({ kid: 'ffffffffffffffff' }));
    await expect(signer.signLicense(claims)).rejects.toMatchObject({ code: 'KEYS_INVALID' });
    writeFileSync(join(dir, 'signing.json'), JSON.stringify({ kid: k1 }));
    expect(decodeProtectedHeader(await signer.signLicense(claims)).kid).toBe(k1);
  });

  it('the node:crypto signature verifies with jose; the thumbprint is RFC 7638 as jose computes it', async () => {
    const { dir } = await twoKeys();
    const signer = createKeyDirSigner(dir, { nowMs: () => 0 });
    const doc = await signer.signDocument('revocationList', { aud: 'kiosk-agent', iat: 1, version: 3 });
    const key = readKeyDir(dir)!.keys[0]!;
    const { payload } = await compactVerify(doc, await import('node:crypto').then((c) => c.createPublicKey({ key: { kty: key.kty, crv: key.crv, x: key.x, y: key.y }, format: 'jwk' })));
    expect(JSON.parse(Buffer.from(payload).toString('utf8'))).toEqual({ aud: 'kiosk-agent', iat: 1, version: 3, iss: ISSUER });
    for (let i = 0; i < 20; i++) {
      const { x, y } = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
      const jwk = { kty: 'EC' as const, crv: 'P-256' as const, x: x ?? '', y: y ?? '' };
      const expected = await calculateJwkThumbprint(jwk, 'sha256');
      expect(ecJwkThumbprint(jwk)).toBe(expected);
      expect(await deviceKeyThumbprint(jwk)).toBe(expected);
    }
    expect(await deviceKeyThumbprint({ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' })).toBeNull();
    // 32-byte coordinates that are not a point on the curve
    const { x, y } = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const yBytes = Buffer.from(y ?? '', 'base64url');
    yBytes[31] = (yBytes[31] ?? 0) ^ 1;
    expect(await deviceKeyThumbprint({ kty: 'EC', crv: 'P-256', x: x ?? '', y: yBytes.toString('base64url') })).toBeNull();
    // a point of another curve's size
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
    expect(await deviceKeyThumbprint({ kty: 'EC', crv: 'P-256', x: p384.x ?? '', y: p384.y ?? '' })).toBeNull();
  });

  it('isP256Point agrees with OpenSSL on points, near-points and out-of-range coordinates', () => {
    const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
    const b64 = (n: bigint): string => Buffer.from(n.toString(16).padStart(64, '0'), 'hex').toString('base64url');
    const openssl = (x: string, y: string): boolean => {
      try {
        createPublicKey({ key: { kty: 'EC', crv: 'P-256', x, y }, format: 'jwk' });
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 50; i++) {
      const { x = '', y = '' } = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
      expect(isP256Point(x, y)).toBe(true);
      const yn = BigInt(`0x${Buffer.from(y, 'base64url').toString('hex')}`);
      // p - y is the other point with this x; y + 1 is not on the curve; y + p is the same residue, out of range
      expect([isP256Point(x, b64(P - yn)), isP256Point(x, b64((yn + 1n) % P))]).toEqual([openssl(x, b64(P - yn)), openssl(x, b64((yn + 1n) % P))]);
      expect(isP256Point(x, b64(P - yn))).toBe(true);
      if (yn + P < 2n ** 256n) expect(isP256Point(x, b64(yn + P))).toBe(false);
    }
    expect(isP256Point(b64(0n), b64(0n))).toBe(false); // no affine form of the point at infinity
    const { x = '', y = '' } = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    expect(isP256Point(`${x}=`, y)).toBe(false); // base64url without padding only
    expect(isP256Point(x.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), y)).toBe(false);
  });
});
