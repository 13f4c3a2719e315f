// The activation domain on a real SQLite file with a real key: online time maths, the seat
// race through `activate` itself, and what is audited.
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import type { KioskError } from '../../../common/errors.ts';
import { licenseClaimsSchema } from '../../../common/license-token.ts';
import { activate } from '../../../license-server/src/domain/activation.ts';
import { createLicense, getLicense } from '../../../license-server/src/domain/licenses.ts';
import { makeActivationRequest, physicalDevice } from '../../helpers/activation-request.ts';
import { ISSUER, NOW, onlineFixture, type TestDeps } from './helpers/online-fixture.ts';

/** The online fixture's deps: a real SQLite file and key directory, a fixed clock. */
async function setup(): Promise<TestDeps> {
  return (await onlineFixture()).deps;
}

describe('activate (domain)', () => {
  it('an online token runs 30 days, capped at the license end; the seat remembers the device', async () => {
    const deps = await setup();
    const { licenseKey, license } = await createLicense(deps, { tenant: 't1', features: ['pos'], maxDevices: 2, days: 400, graceDays: 2, actor: 'test' });
    const request = await makeActivationRequest(ISSUER, physicalDevice(1));
    const result = await activate(deps, { licenseKey, request, mode: 'online', actor: 'test' });
    expect(result.seat).toBe('new');
    expect(result.claims.exp).toBe(NOW / 1000 + 30 * 86_400);
    expect(result.claims.lexp).toBe(license.expiresAtMs / 1000);
    expect(licenseClaimsSchema.parse(decodeJwt(result.token))).toEqual(result.claims);

    deps.clock.set(license.expiresAtMs - 5 * 86_400_000);
    const late = await activate(deps, { licenseKey, request, mode: 'online', actor: 'test' });
    expect(late.seat).toBe('reused');
    expect(late.claims.exp).toBe(late.claims.lexp);
    expect(late.activation.id).toBe(result.activation.id);
    expect(late.activation.mode).toBe('online');

    const details = await getLicense(deps, license.id);
    expect(details.activeDevices).toBe(1);
    expect(await deps.storage.listIssuedTokens(license.id)).toEqual([
      { jti: result.claims.jti, licenseId: license.id, activationId: result.activation.id, iat: result.claims.iat, exp: result.claims.exp },
      { jti: late.claims.jti, licenseId: license.id, activationId: result.activation.id, iat: late.claims.iat, exp: late.claims.exp },
    ]);
  });

  it('many devices racing for the last seats: exactly maxDevices win', async () => {
    const deps = await setup();
    const { licenseKey, license } = await createLicense(deps, { tenant: 't1', features: [], maxDevices: 3, days: 30, actor: 'test' });
    const requests = await Promise.all(Array.from({ length: 10 }, (_, i) => makeActivationRequest(ISSUER, physicalDevice(i + 1))));
    const results = await Promise.allSettled(requests.map((request) => activate(deps, { licenseKey, request, mode: 'online', actor: 'test' })));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(3);
    expect(new Set(lost.map((r) => (r.reason as KioskError).code))).toEqual(new Set(['SEATS_FULL']));
    expect(await deps.storage.countActiveActivations(license.id)).toBe(3);
    expect(await deps.storage.listIssuedTokens(license.id)).toHaveLength(3);
  });

  it('audits creations, activations, renewals and refusals, without keys or tokens', async () => {
    const deps = await setup();
    const { licenseKey, license } = await createLicense(deps, { tenant: 't1', features: [], maxDevices: 1, days: 30, actor: 'vendor' });
    const one = await makeActivationRequest(ISSUER, physicalDevice(1));
    const two = await makeActivationRequest(ISSUER, physicalDevice(2));
    const first = await activate(deps, { licenseKey, request: one, mode: 'offline', actor: 'cli' });
    await activate(deps, { licenseKey, request: one, mode: 'offline', actor: 'cli' });
    await expect(activate(deps, { licenseKey, request: two, mode: 'offline', actor: 'cli' })).rejects.toMatchObject({ code: 'SEATS_FULL' });
    const log = await deps.storage.listAudit({ licenseId: license.id });
    expect(log.map((e) => [e.action, e.actor, e.deviceId])).toEqual([
      ['license.create', 'vendor', null],
      ['activation.new', 'cli', one.deviceId],
      ['activation.renew', 'cli', one.deviceId],
      ['activation.refused', 'cli', two.deviceId],
    ]);
    expect(log[3]?.details).toEqual({ code: 'SEATS_FULL', mode: 'offline' });
    const text = JSON.stringify(log);
    expect(text).not.toContain(licenseKey);
    expect(text).not.toContain(first.token.split('.')[2]);
  });

  it('a deactivated seat is free again; the device comes back as a new activation', async () => {
    const deps = await setup();
    const { licenseKey, license } = await createLicense(deps, { tenant: 't1', features: [], maxDevices: 1, days: 30, actor: 'test' });
    const one = await makeActivationRequest(ISSUER, physicalDevice(1));
    const first = await activate(deps, { licenseKey, request: one, mode: 'offline', actor: 'test' });
    expect(await deps.storage.deactivateActivation(first.activation.id, NOW)).toBe(true);
    deps.clock.advance(1000);
    const two = await activate(deps, { licenseKey, request: await makeActivationRequest(ISSUER, physicalDevice(2)), mode: 'offline', actor: 'test' });
    expect(two.seat).toBe('new');
    expect((await getLicense(deps, license.id)).activations.map((a) => a.status)).toEqual(['deactivated', 'active']);
  });

  it('checks the key and the request before touching storage', async () => {
    const deps = await setup();
    await expect(activate(deps, { licenseKey: 'not-a-key', request: {}, mode: 'online', actor: 'test' })).rejects.toMatchObject({ code: 'LICENSE_KEY_MALFORMED' });
    await expect(activate(deps, { licenseKey: '00000-00000-00000-00000-00', request: {}, mode: 'online', actor: 'test' })).rejects.toMatchObject({ code: 'ACTIVATION_REQUEST_INVALID' });
    expect(await deps.storage.listAudit()).toEqual([]);
  });
});
