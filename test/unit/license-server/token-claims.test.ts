import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../common/clock.ts';
import { licenseClaimsSchema, LICENSE_AUDIENCE } from '../../../common/license-token.ts';
import type { LicenseRecord } from '../../../license-server/src/domain/server-storage.ts';
import { buildLicenseClaims, ONLINE_TOKEN_LIFETIME_SECONDS, tokenExpiry } from '../../../license-server/src/domain/token-claims.ts';

const NOW_MS = Date.UTC(2027, 0, 15, 10, 30, 0, 750); // .750 s: iat is floored
const NOW_S = Math.floor(NOW_MS / 1000);
const DAY_S = 86_400;

const license = (expiresInDays: number): LicenseRecord => ({
  id: 'lic_0123456789abcdef0123',
  keyHash: 'f'.repeat(64),
  keyHint: 'AB12',
  tenant: 'shop_1',
  features: ['pos', 'sync.v2'],
  maxDevices: 2,
  startsAtMs: NOW_MS - DAY_S * 1000,
  expiresAtMs: (NOW_S + expiresInDays * DAY_S) * 1000,
  graceSeconds: 7 * DAY_S,
  allowVirtual: false,
  status: 'active',
  createdAtMs: NOW_MS - DAY_S * 1000,
  revokedAtMs: null,
});

const input = (mode: 'online' | 'offline', expiresInDays: number) => ({
  issuer: 'urn:kiosk:vendor:abc',
  license: license(expiresInDays),
  deviceId: 'a'.repeat(32),
  components: { dmi_uuid: 'b'.repeat(32), mac: 'c'.repeat(32) },
  jkt: 'J'.repeat(43),
  mode,
  jti: 'tok-1',
  nowMs: fixedClock(NOW_MS).nowMs(),
});

describe('license token claims', () => {
  it('an online token runs 30 days when the license runs longer', () => {
    const c = buildLicenseClaims(input('online', 365));
    expect(c.iat).toBe(NOW_S);
    expect(c.nbf).toBe(NOW_S);
    expect(c.exp).toBe(NOW_S + 30 * DAY_S);
    expect(c.lexp).toBe(NOW_S + 365 * DAY_S);
    expect(licenseClaimsSchema.parse(c)).toEqual(c);
  });

  it('an online token ends with the license when that comes sooner', () => {
    const c = buildLicenseClaims(input('online', 10));
    expect(c.exp).toBe(NOW_S + 10 * DAY_S);
    expect(c.exp).toBe(c.lexp);
    expect(licenseClaimsSchema.safeParse(c).success).toBe(true);
  });

  it('an air-gapped token runs to the license\'s end', () => {
    const c = buildLicenseClaims(input('offline', 365));
    expect(c.exp).toBe(c.lexp);
    expect(c.lexp).toBe(NOW_S + 365 * DAY_S);
  });

  it('carries the seat\'s device id, the request\'s components, the key binding and the license terms', () => {
    const i = input('offline', 30);
    const c = buildLicenseClaims(i);
    expect(c).toEqual({
      iss: 'urn:kiosk:vendor:abc',
      aud: LICENSE_AUDIENCE,
      sub: i.license.id,
      jti: 'tok-1',
      iat: NOW_S,
      nbf: NOW_S,
      exp: NOW_S + 30 * DAY_S,
      lexp: NOW_S + 30 * DAY_S,
      tenant: 'shop_1',
      features: ['pos', 'sync.v2'],
      grace: 7 * DAY_S,
      device: { v: 1, id: 'a'.repeat(32), components: i.components },
      cnf: { jkt: 'J'.repeat(43) },
    });
    expect(licenseClaimsSchema.safeParse(c).success).toBe(true);
  });

  it('tokenExpiry is min(iat + 30 days, lexp) online and lexp offline', () => {
    expect(ONLINE_TOKEN_LIFETIME_SECONDS).toBe(30 * DAY_S);
    expect(tokenExpiry('online', 1000, 1000 + 31 * DAY_S)).toBe(1000 + 30 * DAY_S);
    expect(tokenExpiry('online', 1000, 1000 + 29 * DAY_S)).toBe(1000 + 29 * DAY_S);
    expect(tokenExpiry('offline', 1000, 5000)).toBe(5000);
  });
});
