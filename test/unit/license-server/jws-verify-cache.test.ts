// signing/jws-verify.ts createVerifyEs256: the same answers as verifyEs256, keys imported once.
import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { createVerifyEs256, verifyEs256 } from '../../../license-server/src/signing/jws-verify.ts';
import { signJws } from '../../helpers/token-factory.ts';

async function keyPair() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk: { kty: 'EC' as const, crv: 'P-256' as const, x: jwk.x!, y: jwk.y! } };
}

describe('createVerifyEs256', () => {
  it('answers as verifyEs256 does, also when asked again with a cached key', async () => {
    const verify = createVerifyEs256();
    const a = await keyPair();
    const b = await keyPair();
    const jws = await signJws({ alg: 'ES256' }, { n: 1 }, a.privateKey);
    const notAPoint = { ...a.jwk, y: a.jwk.x };
    for (let round = 0; round < 2; round++) {
      expect(await verify(jws, a.jwk)).toBe(true);
      expect(await verify(jws, b.jwk)).toBe(false);
      expect(await verify(jws, notAPoint)).toBe(false);
      expect(await verifyEs256(jws, notAPoint)).toBe(false);
      expect(await verify('garbage', a.jwk)).toBe(false);
    }
  });
});
