// signing/jws-verify.ts: ES256 only, with the given key only (header keys ignored).
import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { verifyEs256 } from '../../../license-server/src/signing/jws-verify.ts';
import { b64json, replaceSegment, segments, signJws } from '../../helpers/token-factory.ts';

async function keyPair() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk: { kty: 'EC' as const, crv: 'P-256' as const, x: jwk.x!, y: jwk.y! }, fullJwk: jwk };
}

describe('verifyEs256', () => {
  it('true only for an ES256 signature by the given key over exactly these bytes', async () => {
    const a = await keyPair();
    const b = await keyPair();
    const jws = await signJws({ alg: 'ES256', typ: 'kiosk-device-proof+jwt' }, { n: 1 }, a.privateKey);
    expect(await verifyEs256(jws, a.jwk)).toBe(true);
    expect(await verifyEs256(jws, b.jwk)).toBe(false);
    expect(await verifyEs256(replaceSegment(jws, 1, b64json({ n: 2 })), a.jwk)).toBe(false);
    expect(await verifyEs256(`${segments(jws)[0]}.${segments(jws)[1]}.`, a.jwk)).toBe(false);
    expect(await verifyEs256('garbage', a.jwk)).toBe(false);
  });

  it('ignores a key offered in the header and refuses other algorithms and invalid points', async () => {
    const a = await keyPair();
    const b = await keyPair();
    const withJwk = await signJws({ alg: 'ES256', jwk: b.fullJwk }, { n: 1 }, b.privateKey);
    expect(await verifyEs256(withJwk, a.jwk)).toBe(false);
    const hs = await signJws({ alg: 'HS256' }, { n: 1 }, new TextEncoder().encode('k'.repeat(32)));
    expect(await verifyEs256(hs, a.jwk)).toBe(false);
    const jws = await signJws({ alg: 'ES256' }, { n: 1 }, a.privateKey);
    expect(await verifyEs256(jws, { ...a.jwk, y: a.jwk.x })).toBe(false); // not on the curve
  });
});
