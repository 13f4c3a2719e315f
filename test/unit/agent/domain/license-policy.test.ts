import { describe, expect, it } from 'vitest';
import type { LicenseClaims } from '../../../../common/license-token.ts';
import {
  decideLicense,
  NO_REVOCATIONS,
  planLicenseInstall,
  type InstallFacts,
  type LicenseFacts,
  type StoredLicense,
} from '../../../../agent/src/domain/license-policy.ts';
import { CLOCK_TOLERANCE_MS, NBF_LEEWAY_S } from '../../../../agent/src/domain/time-floor.ts';
import { TRIAL_FEATURES } from '../../../../agent/src/domain/trial.ts';

const DAY_S = 86_400;
const DAY_MS = DAY_S * 1000;
const EPOCH_MS = Date.UTC(2020, 0, 1);
const T0_MS = Date.UTC(2026, 5, 1, 12); // "now" of most cases
const T0_S = T0_MS / 1000;

const components = { soc_serial: 'a'.repeat(32), storage_id: 'b'.repeat(32), mac: 'c'.repeat(32), machine_id: 'd'.repeat(32) };
const JKT = 'J'.repeat(43);

function claims(over: Partial<LicenseClaims> = {}): LicenseClaims {
  return {
    iss: 'https://vendor.example',
    aud: 'kiosk-agent',
    sub: 'lic-1',
    jti: 'tok-1',
    iat: T0_S - DAY_S,
    nbf: T0_S - DAY_S,
    exp: T0_S + 29 * DAY_S,
    lexp: T0_S + 365 * DAY_S,
    tenant: 'acme',
    features: ['sales', 'reports'],
    grace: 7 * DAY_S,
    device: { v: 1, id: 'e'.repeat(32), components },
    cnf: { jkt: JKT },
    ...over,
  };
}

function facts(over: Partial<LicenseFacts> = {}): LicenseFacts {
  return {
    nowMs: T0_MS,
    token: { status: 'verified', claims: claims() },
    device: { fingerprint: { deviceId: 'e'.repeat(32), components }, keyThumbprint: JKT },
    revocations: NO_REVOCATIONS,
    clockTrust: { trusted: true, source: 'ntp' },
    time: { highWaterMs: null, newestIatS: null },
    trial: { startedAtMs: null },
    epochMs: EPOCH_MS,
    ...over,
  };
}

describe('decideLicense', () => {
  it('a verified token bound to this device, within its time → licensed, its features, its device id', () => {
    const d = decideLicense(facts());
    expect(d).toMatchObject({ mode: 'licensed', reason: null, features: ['sales', 'reports'], deviceId: 'e'.repeat(32) });
    expect(d.license).toMatchObject({ licenseId: 'lic-1', tenant: 'acme', tokenExpiresAtMs: (T0_S + 29 * DAY_S) * 1000 });
  });

  it('no token → trial with LICENSE_MISSING, trial features, the full period left', () => {
    const d = decideLicense(facts({ token: { status: 'none' } }));
    expect(d).toMatchObject({ mode: 'trial', reason: 'LICENSE_MISSING', features: TRIAL_FEATURES, license: null });
    expect(d.trial).toMatchObject({ startedAtMs: null, endsAtMs: null, daysLeft: 14, active: true });
  });

  it('a rejected token → trial carrying the verification reason', () => {
    const d = decideLicense(facts({ token: { status: 'rejected', reason: 'SIGNATURE_INVALID', message: 'x' } }));
    expect(d).toMatchObject({ mode: 'trial', reason: 'SIGNATURE_INVALID', license: null });
  });

  describe('clock', () => {
    it('a trusted clock behind the floor beyond the tolerance → CLOCK_TAMPERED, even before nbf', () => {
      // high-water mark = T0; the clock reads a day earlier, which is also before the token's nbf
      const d = decideLicense(facts({ nowMs: T0_MS - DAY_MS - 2 * 3600_000, time: { highWaterMs: T0_MS, newestIatS: T0_S - DAY_S } }));
      expect(d.reason).toBe('CLOCK_TAMPERED');
      expect(d.mode).toBe('trial');
      expect(d.clock).toMatchObject({ tampered: true, floorMs: T0_MS, advanceHighWaterToMs: null });
    });

    it('the newest iat alone sets the floor too', () => {
      const d = decideLicense(facts({ nowMs: T0_MS - 3 * DAY_MS, time: { highWaterMs: null, newestIatS: T0_S - DAY_S } }));
      expect(d.reason).toBe('CLOCK_TAMPERED');
    });

    it('within the tolerance is not tampering', () => {
      const d = decideLicense(facts({ nowMs: T0_MS - CLOCK_TOLERANCE_MS + 1000, time: { highWaterMs: T0_MS, newestIatS: null } }));
      expect(d).toMatchObject({ mode: 'licensed', reason: null });
      expect(d.clock.tampered).toBe(false);
    });

    it('an untrusted clock (RPi without RTC, before NTP) at 1970 is never flagged: decided with the floor', () => {
      const d = decideLicense(facts({ nowMs: 0, clockTrust: { trusted: false, source: null }, time: { highWaterMs: T0_MS, newestIatS: null } }));
      expect(d).toMatchObject({ mode: 'licensed', reason: null });
      expect(d.clock).toMatchObject({ tampered: false, effectiveNowMs: T0_MS, advanceHighWaterToMs: null });
    });

    it('an untrusted clock cannot revive an expired token: the floor is past exp + grace', () => {
      const c = claims({ iat: T0_S - 60 * DAY_S, nbf: T0_S - 60 * DAY_S, exp: T0_S - 30 * DAY_S, grace: DAY_S });
      const d = decideLicense(facts({ nowMs: Date.UTC(2019, 0, 1), token: { status: 'verified', claims: c }, clockTrust: { trusted: false, source: null }, time: { highWaterMs: T0_MS, newestIatS: null } }));
      expect(d.reason).toBe('EXPIRED');
    });

    it('advances the high-water mark only with a trusted clock and no tampering', () => {
      expect(decideLicense(facts({ time: { highWaterMs: T0_MS - 1000, newestIatS: null } })).clock.advanceHighWaterToMs).toBe(T0_MS);
      expect(decideLicense(facts({ time: { highWaterMs: T0_MS + 1000, newestIatS: null } })).clock.advanceHighWaterToMs).toBeNull();
      expect(decideLicense(facts({ clockTrust: { trusted: false, source: null } })).clock.advanceHighWaterToMs).toBeNull();
    });

    it('the build epoch is a floor: a trusted clock before it is flagged', () => {
      const d = decideLicense(facts({ nowMs: EPOCH_MS - DAY_MS }));
      expect(d.reason).toBe('CLOCK_TAMPERED');
    });
  });

  describe('time claims', () => {
    it('nbf beyond the leeway → NOT_YET_VALID; within it → licensed', () => {
      const later = claims({ nbf: T0_S + NBF_LEEWAY_S + 5, iat: T0_S });
      expect(decideLicense(facts({ token: { status: 'verified', claims: later } })).reason).toBe('NOT_YET_VALID');
      const soon = claims({ nbf: T0_S + NBF_LEEWAY_S - 5, iat: T0_S });
      expect(decideLicense(facts({ token: { status: 'verified', claims: soon } })).mode).toBe('licensed');
    });

    it('exp passed less than grace ago → grace (reason EXPIRED), features kept', () => {
      const c = claims({ exp: T0_S - DAY_S, grace: 7 * DAY_S, nbf: T0_S - 31 * DAY_S, iat: T0_S - 31 * DAY_S });
      const d = decideLicense(facts({ token: { status: 'verified', claims: c } }));
      expect(d).toMatchObject({ mode: 'grace', reason: 'EXPIRED', features: ['sales', 'reports'] });
      expect(d.license?.graceEndsAtMs).toBe((T0_S + 6 * DAY_S) * 1000);
    });

    it('exp passed more than grace ago → EXPIRED, trial', () => {
      const c = claims({ exp: T0_S - 8 * DAY_S, grace: 7 * DAY_S, nbf: T0_S - 40 * DAY_S, iat: T0_S - 40 * DAY_S });
      expect(decideLicense(facts({ token: { status: 'verified', claims: c } }))).toMatchObject({ mode: 'trial', reason: 'EXPIRED' });
    });

    it('exactly at exp the token is in grace', () => {
      const c = claims({ exp: T0_S });
      expect(decideLicense(facts({ token: { status: 'verified', claims: c } })).mode).toBe('grace');
    });
  });

  describe('revocation', () => {
    const set = (xs: string[] = []) => new Set(xs);
    it.each([
      ['license id', { licenseIds: set(['lic-1']), deviceIds: set(), tokenIds: set() }],
      ['device id', { licenseIds: set(), deviceIds: set(['e'.repeat(32)]), tokenIds: set() }],
      ['token id', { licenseIds: set(), deviceIds: set(), tokenIds: set(['tok-1']) }],
    ])('a hit on the %s → REVOKED', (_, revocations) => {
      expect(decideLicense(facts({ revocations }))).toMatchObject({ mode: 'trial', reason: 'REVOKED' });
    });
    it('other ids → no effect', () => {
      const revocations = { licenseIds: set(['lic-2']), deviceIds: set(['f'.repeat(32)]), tokenIds: set(['tok-2']) };
      expect(decideLicense(facts({ revocations })).mode).toBe('licensed');
    });
  });

  describe('device binding', () => {
    it('a differing hard anchor → DEVICE_MISMATCH, and the status shows this device id', () => {
      const d = decideLicense(
        facts({ device: { fingerprint: { deviceId: 'f'.repeat(32), components: { ...components, soc_serial: '0'.repeat(32) } }, keyThumbprint: JKT } }),
      );
      expect(d).toMatchObject({ mode: 'trial', reason: 'DEVICE_MISMATCH', deviceId: 'f'.repeat(32) });
      expect(d.fingerprintMatch?.anchorMismatch).toBe('soc_serial');
    });

    it('a NIC swap keeps the license', () => {
      const d = decideLicense(facts({ device: { fingerprint: { deviceId: 'f'.repeat(32), components: { ...components, mac: '9'.repeat(32) } }, keyThumbprint: JKT } }));
      expect(d.mode).toBe('licensed');
    });

    it('too little readable → FINGERPRINT_UNVERIFIABLE; nothing readable at all → FINGERPRINT_UNVERIFIABLE', () => {
      const few = decideLicense(facts({ device: { fingerprint: { deviceId: 'f'.repeat(32), components: { machine_id: components.machine_id } }, keyThumbprint: JKT } }));
      expect(few.reason).toBe('FINGERPRINT_UNVERIFIABLE');
      const none = decideLicense(facts({ device: { fingerprint: null, keyThumbprint: JKT } }));
      expect(none).toMatchObject({ reason: 'FINGERPRINT_UNVERIFIABLE', deviceId: null });
    });

    it('cnf.jkt ≠ this device key, or no device key → DEVICE_MISMATCH', () => {
      expect(decideLicense(facts({ device: { fingerprint: { deviceId: 'e'.repeat(32), components }, keyThumbprint: 'K'.repeat(43) } })).reason).toBe('DEVICE_MISMATCH');
      expect(decideLicense(facts({ device: { fingerprint: { deviceId: 'e'.repeat(32), components }, keyThumbprint: null } })).reason).toBe('DEVICE_MISMATCH');
    });

    it('a device mismatch overrides grace', () => {
      const c = claims({ exp: T0_S - DAY_S });
      const d = decideLicense(facts({ token: { status: 'verified', claims: c }, device: { fingerprint: { deviceId: 'e'.repeat(32), components }, keyThumbprint: null } }));
      expect(d.reason).toBe('DEVICE_MISMATCH');
    });
  });

  describe('trial', () => {
    it('started 15 days ago with no usable license → unlicensed, no features, the license reason kept', () => {
      const d = decideLicense(facts({ token: { status: 'none' }, trial: { startedAtMs: T0_MS - 15 * DAY_MS } }));
      expect(d).toMatchObject({ mode: 'unlicensed', reason: 'LICENSE_MISSING', features: [] });
      expect(d.trial).toMatchObject({ daysLeft: 0, active: false });
    });

    it('started 3 days ago → trial with 11 days left', () => {
      const d = decideLicense(facts({ token: { status: 'none' }, trial: { startedAtMs: T0_MS - 3 * DAY_MS } }));
      expect(d.mode).toBe('trial');
      expect(d.trial).toMatchObject({ daysLeft: 11, endsAtMs: T0_MS + 11 * DAY_MS });
    });

    it('rolling the clock back cannot extend it: the trial is measured by the effective time', () => {
      const d = decideLicense(
        facts({
          nowMs: T0_MS - 10 * DAY_MS,
          clockTrust: { trusted: false, source: null },
          token: { status: 'none' },
          trial: { startedAtMs: T0_MS - 15 * DAY_MS },
          time: { highWaterMs: T0_MS, newestIatS: null },
        }),
      );
      expect(d.mode).toBe('unlicensed');
    });

    it('a usable license wins over an expired trial', () => {
      expect(decideLicense(facts({ trial: { startedAtMs: T0_MS - 40 * DAY_MS } })).mode).toBe('licensed');
    });
  });
});

describe('planLicenseInstall', () => {
  const installed: StoredLicense = { token: 'old', sub: 'lic-1', jti: 'tok-0', iat: T0_S - 2 * DAY_S, installedAtMs: T0_MS - DAY_MS };
  const install = (over: Partial<InstallFacts> = {}): InstallFacts => ({
    ...facts(),
    tokenText: 'new.token.text',
    installed,
    newestIatForLicense: installed.iat,
    tokenInHistory: false,
    ...over,
  });

  it('a usable newer token → install: the record, newest iat raised, high-water advanced', () => {
    const plan = planLicenseInstall(install({ time: { highWaterMs: T0_MS - 5000, newestIatS: installed.iat } }));
    expect(plan.action).toBe('install');
    if (plan.action !== 'install') return;
    expect(plan.change).toEqual({
      license: { token: 'new.token.text', sub: 'lic-1', jti: 'tok-1', iat: T0_S - DAY_S, installedAtMs: T0_MS },
      replacesJti: 'tok-0',
      newestIatS: T0_S - DAY_S,
      highWaterMs: T0_MS,
    });
  });

  it('an older token of the same license → TOKEN_REPLAYED', () => {
    const plan = planLicenseInstall(install({ newestIatForLicense: T0_S }));
    expect(plan).toMatchObject({ action: 'refuse', reason: 'TOKEN_REPLAYED' });
  });

  it('a token this device gave up (deactivated: in the history, none installed) → REVOKED', () => {
    const plan = planLicenseInstall(install({ installed: null, tokenInHistory: true, newestIatForLicense: T0_S - DAY_S }));
    expect(plan).toMatchObject({ action: 'refuse', reason: 'REVOKED' });
  });

  it('the same jti again → unchanged', () => {
    const plan = planLicenseInstall(install({ installed: { ...installed, jti: 'tok-1', iat: T0_S - DAY_S }, newestIatForLicense: T0_S - DAY_S }));
    expect(plan.action).toBe('unchanged');
  });

  it('a verified token that is not usable here → refused with its reason', () => {
    const plan = planLicenseInstall(install({ device: { fingerprint: { deviceId: 'f'.repeat(32), components: { ...components, soc_serial: '0'.repeat(32) } }, keyThumbprint: JKT } }));
    expect(plan).toMatchObject({ action: 'refuse', reason: 'DEVICE_MISMATCH' });
  });

  it('a rejected token → refused with the verification reason', () => {
    const plan = planLicenseInstall(install({ token: { status: 'rejected', reason: 'ALG_NOT_ALLOWED', message: 'none' } }));
    expect(plan).toMatchObject({ action: 'refuse', reason: 'ALG_NOT_ALLOWED' });
  });

  it('an expired-within-grace token is installable (renewal while late)', () => {
    const c = claims({ exp: T0_S - DAY_S });
    expect(planLicenseInstall(install({ token: { status: 'verified', claims: c } })).action).toBe('install');
  });
});
