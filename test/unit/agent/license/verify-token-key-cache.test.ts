// Keys are imported once per key set, not once per token.
import { describe, expect, it, vi } from 'vitest';

const importJWK = vi.hoisted(() => ({ calls: 0 }));
vi.mock('jose', async (original) => {
  const jose = await original<typeof import('jose')>();
  return {
    ...jose,
    importJWK: (...args: Parameters<typeof jose.importJWK>) => {
      importJWK.calls += 1;
      return jose.importJWK(...args);
    },
  };
});

const { verifyLicenseToken } = await import('../../../../agent/src/license/verify-token.ts');
const { licenseClaims, makeTestIssuer, signLicense } = await import('../../../helpers/token-factory.ts');

describe('trusted key import cache', () => {
  it('imports each key of a set once, however many tokens are verified', async () => {
    const issuer = await makeTestIssuer({ kids: ['a', 'b', 'c'] });
    const device = { deviceId: 'e'.repeat(32), components: { soc_serial: 'a'.repeat(32) }, jkt: 'J'.repeat(43) };
    const token = await signLicense(issuer, licenseClaims({ issuer: issuer.issuer, device, iatS: 1_780_000_000 }));
    importJWK.calls = 0;
    for (let i = 0; i < 5; i++) expect((await verifyLicenseToken(token, issuer.keySet)).ok).toBe(true);
    expect(importJWK.calls).toBe(3);
    // another set (e.g. after a reload) is imported afresh
    await verifyLicenseToken(token, { ...issuer.keySet });
    expect(importJWK.calls).toBe(6);
  });
});
