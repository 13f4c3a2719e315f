// Freeing seats (domain/deactivation.ts): online with a proof, offline with the device's signed
// file, or by the vendor; idempotent, single-listing under concurrency, and a freed device's old
// token stays refused after it comes back.
import { describe, expect, it } from 'vitest';
import type { KioskError } from '../../../common/errors.ts';
import { deactivateByFile, deactivateByProof, deactivateDevice } from '../../../license-server/src/domain/deactivation.ts';
import { refreshActivation } from '../../../license-server/src/domain/refresh.ts';
import { DAY_MS, makeTestDevice, NOW_S, onlineFixture, signDeactivationFile, signProof } from './helpers/online-fixture.ts';

async function activated(maxDevices = 2) {
  const f = await onlineFixture();
  const { licenseKey, license } = await f.createLicense({ maxDevices });
  const device = await makeTestDevice(1);
  const result = await f.activate(licenseKey, device);
  return { f, licenseKey, license, device, result };
}

describe('deactivation', () => {
  it('by proof: frees the seat, lists the device, audits; the same proof again is the same outcome', async () => {
    const { f, license, device, result } = await activated();
    const proof = await signProof(device, result.token);
    const outcome = await deactivateByProof(f.deps, { proof });
    expect(outcome).toEqual({ licenseId: license.id, deviceId: device.deviceId, revocationVersion: 1 });
    expect(await f.deps.storage.countActiveActivations(license.id)).toBe(0);
    expect((await f.deps.storage.readRevocations(NOW_S)).devices).toEqual([device.deviceId]);
    const audit = (await f.deps.storage.listAudit({ licenseId: license.id })).at(-1);
    expect(audit).toMatchObject({
      action: 'activation.deactivate',
      actor: `device:${device.deviceId}`,
      details: { activationId: result.activation.id, via: 'proof', listed: 'device', revocationVersion: 1 },
    });
    expect(await deactivateByProof(f.deps, { proof })).toEqual(outcome);
    expect(await f.deps.storage.getRevocationVersion()).toBe(1);
  });

  it('by proof: a proof from another key is refused and frees nothing', async () => {
    const { f, license, result } = await activated();
    const thief = await makeTestDevice(1);
    await expect(deactivateByProof(f.deps, { proof: await signProof(thief, result.token, { header: { kid: result.claims.cnf.jkt } }) })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect(await f.deps.storage.countActiveActivations(license.id)).toBe(1);
    expect(await f.deps.storage.getRevocationVersion()).toBe(0);
  });

  it('by file: uploaded twice, the same outcome and one listing; the actor is the vendor', async () => {
    const { f, license, device, result } = await activated();
    const file = await signDeactivationFile(device, result.token);
    f.deps.clock.advance(10 * DAY_MS); // uploaded days later
    const first = await deactivateByFile(f.deps, { document: `${file}\n`, actor: 'api:atk_1' });
    const second = await deactivateByFile(f.deps, { document: file, actor: 'api:atk_1' });
    expect(second).toEqual(first);
    expect(first).toEqual({ licenseId: license.id, deviceId: device.deviceId, revocationVersion: 1 });
    const deactivations = (await f.deps.storage.listAudit({ licenseId: license.id })).filter((e) => e.action === 'activation.deactivate');
    expect(deactivations).toHaveLength(1);
    expect(deactivations[0]).toMatchObject({ actor: 'api:atk_1', details: { via: 'file' } });
  });

  it('by file: a file written before the seat\'s latest token is stale and refused', async () => {
    const { f, licenseKey, license, device, result } = await activated();
    const file = await signDeactivationFile(device, result.token, { iatS: NOW_S });
    f.deps.clock.advance(DAY_MS);
    await f.activate(licenseKey, device); // the device came back online and renewed (same seat)
    await expect(deactivateByFile(f.deps, { document: file, actor: 'cli' })).rejects.toMatchObject({ code: 'TOKEN_REPLAYED' });
    expect(await f.deps.storage.countActiveActivations(license.id)).toBe(1);
  });

  it('an old file replayed after the device came back on a new seat touches only the old seat', async () => {
    const { f, licenseKey, license, device, result } = await activated();
    const file = await signDeactivationFile(device, result.token);
    await deactivateByFile(f.deps, { document: file, actor: 'cli' });
    f.deps.clock.advance(DAY_MS);
    const again = await f.activate(licenseKey, device);
    const replay = await deactivateByFile(f.deps, { document: file, actor: 'cli' });
    expect(replay.deviceId).toBe(device.deviceId);
    expect((await f.deps.storage.getActivation(again.activation.id))?.status).toBe('active');
    expect(await f.deps.storage.countActiveActivations(license.id)).toBe(1);
  });

  it('by the vendor: by key or id; unknown device NOT_FOUND, malformed id VALIDATION_FAILED, again idempotent', async () => {
    const { f, licenseKey, license, device } = await activated();
    await expect(deactivateDevice(f.deps, { licenseRef: license.id, deviceId: 'a'.repeat(32), actor: 'cli' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(deactivateDevice(f.deps, { licenseRef: license.id, deviceId: 'not-a-device', actor: 'cli' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const first = await deactivateDevice(f.deps, { licenseRef: licenseKey, deviceId: device.deviceId, actor: 'cli' });
    expect(first.licenseId).toBe(license.id);
    expect(await deactivateDevice(f.deps, { licenseRef: license.id, deviceId: device.deviceId, actor: 'cli' })).toEqual(first);
    expect(await f.deps.storage.getRevocationVersion()).toBe(1);
  });

  it('two concurrent deactivations of one seat: one change, one version, one audit entry', async () => {
    const { f, license, device, result } = await activated();
    const [a, b, c] = await Promise.all([
      deactivateByProof(f.deps, { proof: await signProof(device, result.token) }),
      deactivateDevice(f.deps, { licenseRef: license.id, deviceId: device.deviceId, actor: 'cli' }),
      deactivateByFile(f.deps, { document: await signDeactivationFile(device, result.token), actor: 'cli' }),
    ]);
    expect(new Set([a.revocationVersion, b.revocationVersion, c.revocationVersion])).toEqual(new Set([1]));
    expect(await f.deps.storage.getRevocationVersion()).toBe(1);
    expect((await f.deps.storage.listAudit({ licenseId: license.id })).filter((e) => e.action === 'activation.deactivate')).toHaveLength(1);
  });

  it('a freed device comes back only on a free seat, and its old token stays refused', async () => {
    const { f, licenseKey, license, device, result } = await activated(1);
    await deactivateDevice(f.deps, { licenseRef: license.id, deviceId: device.deviceId, actor: 'cli' });
    const other = await makeTestDevice(2);
    await f.activate(licenseKey, other); // takes the freed seat
    const err = await f.activate(licenseKey, device).catch((e: unknown) => e as KioskError);
    expect(err).toMatchObject({ code: 'SEATS_FULL' });
    expect((await f.deps.storage.readRevocations(NOW_S)).devices).toEqual([device.deviceId]); // still listed

    await deactivateDevice(f.deps, { licenseRef: license.id, deviceId: other.deviceId, actor: 'cli' });
    const back = await f.activate(licenseKey, device);
    expect(back.seat).toBe('new');
    const list = await f.deps.storage.readRevocations(NOW_S);
    expect(list.devices).toEqual([other.deviceId]);
    expect(list.tokens).toContain(result.claims.jti);
    await expect(refreshActivation(f.deps, { proof: await signProof(device, result.token) })).rejects.toMatchObject({ code: 'REVOKED' });
    await refreshActivation(f.deps, { proof: await signProof(device, back.token) });
  });
});
