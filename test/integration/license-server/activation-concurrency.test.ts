// The seat race through `activate` itself on a real SQLite file, with group commit: 200 new
// devices race for the last 5 seats of a license while 5 of its devices re-activate. Exactly the
// free seats are taken, every re-activation keeps its seat, and every refusal is SEATS_FULL.
import { describe, expect, it } from 'vitest';
import type { KioskError } from '../../../common/errors.ts';
import { activate, type ActivationResult } from '../../../license-server/src/domain/activation.ts';
import { createLicense } from '../../../license-server/src/domain/licenses.ts';
import { makeActivationRequest, physicalDevice } from '../../helpers/activation-request.ts';
import { ISSUER, onlineFixture, type TestDeps } from './helpers/online-fixture.ts';

/** The online fixture's deps: a real SQLite file and key directory, a fixed clock. */
async function setup(): Promise<TestDeps> {
  return (await onlineFixture()).deps;
}

describe('activate under concurrency', () => {
  it('200 new devices racing for the last 5 seats: exactly 5 win; concurrent re-activations keep their seats', async () => {
    const deps = await setup();
    const { licenseKey, license } = await createLicense(deps, { tenant: 't1', features: [], maxDevices: 50, days: 30, actor: 'test' });
    const held = await Promise.all(Array.from({ length: 45 }, (_, i) => makeActivationRequest(ISSUER, physicalDevice(i + 1))));
    const first: ActivationResult[] = [];
    for (const request of held) first.push(await activate(deps, { licenseKey, request, mode: 'online', actor: 'test' }));

    const newcomers = await Promise.all(Array.from({ length: 200 }, (_, i) => makeActivationRequest(ISSUER, physicalDevice(1000 + i))));
    const returning = held.slice(0, 5);
    const attempts = [...newcomers, ...returning].map((request) => activate(deps, { licenseKey, request, mode: 'online', actor: 'test' }));
    const results = await Promise.allSettled(attempts);
    const fresh = results.slice(0, 200);
    const again = results.slice(200);

    const won = fresh.filter((r): r is PromiseFulfilledResult<ActivationResult> => r.status === 'fulfilled');
    const lost = fresh.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(5);
    expect(won.every((r) => r.value.seat === 'new')).toBe(true);
    expect(new Set(lost.map((r) => (r.reason as KioskError).code))).toEqual(new Set(['SEATS_FULL']));
    again.forEach((r, i) => {
      expect(r.status).toBe('fulfilled');
      const value = (r as PromiseFulfilledResult<ActivationResult>).value;
      expect(value.seat).toBe('reused');
      expect(value.activation.id).toBe(first[i]?.activation.id);
    });
    expect(await deps.storage.countActiveActivations(license.id)).toBe(50);
    expect((await deps.storage.listActivations(license.id, { status: 'active' })).length).toBe(50);
    expect(await deps.storage.listIssuedTokens(license.id)).toHaveLength(45 + 5 + 5);
    const refusals = (await deps.storage.listAudit({ licenseId: license.id })).filter((e) => e.action === 'activation.refused');
    expect(refusals).toHaveLength(195);
  });
});
