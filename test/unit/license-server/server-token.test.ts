// verifyServerLicenseToken with stub ports: the order of checks and the code of each refusal.
import { describe, expect, it } from 'vitest';
import type { TrustedKeySet } from '../../../common/trusted-keys.ts';
import { verifyServerLicenseToken } from '../../../license-server/src/domain/server-token.ts';

const ISSUER = 'urn:kiosk:vendor:unit';
const KEY = { kty: 'EC' as const, crv: 'P-256' as const, x: 'x'.repeat(43), y: 'y'.repeat(43), kid: 'k1' };
const keySet: TrustedKeySet = { issuer: ISSUER, keys: [KEY, { ...KEY, kid: 'k0', x: 'z'.repeat(43) }] };
const seg = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const claims = {
  iss: ISSUER,
  aud: 'kiosk-agent',
  sub: 'lic_1',
  jti: 'j1',
  iat: 100,
  nbf: 100,
  exp: 200,
  lexp: 300,
  tenant: 't',
  features: [],
  grace: 10,
  device: { v: 1, id: 'a'.repeat(32), components: { mac: 'b'.repeat(32) } },
  cnf: { jkt: 'c'.repeat(43) },
};
const token = (header: Record<string, unknown>, payload: unknown = claims): string => `${seg(header)}.${seg(payload)}.c2ln`;
const good = { alg: 'ES256', typ: 'kiosk-license+jwt', kid: 'k1' };

function deps(signatureOk = true) {
  const checked: string[] = [];
  return {
    checked,
    serverKeySet: async () => keySet,
    verifyEs256: async (_jws: string, key: { x: string }) => {
      checked.push(key.x);
      return signatureOk;
    },
  };
}

const code = (p: Promise<unknown>): Promise<unknown> => p.then(() => 'ok', (e: { code: string }) => e.code);

describe('verifyServerLicenseToken', () => {
  it('accepts our token with any listed kid, checking the signature with that key, whatever its exp', async () => {
    const d = deps();
    expect(await verifyServerLicenseToken(d, token(good))).toEqual(claims);
    expect(await verifyServerLicenseToken(d, token({ ...good, kid: 'k0' }))).toEqual(claims);
    expect(d.checked).toEqual(['x'.repeat(43), 'z'.repeat(43)]);
  });

  it('refuses in the agent\'s order: form, alg, kid, typ, signature, iss/aud, schema', async () => {
    expect(await code(verifyServerLicenseToken(deps(), 'nope'))).toBe('TOKEN_MALFORMED');
    expect(await code(verifyServerLicenseToken(deps(), token({ ...good, alg: 'HS256', kid: 'unknown', typ: 'x' })))).toBe('ALG_NOT_ALLOWED');
    expect(await code(verifyServerLicenseToken(deps(), token({ ...good, kid: 'unknown', typ: 'x' })))).toBe('KEY_UNKNOWN');
    expect(await code(verifyServerLicenseToken(deps(), token({ alg: 'ES256', typ: 'kiosk-license+jwt' })))).toBe('KEY_UNKNOWN');
    expect(await code(verifyServerLicenseToken(deps(false), token({ ...good, typ: 'kiosk-revocations+jwt' })))).toBe('TYPE_INVALID');
    expect(await code(verifyServerLicenseToken(deps(false), token(good, { ...claims, iss: 'other' })))).toBe('SIGNATURE_INVALID');
    expect(await code(verifyServerLicenseToken(deps(), token(good, { ...claims, iss: 'urn:kiosk:vendor:other' })))).toBe('CLAIM_INVALID');
    expect(await code(verifyServerLicenseToken(deps(), token(good, { ...claims, aud: 'kiosk-license-server' })))).toBe('CLAIM_INVALID');
    expect(await code(verifyServerLicenseToken(deps(), token(good, { ...claims, lexp: 150 })))).toBe('CLAIM_INVALID');
    expect(await code(verifyServerLicenseToken(deps(), token(good, 'a string')))).toBe('CLAIM_INVALID');
  });
});
