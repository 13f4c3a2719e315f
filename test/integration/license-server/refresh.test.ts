// POST /v1/activations/refresh in the domain (domain/refresh.ts): a new online token exactly as
// activation makes one, recorded and audited; refused once the seat or license is gone.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KioskError } from '../../../common/errors.ts';
import { DOCUMENT_TYPES, LICENSE_AUDIENCE, licenseClaimsSchema } from '../../../common/license-token.ts';
import { deactivateDevice } from '../../../license-server/src/domain/deactivation.ts';
import { revokeLicense } from '../../../license-server/src/domain/licenses.ts';
import { refreshActivation } from '../../../license-server/src/domain/refresh.ts';
import { ONLINE_TOKEN_LIFETIME_SECONDS } from '../../../license-server/src/domain/token-claims.ts';
import { DAY_MS, ISSUER, makeTestDevice, NOW, NOW_S, onlineFixture, signProof } from './helpers/online-fixture.ts';

async function activated(over: Parameters<Awaited<ReturnType<typeof onlineFixture>>['createLicense']>[0] = {}) {
  const f = await onlineFixture();
  const { licenseKey, license } = await f.createLicense(over);
  const device = await makeTestDevice(1);
  const result = await f.activate(licenseKey, device);
  return { f, licenseKey, license, device, result };
}

describe('refreshActivation', () => {
  it('issues a new online token: fresh jti, 30 days, the seat\'s binding; recorded, latest, audited', async () => {
    const { f, device, result } = await activated();
    f.deps.clock.advance(7 * DAY_MS);
    const nowMs = f.deps.clock.nowMs();
    const r = await refreshActivation(f.deps, { proof: await signProof(device, result.token, { nowMs }) });
    expect(r.activationId).toBe(result.activation.id);
    expect(r.claims.jti).not.toBe(result.claims.jti);
    expect(r.claims.iat).toBe(nowMs / 1000);
    expect(r.claims.exp).toBe(nowMs / 1000 + ONLINE_TOKEN_LIFETIME_SECONDS);
    expect(r.claims).toMatchObject({ sub: result.claims.sub, lexp: result.claims.lexp, device: result.claims.device, cnf: result.claims.cnf, tenant: 'shop-1' });

    // verifies as an agent verifies it
    const jwks = JSON.parse(readFileSync(join(f.keysDir, 'jwks.json'), 'utf8'));
    const { payload } = await jwtVerify(r.token, createLocalJWKSet(jwks), {
      algorithms: ['ES256'],
      typ: DOCUMENT_TYPES.license,
      issuer: ISSUER,
      audience: LICENSE_AUDIENCE,
      currentDate: new Date(nowMs),
    });
    expect(licenseClaimsSchema.parse(payload)).toEqual(r.claims);
    expect(decodeProtectedHeader(r.token).kid).toBe(f.deps.signer.kid);

    const tokens = await f.deps.storage.listIssuedTokens(result.license.id);
    expect(tokens.map((t) => t.jti)).toEqual([result.claims.jti, r.claims.jti]);
    const seat = await f.deps.storage.getActivation(result.activation.id);
    expect(seat).toMatchObject({ lastTokenJti: r.claims.jti, lastTokenIat: r.claims.iat, status: 'active' });
    const audit = await f.deps.storage.listAudit({ licenseId: result.license.id });
    expect(audit.at(-1)).toMatchObject({
      action: 'activation.refresh',
      actor: `device:${device.deviceId}`,
      deviceId: device.deviceId,
      details: { activationId: result.activation.id, jti: r.claims.jti, previousJti: result.claims.jti },
    });
    expect(JSON.stringify(audit)).not.toContain(r.token.split('.')[2]);
  });

  it('caps exp at the license end', async () => {
    const { f, device, result, license } = await activated({ days: 40 });
    const nowMs = license.expiresAtMs - 3 * DAY_MS;
    f.deps.clock.set(nowMs);
    const r = await refreshActivation(f.deps, { proof: await signProof(device, result.token, { nowMs }) });
    expect(r.claims.exp).toBe(license.expiresAtMs / 1000);
    expect(r.claims.exp).toBe(r.claims.lexp);
  });

  it('renews a token long past exp and grace (a device offline for months)', async () => {
    const { f, device, result } = await activated();
    const nowMs = NOW + 120 * DAY_MS;
    f.deps.clock.set(nowMs);
    const r = await refreshActivation(f.deps, { proof: await signProof(device, result.token, { nowMs }) });
    expect(r.claims.iat).toBe(nowMs / 1000);
  });

  it('a proof is single use', async () => {
    const { f, device, result } = await activated();
    const proof = await signProof(device, result.token);
    await refreshActivation(f.deps, { proof });
    await expect(refreshActivation(f.deps, { proof })).rejects.toMatchObject({ code: 'UNAUTHORIZED', details: { reason: 'TOKEN_REPLAYED' } });
    expect(await f.deps.storage.listIssuedTokens(result.license.id)).toHaveLength(2);
  });

  it('is refused after the license is revoked, and the refusal is audited', async () => {
    const { f, device, result } = await activated();
    await revokeLicense(f.deps, { ref: result.license.id, actor: 'test' });
    const err = await refreshActivation(f.deps, { proof: await signProof(device, result.token) }).catch((e: unknown) => e as KioskError);
    expect(err).toMatchObject({ code: 'REVOKED' });
    expect(await f.deps.storage.listIssuedTokens(result.license.id)).toHaveLength(1);
    expect((await f.deps.storage.listAudit({ licenseId: result.license.id })).at(-1)).toMatchObject({
      action: 'activation.refresh.refused',
      details: { code: 'REVOKED' },
    });
  });

  it('is refused after the device was deactivated: "this device was deactivated"', async () => {
    const { f, device, result } = await activated();
    await deactivateDevice(f.deps, { licenseRef: result.license.id, deviceId: device.deviceId, actor: 'test' });
    await expect(refreshActivation(f.deps, { proof: await signProof(device, result.token) })).rejects.toMatchObject({
      code: 'REVOKED',
      message: expect.stringContaining('this device was deactivated'),
    });
  });

  it('is refused with a superseded token (REVOKED) and past the license end (EXPIRED)', async () => {
    const { f, device, result, license, licenseKey } = await activated({ days: 40 });
    // re-activation of the same hardware with a new device key supersedes the old token
    const rekeyed = await makeTestDevice(1);
    const again = await f.activate(licenseKey, rekeyed);
    expect(again.seat).toBe('reused');
    await expect(refreshActivation(f.deps, { proof: await signProof(device, result.token) })).rejects.toMatchObject({
      code: 'REVOKED',
      message: expect.stringContaining('superseded'),
    });
    await refreshActivation(f.deps, { proof: await signProof(rekeyed, again.token) });

    f.deps.clock.set(license.expiresAtMs);
    await expect(refreshActivation(f.deps, { proof: await signProof(rekeyed, again.token, { nowMs: license.expiresAtMs }) })).rejects.toMatchObject({ code: 'EXPIRED' });
  });

  it('a deactivation arriving while a refresh holds the lock waits, then lists the device: the new token is covered', async () => {
    const { f, device, result } = await activated();
    let inside!: () => void;
    const isInside = new Promise<void>((r) => (inside = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const signer = f.deps.signer;
    f.setSigner({
      ...signer,
      signLicense: async (claims) => {
        inside();
        await gate;
        return signer.signLicense(claims);
      },
    });
    const refreshing = refreshActivation(f.deps, { proof: await signProof(device, result.token) });
    await isInside; // the refresh is inside its transaction
    let settled = false;
    const deactivating = deactivateDevice(f.deps, { licenseRef: result.license.id, deviceId: device.deviceId, actor: 'test' }).finally(() => {
      settled = true;
    });
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false); // waits for the refresh's transaction
    release();
    const refreshed = await refreshing;
    const outcome = await deactivating;
    expect((await f.deps.storage.getActivation(result.activation.id))?.status).toBe('deactivated');
    expect((await f.deps.storage.listIssuedTokens(result.license.id)).map((t) => t.jti).sort()).toEqual([result.claims.jti, refreshed.claims.jti].sort());
    const list = await f.deps.storage.readRevocations(NOW_S);
    expect(list).toMatchObject({ version: outcome.revocationVersion, devices: [device.deviceId] });
  });

  it('a refresh racing a deactivation that took the lock first is refused, and issues nothing', async () => {
    const { f, device, result } = await activated();
    const proof = await signProof(device, result.token);
    const [deactivated, refreshed] = await Promise.allSettled([
      deactivateDevice(f.deps, { licenseRef: result.license.id, deviceId: device.deviceId, actor: 'test' }),
      refreshActivation(f.deps, { proof }),
    ]);
    expect(deactivated.status).toBe('fulfilled');
    expect(refreshed).toMatchObject({ status: 'rejected', reason: { code: 'REVOKED' } });
    expect(await f.deps.storage.listIssuedTokens(result.license.id)).toHaveLength(1);
    expect((await f.deps.storage.readRevocations(NOW_S)).devices).toEqual([device.deviceId]);
  });
});
