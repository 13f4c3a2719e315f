import { describe, expect, it } from 'vitest';
import { KioskError } from '../../../common/errors.ts';
import { DAY_MS, DEFAULT_GRACE_DAYS, parseExpiryDate, resolveLicenseTerms, type LicenseTermsInput } from '../../../license-server/src/domain/license-terms.ts';

const NOW = Date.UTC(2027, 5, 1, 8, 0, 0, 123);
const base: LicenseTermsInput = { tenant: 'shop-1', features: ['pos'], maxDevices: 3, days: 30 };

function refused(input: LicenseTermsInput): string {
  try {
    resolveLicenseTerms(input, NOW);
  } catch (err) {
    expect((err as KioskError).code).toBe('VALIDATION_FAILED');
    return (err as KioskError).message;
  }
  throw new Error('accepted');
}

describe('license terms', () => {
  it('--days counts from now, in whole seconds, with the default grace and no VMs', () => {
    const t = resolveLicenseTerms({ ...base, features: ['pos', 'sync', 'pos'] }, NOW);
    expect(t).toEqual({
      tenant: 'shop-1',
      features: ['pos', 'sync'],
      maxDevices: 3,
      startsAtMs: NOW - 123,
      expiresAtMs: NOW - 123 + 30 * DAY_MS,
      graceSeconds: DEFAULT_GRACE_DAYS * 86_400,
      allowVirtual: false,
    });
  });

  it('--expires DATE is valid through that day (UTC); a date-time is taken as it is', () => {
    expect(resolveLicenseTerms({ ...base, days: undefined, expires: '2027-12-31' }, NOW).expiresAtMs).toBe(Date.UTC(2028, 0, 1));
    expect(resolveLicenseTerms({ ...base, days: undefined, expires: '2027-07-01T12:00:00+02:00', graceDays: 0, allowVirtual: true }, NOW)).toMatchObject({
      expiresAtMs: Date.UTC(2027, 6, 1, 10),
      graceSeconds: 0,
      allowVirtual: true,
    });
    expect(parseExpiryDate('2028-02-29')).toBe(Date.UTC(2028, 2, 1));
    expect(() => parseExpiryDate('2027-02-29')).toThrow(/calendar date/);
    expect(() => parseExpiryDate('31.12.2027')).toThrow(KioskError);
    expect(() => parseExpiryDate('2027-07-01T12:00:00')).toThrow(KioskError); // no zone
  });

  it('refuses bad tenants, features, seat counts, lengths and grace', () => {
    expect(refused({ ...base, tenant: 'shop/1' })).toMatch(/tenant/);
    expect(refused({ ...base, tenant: '' })).toMatch(/tenant/);
    expect(refused({ ...base, features: ['ok', 'not ok'] })).toMatch(/feature "not ok"/);
    expect(refused({ ...base, maxDevices: 0 })).toMatch(/max devices/);
    expect(refused({ ...base, maxDevices: 100_001 })).toMatch(/max devices/);
    expect(refused({ ...base, maxDevices: 1.5 })).toMatch(/max devices/);
    expect(refused({ ...base, days: 0 })).toMatch(/days/);
    expect(refused({ ...base, days: undefined })).toMatch(/either/);
    expect(refused({ ...base, expires: '2028-01-01' })).toMatch(/either/);
    expect(refused({ ...base, days: undefined, expires: '2027-05-31' })).toMatch(/future/);
    expect(refused({ ...base, graceDays: 366 })).toMatch(/grace/);
    expect(resolveLicenseTerms({ ...base, maxDevices: 100_000 }, NOW).maxDevices).toBe(100_000);
  });
});
