// A freed seat cannot be used twice (DESIGN §4.7): over real HTTP on loopback with the real
// license server and real agents (in-process CLI and daemon, fake clock), one seat moves from
// device A to device B — by A's own online deactivation, or by the vendor while A is away —
// and A's old token is refused as soon as the revocation list reaches A.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../common/clock.ts';
import { agentDevice, HOUR_MS, MIN_MS, NOW_MS, startDaemon, startRealServer } from './agent/helpers/online.ts';

async function oneSeat() {
  const clock = fixedClock(NOW_MS);
  const server = await startRealServer(clock);
  const lic = await server.createLicense({ maxDevices: 1 });
  const a = agentDevice({ clock, keysFile: server.keysFile, fixture: 'x64-pc' });
  const b = agentDevice({ clock, keysFile: server.keysFile, fixture: 'x64-placeholder-dmi' });
  const activatedA = await a.run(['activate', '--server', server.url, '--key', lic.key, '--json']);
  expect(activatedA.code, activatedA.stderr).toBe(0);
  const tokenA = a.withStore((s) => s.licenseState.readLicenseState().installed?.token ?? '');
  expect(tokenA).toMatch(/^ey/);
  clock.advance(MIN_MS);
  // the only seat is A's: B is refused
  const refused = await b.run(['activate', '--server', server.url, '--key', lic.key]);
  expect(refused.code).toBe(3);
  expect(refused.stderr).toMatch(/^error SEATS_FULL: /m);
  return { clock, server, lic, a, b, tokenA, deviceA: activatedA.json().deviceId as string };
}

describe('one seat moves from device A to device B', () => {
  it('A deactivates online; B activates on the freed seat; A cannot put its old token back', async () => {
    const { server, lic, a, b, tokenA } = await oneSeat();
    const off = await a.run(['deactivate']);
    expect(off.code, off.stderr).toBe(0);
    expect(await a.status()).toMatchObject({ code: 3, mode: 'trial', reason: 'LICENSE_MISSING' });

    const onB = await b.run(['activate', '--server', server.url, '--key', lic.key]);
    expect(onB.code, onB.stderr).toBe(0);
    expect(await b.status()).toMatchObject({ code: 0, mode: 'licensed' });
    const shown = await server.show(lic.id);
    expect(shown.activations.filter((x) => x.status === 'active')).toHaveLength(1);

    // A keeps a copy of its old token and installs it offline: the revocation list A fetched
    // when it deactivated (or will fetch) names its device, so the token is refused.
    const file = join(a.dir, 'old.jwt');
    writeFileSync(file, tokenA);
    const again = await a.run(['license', 'install', file]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/^error REVOKED: /m);
    // and A cannot take the seat back while B holds it
    const retake = await a.run(['activate', '--server', server.url, '--key', lic.key]);
    expect(retake.code).toBe(3);
    expect(retake.stderr).toMatch(/^error SEATS_FULL: /m);
  });

  it('the vendor frees A’s seat while A is away; B takes it; A is REVOKED when the list reaches it', async () => {
    const { clock, server, lic, a, b, deviceA } = await oneSeat();
    const freed = await server.run(['device', 'deactivate', '--license', lic.id, '--device', deviceA]);
    expect(freed.code, freed.stderr).toBe(0);

    const onB = await b.run(['activate', '--server', server.url, '--key', lic.key]);
    expect(onB.code, onB.stderr).toBe(0);

    // offline, A still decides with what it has: licensed
    expect(await a.status()).toMatchObject({ code: 0, mode: 'licensed' });
    // A's daemon fetches the revocation list at its first tick: the old token is refused
    const d = await startDaemon(a);
    const start = clock.nowMs();
    await d.stepUntil(() => d.logs().some((l) => l.msg === 'mode changed'), start + 2 * HOUR_MS);
    expect(d.logs().filter((l) => l.msg === 'mode changed')).toEqual([expect.objectContaining({ from: 'licensed', to: 'trial', reason: 'REVOKED' })]);
    expect(await d.stop()).toBe(0);
    expect(await a.status()).toMatchObject({ code: 3, mode: 'trial', reason: 'REVOKED' });
    // B is unaffected
    expect(await b.status()).toMatchObject({ code: 0, mode: 'licensed' });
  });
});
