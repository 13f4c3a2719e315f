// The service with an in-memory state port: facts gathered, plan executed, refusals leave the
// state untouched. (The SQLite store behind the same port is tested in integration/.)
import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../../../common/clock.ts';
import type { LicenseInstallChange, LicenseStateSnapshot, StoredLicense } from '../../../../agent/src/domain/license-policy.ts';
import {
  evaluateLicense,
  installLicense,
  startTrialIfNeeded,
  type LicenseServiceDeps,
  type LicenseStatePort,
} from '../../../../agent/src/license/license-service.ts';
import { KioskError } from '../../../../common/errors.ts';
import { licenseClaims, makeTestIssuer, signLicense, signRevocationList, type TestIssuer } from '../../../helpers/token-factory.ts';

const DAY_MS = 86_400_000;
const NOW = Date.UTC(2026, 5, 1, 12);
const NOW_S = NOW / 1000;
const components = { soc_serial: 'a'.repeat(32), storage_id: 'b'.repeat(32), machine_id: 'd'.repeat(32) };
const device = { deviceId: 'e'.repeat(32), components, jkt: 'J'.repeat(43) };

class MemoryState implements LicenseStatePort {
  snapshot: { -readonly [K in keyof LicenseStateSnapshot]: LicenseStateSnapshot[K] } = {
    installed: null,
    time: { highWaterMs: null, newestIatS: null },
    trial: { startedAtMs: null },
    revocationList: null,
  };
  history: StoredLicense[] = [];
  writes = 0;
  readLicenseState(): LicenseStateSnapshot {
    return structuredClone(this.snapshot);
  }
  newestIatForLicense(sub: string): number | null {
    const iats = [this.snapshot.installed, ...this.history].filter((l) => l?.sub === sub).map((l) => l!.iat);
    return iats.length ? Math.max(...iats) : null;
  }
  tokenInHistory(jti: string): boolean {
    return this.history.some((l) => l.jti === jti);
  }
  commitLicenseInstall(change: LicenseInstallChange): void {
    this.writes++;
    if (this.snapshot.installed) this.history.push(this.snapshot.installed);
    this.snapshot.installed = change.license;
    this.snapshot.time = {
      newestIatS: change.newestIatS,
      highWaterMs: change.highWaterMs === null ? this.snapshot.time.highWaterMs : Math.max(change.highWaterMs, this.snapshot.time.highWaterMs ?? 0),
    };
  }
  advanceHighWater(ms: number): void {
    this.writes++;
    this.snapshot.time = { ...this.snapshot.time, highWaterMs: Math.max(ms, this.snapshot.time.highWaterMs ?? 0) };
  }
  startTrialIfNeeded(ms: number) {
    this.snapshot.trial = { startedAtMs: this.snapshot.trial.startedAtMs ?? ms };
    return this.snapshot.trial;
  }
}

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await makeTestIssuer();
});

function deps(state: MemoryState | null, over: Partial<LicenseServiceDeps> = {}): LicenseServiceDeps {
  return {
    trustedKeys: issuer.keySet,
    clock: fixedClock(NOW),
    state,
    readFingerprint: async () => ({ deviceId: device.deviceId, components }),
    deviceKeyThumbprint: async () => device.jkt,
    clockTrust: () => ({ trusted: true, source: 'ntp' }),
    ...over,
  };
}

const token = (over: Record<string, unknown> = {}, iatS = NOW_S - 3600) => signLicense(issuer, { ...licenseClaims({ issuer: issuer.issuer, device, iatS }), ...over });

describe('license service', () => {
  it('no store: trial, LICENSE_MISSING, the full trial, this device id; nothing written', async () => {
    const s = await evaluateLicense(deps(null));
    expect(s).toMatchObject({ mode: 'trial', reason: 'LICENSE_MISSING', features: ['sales'], deviceId: device.deviceId, licenseId: null });
    expect(s.trial).toEqual({ startedAt: null, endsAt: null, daysLeft: 14, maxOrdersPerDay: 100 });
    expect(s.clock).toMatchObject({ trusted: true, source: 'ntp', tampered: false });
  });

  it('installs a good token in one commit; evaluation then reports it licensed and advances the high-water mark', async () => {
    const state = new MemoryState();
    const r = await installLicense(deps(state), await token({ sub: 'lic-7', tenant: 'shop_1' }));
    expect(r.outcome).toBe('installed');
    expect(r.status).toMatchObject({ mode: 'licensed', reason: null, licenseId: 'lic-7', tenant: 'shop_1', deviceId: device.deviceId });
    expect(state.writes).toBe(1);
    expect(state.snapshot.installed?.sub).toBe('lic-7');
    expect(state.snapshot.time).toEqual({ newestIatS: NOW_S - 3600, highWaterMs: NOW });

    const later = fixedClock(NOW + DAY_MS);
    expect(await evaluateLicense(deps(state, { clock: later }))).toMatchObject({ mode: 'licensed', licenseId: 'lic-7' });
    expect(state.snapshot.time.highWaterMs).toBe(NOW + DAY_MS);
  });

  it('refuses with the reason code and leaves the state untouched', async () => {
    const state = new MemoryState();
    await installLicense(deps(state), await token({ jti: 'first' }));
    const before = JSON.stringify(state.snapshot);
    const err = await installLicense(deps(state), await token({ aud: 'nope' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KioskError);
    expect((err as KioskError).code).toBe('CLAIM_INVALID');
    expect((err as KioskError).exitCode).toBe(3);
    expect(JSON.stringify(state.snapshot)).toBe(before);
  });

  it('the same token again is an idempotent success; an older one of the same license is TOKEN_REPLAYED', async () => {
    const state = new MemoryState();
    const older = await token({ jti: 'old' }, NOW_S - 7200);
    const newer = await token({ jti: 'new' }, NOW_S - 3600);
    await installLicense(deps(state), newer);
    expect((await installLicense(deps(state), newer)).outcome).toBe('unchanged');
    await expect(installLicense(deps(state), older)).rejects.toMatchObject({ code: 'TOKEN_REPLAYED' });
    expect(state.snapshot.installed?.jti).toBe('new');
  });

  it('a token older than one in the history of the same license is a replay too', async () => {
    const state = new MemoryState();
    await installLicense(deps(state), await token({ jti: 'A2', sub: 'A' }, NOW_S - 3600));
    await installLicense(deps(state), await token({ jti: 'B1', sub: 'B' }, NOW_S - 1800));
    await expect(installLicense(deps(state), await token({ jti: 'A1', sub: 'A' }, NOW_S - 7200))).rejects.toMatchObject({ code: 'TOKEN_REPLAYED' });
  });

  it('a stored, verified revocation list revokes; one that does not verify is ignored with a warning', async () => {
    const state = new MemoryState();
    await installLicense(deps(state), await token({ sub: 'lic-r' }));
    const doc = await signRevocationList(issuer, { iatS: NOW_S - 60, version: 3, licenses: ['lic-r'] });
    state.snapshot.revocationList = { version: 3, iat: NOW_S - 60, document: doc, storedAtMs: NOW };
    expect(await evaluateLicense(deps(state))).toMatchObject({ mode: 'trial', reason: 'REVOKED' });

    const stranger = await makeTestIssuer({ issuer: issuer.issuer });
    state.snapshot.revocationList = { version: 4, iat: NOW_S, document: await signRevocationList(stranger, { iatS: NOW_S, version: 4, licenses: ['lic-r'] }), storedAtMs: NOW };
    const s = await evaluateLicense(deps(state));
    expect(s.mode).toBe('licensed');
    expect(s.warnings.join('\n')).toMatch(/revocation list \(version 4\) is ignored: SIGNATURE_INVALID/);
  });

  it('a fingerprint that cannot be read → FINGERPRINT_UNVERIFIABLE with a warning; install refused', async () => {
    const state = new MemoryState();
    const broken = deps(state, { readFingerprint: async () => Promise.reject(new KioskError('IO_ERROR', 'no /proc')) });
    await expect(installLicense(broken, await token())).rejects.toMatchObject({ code: 'FINGERPRINT_UNVERIFIABLE' });
    expect(state.writes).toBe(0);
    const s = await evaluateLicense(broken);
    expect(s.warnings).toEqual(['the hardware fingerprint cannot be read: IO_ERROR: no /proc']);
  });

  it('a device without a device key cannot install (DEVICE_MISMATCH)', async () => {
    await expect(installLicense(deps(new MemoryState(), { deviceKeyThumbprint: async () => null }), await token())).rejects.toMatchObject({
      code: 'DEVICE_MISMATCH',
    });
  });

  it('an untrusted clock never writes the high-water mark', async () => {
    const state = new MemoryState();
    await installLicense(deps(state, { clockTrust: () => ({ trusted: false, source: null }) }), await token());
    await evaluateLicense(deps(state, { clockTrust: () => ({ trusted: false, source: null }) }));
    expect(state.snapshot.time.highWaterMs).toBeNull();
  });

  it('startTrialIfNeeded starts at max(clock, floor) and only once', () => {
    const state = new MemoryState();
    state.snapshot.time = { highWaterMs: NOW, newestIatS: null };
    expect(startTrialIfNeeded({ state, clock: fixedClock(0) })).toEqual({ startedAtMs: NOW });
    expect(startTrialIfNeeded({ state, clock: fixedClock(NOW + DAY_MS) })).toEqual({ startedAtMs: NOW });
  });
});
