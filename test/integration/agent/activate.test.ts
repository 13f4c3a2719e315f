// `kiosk-agent activate --server URL --key KEY` over real HTTP on loopback: against the real
// license server (built with its own wiring, test/integration/agent/helpers/online.ts) for the
// contract cases, and through a stub in front of it for a misbehaving server. The agent runs
// in-process on a fixture sysroot with a fake clock shared with the server.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../common/clock.ts';
import { deviceKeyPath } from '../../../agent/src/license/device-key.ts';
import { agentDatabasePath } from '../../../agent/src/store/agent-store.ts';
import { licenseClaims, makeTestIssuer, signLicense } from '../../helpers/token-factory.ts';
import { agentDevice, deadServerUrl, DAY_MS, NOW_MS, startDaemon, startRealServer, startStubServer, type AgentDevice, type RealServer } from './helpers/online.ts';

async function setup(opts: { clockTrust?: 'ntp' | 'none' } = {}): Promise<{ server: RealServer; device: AgentDevice }> {
  const clock = fixedClock(NOW_MS);
  const server = await startRealServer(clock);
  const device = agentDevice({ clock, keysFile: server.keysFile, ...(opts.clockTrust ? { clockTrust: opts.clockTrust } : {}) });
  return { server, device };
}

/** Nothing of a license was stored: no database at all, or one without license and link. */
function expectNothingStored(device: AgentDevice): void {
  if (!existsSync(agentDatabasePath(device.dataDir))) return;
  device.withStore((store) => {
    expect(store.licenseState.readLicenseState().installed).toBeNull();
    expect(store.serverLink.get()).toBeNull();
    expect(store.tables.license.history()).toEqual([]);
  });
}

describe('activate against the license server', () => {
  it('activates: exit 0, a summary naming the server; token, link (apiUrl, mqttUrl, server time) stored; status licensed', async () => {
    const { server, device } = await setup();
    const lic = await server.createLicense();
    const r = await device.run(['activate', '--server', server.url, '--key', lic.key.toLowerCase().replace(/-/g, ' ')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Activated: mode licensed; tenant shop-1; license lic_\S+; features pos, sync; token expires \S+; license expires \S+; device [0-9a-f]{32}\.$/m);
    expect(r.stdout).toContain(`Server: ${server.url}/`);
    expect(r.stdout).toContain(lic.id);

    device.withStore((store) => {
      const installed = store.licenseState.readLicenseState().installed;
      expect(installed).toMatchObject({ sub: lic.id, iat: NOW_MS / 1000 });
      expect(store.serverLink.get()).toEqual({
        licenseId: lic.id,
        apiUrl: `${server.url}/`,
        mqttUrl: expect.stringMatching(/^mqtts?:\/\/127\.0\.0\.1:\d+$/),
        linkedAtMs: NOW_MS,
        lastRefreshAtMs: NOW_MS,
        serverTime: { serverTimeMs: NOW_MS, receivedAtMs: NOW_MS },
        lastRefusal: null,
      });
    });
    const status = await device.status();
    expect(status).toMatchObject({
      code: 0,
      mode: 'licensed',
      licenseId: lic.id,
      tokenExpiresAt: new Date(NOW_MS + 30 * DAY_MS).toISOString(),
    });
    // the server holds one active seat for this very device and key
    const shown = await server.show(lic.id);
    expect(shown.activations).toEqual([expect.objectContaining({ deviceId: status.deviceId, status: 'active', mode: 'online' })]);
    expect(existsSync(deviceKeyPath(device.dataDir))).toBe(true);
  });

  it('--json prints the status document with the server URLs', async () => {
    const { server, device } = await setup();
    const lic = await server.createLicense();
    const r = await device.run(['activate', '--server', server.url, '--key', lic.key, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ mode: 'licensed', reason: null, licenseId: lic.id, server: { apiUrl: `${server.url}/`, mqttUrl: expect.any(String) } });
  });

  it('on an RTC-less device before NTP the server time makes the clock trusted (source server) when it agrees', async () => {
    const { server, device } = await setup({ clockTrust: 'none' });
    const lic = await server.createLicense();
    const r = await device.run(['activate', '--server', server.url, '--key', lic.key, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().clock).toMatchObject({ trusted: true, source: 'server', tampered: false });
    expect(r.stderr).not.toMatch(/differs from the license server/);
  });

  it('activating again on the same device reuses its seat (the license keeps one active device)', async () => {
    const { server, device } = await setup();
    const lic = await server.createLicense({ maxDevices: 1 });
    expect((await device.run(['activate', '--server', server.url, '--key', lic.key])).code).toBe(0);
    device.clock.advance(60_000);
    const again = await device.run(['activate', '--server', server.url, '--key', lic.key]);
    expect(again.code, again.stderr).toBe(0);
    expect((await server.show(lic.id)).license.activeDevices).toBe(1);
    device.withStore((store) => expect(store.tables.license.history()).toHaveLength(1));
  });

  it('activating again after a deactivation works although the stored revocation list names the device (a newer list is fetched)', async () => {
    const { server, device } = await setup();
    const lic = await server.createLicense();
    expect((await device.run(['activate', '--server', server.url, '--key', lic.key])).code).toBe(0);
    device.clock.advance(60_000);
    expect((await device.run(['deactivate'])).code).toBe(0);
    // the daemon picks up the list that names the deactivated device
    const d = await startDaemon(device, ['--server', server.url]);
    await d.step();
    expect(await d.stop()).toBe(0);
    const deviceId = (await device.status()).deviceId;
    const listed = device.withStore((s) => s.tables.revocations.get());
    expect(listed).not.toBeNull();
    device.clock.advance(60_000);
    const r = await device.run(['activate', '--server', server.url, '--key', lic.key, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ mode: 'licensed', deviceId });
    expect(device.withStore((s) => s.tables.revocations.get()?.version)).toBeGreaterThan(listed?.version ?? 0);
  });

  it('a wrong (well-formed, unknown) key: LICENSE_KEY_UNKNOWN, exit 3, nothing stored', async () => {
    const { server, device } = await setup();
    await server.createLicense();
    const unknown = '00000-00000-00000-00000-00';
    const r = await device.run(['activate', '--server', server.url, '--key', unknown, '--json']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error LICENSE_KEY_UNKNOWN: the license server refused: /m);
    expect(r.json()).toMatchObject({ error: { code: 'LICENSE_KEY_UNKNOWN' } });
    expectNothingStored(device);
    expect(existsSync(agentDatabasePath(device.dataDir))).toBe(false);
    // the device key stays: it is the device's identity
    expect(existsSync(deviceKeyPath(device.dataDir))).toBe(true);
  });

  it('all seats taken: SEATS_FULL, exit 3, nothing stored', async () => {
    const { server, device } = await setup();
    const lic = await server.createLicense({ maxDevices: 1 });
    const first = agentDevice({ clock: device.clock, keysFile: server.keysFile, fixture: 'rpi4-64bit' });
    expect((await first.run(['activate', '--server', server.url, '--key', lic.key])).code).toBe(0);
    const r = await device.run(['activate', '--server', server.url, '--key', lic.key]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error SEATS_FULL: /m);
    expectNothingStored(device);
  });

  it('a revoked license: REVOKED, exit 3, nothing stored', async () => {
    const { server, device } = await setup();
    const lic = await server.createLicense();
    expect((await server.run(['license', 'revoke', lic.id])).code).toBe(0);
    const r = await device.run(['activate', '--server', server.url, '--key', lic.key]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error REVOKED: /m);
    expectNothingStored(device);
  });

  it('an unreachable server: SERVER_UNREACHABLE, exit 1, no database made, nothing stored', async () => {
    const { server, device } = await setup();
    const lic = await server.createLicense();
    const r = await device.run(['activate', '--server', await deadServerUrl(), '--key', lic.key]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error SERVER_UNREACHABLE: the license server at http:\/\/127\.0\.0\.1:\d+\/ cannot be reached \(ECONNREFUSED\)$/m);
    expect(existsSync(agentDatabasePath(device.dataDir))).toBe(false);
  });
});

describe('activate: checked before any network', () => {
  it('a mistyped key: LICENSE_KEY_MALFORMED, exit 3; the server hears nothing', async () => {
    const { server, device } = await setup();
    const stub = await startStubServer({ clock: device.clock, forwardTo: server.url });
    const lic = await server.createLicense();
    const typo = `${lic.key.slice(0, -1)}${lic.key.endsWith('0') ? '1' : '0'}`;
    const r = await device.run(['activate', '--server', stub.url, '--key', typo]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error LICENSE_KEY_MALFORMED: /m);
    expect(stub.requests).toEqual([]);
    expect(existsSync(device.dataDir)).toBe(false);
  });

  it('plain http off loopback is refused (USAGE, exit 2) with a message about TLS; https and loopback http are accepted forms', async () => {
    const { server, device } = await setup();
    const lic = await server.createLicense();
    const r = await device.run(['activate', '--server', 'http://licenses.example.com', '--key', lic.key]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error USAGE: --server: plain http to licenses\.example\.com is refused: off loopback the agent talks to the license server over TLS only; use https:\/\/licenses\.example\.com$/m);
    for (const bad of ['ftp://x', 'not a url', 'https://user:pw@host', 'https://host/?q=1']) {
      const b = await device.run(['activate', '--server', bad, '--key', lic.key]);
      expect(b.code, bad).toBe(2);
    }
    expect(existsSync(device.dataDir)).toBe(false);
  });

  it('--server and --key are required', async () => {
    const { device } = await setup();
    expect((await device.run(['activate', '--key', '00000-00000-00000-00000-00'])).stderr).toMatch(/error USAGE: --server is required/);
    expect((await device.run(['activate', '--server', 'https://x'])).stderr).toMatch(/error USAGE: --key is required/);
  });
});

describe('activate against a misbehaving server (a stub in front of the real one)', () => {
  it('a token for another device is refused (DEVICE_MISMATCH, exit 3) and nothing is stored', async () => {
    const { server, device } = await setup();
    const stub = await startStubServer({ clock: device.clock, forwardTo: server.url });
    const lic = await server.createLicense();
    // the real server issues a token for another device (its request), the stub hands it to ours
    const other = agentDevice({ clock: device.clock, keysFile: server.keysFile, fixture: 'rpi4-64bit' });
    const otherRequest = (await other.run(['fingerprint', '--json'])).json();
    stub.on('activate', async (body) => {
      const res = await fetch(`${server.url}/v1/activations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, request: otherRequest }) });
      return { status: res.status, body: await res.json() };
    });
    const r = await device.run(['activate', '--server', stub.url, '--key', lic.key]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error DEVICE_MISMATCH: the license token is refused: .*\(the license server has recorded the activation: once the cause is fixed, activating again reuses its seat\)$/m);
    expectNothingStored(device);
  });

  it('a token signed by a key the agent does not trust is refused (KEY_UNKNOWN, exit 3)', async () => {
    const { server, device } = await setup();
    const stub = await startStubServer({ clock: device.clock, forwardTo: server.url });
    const fp = (await device.run(['fingerprint', '--json'])).json();
    const rogue = await makeTestIssuer({ issuer: 'urn:kiosk:vendor:agent-online-test' });
    const token = await signLicense(rogue, licenseClaims({ issuer: rogue.issuer, device: { deviceId: fp.deviceId, components: fp.components, jkt: fp.jkt }, iatS: NOW_MS / 1000 }));
    stub.on('activate', () => ({ status: 201, body: { token, apiUrl: stub.url, mqttUrl: 'mqtt://127.0.0.1:1883', serverTimeMs: NOW_MS } }));
    const lic = await server.createLicense();
    const r = await device.run(['activate', '--server', stub.url, '--key', lic.key]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error KEY_UNKNOWN: /m);
    expectNothingStored(device);
  });

  it('an answer that is not the contract (200 with garbage, 500, an HTML 502) is SERVER_ERROR, exit 1, nothing stored', async () => {
    const { server, device } = await setup();
    const stub = await startStubServer({ clock: device.clock, forwardTo: server.url });
    const lic = await server.createLicense();
    const cases: Array<[string, Parameters<typeof stub.on>[1], RegExp]> = [
      ['garbage', () => ({ status: 201, body: { token: 'x' } }), /is not what the device API defines/],
      ['500', () => ({ status: 500, body: { error: { code: 'INTERNAL', message: 'database on fire' } } }), /failed \(HTTP 500, INTERNAL\): database on fire/],
      ['html', () => ({ status: 502, raw: '<html>bad gateway</html>' }), /answered HTTP 502 without an error document/],
      ['unknown code', () => ({ status: 418, body: { error: { code: 'TEAPOT', message: 'short and stout' } } }), /HTTP 418, TEAPOT/],
      ['redirect', () => ({ status: 302, body: {} }), /redirect/],
    ];
    for (const [name, handler, message] of cases) {
      stub.on('activate', handler);
      const r = await device.run(['activate', '--server', stub.url, '--key', lic.key]);
      expect(r.code, name).toBe(1);
      expect(r.stderr, name).toMatch(/^error SERVER_ERROR: /m);
      expect(r.stderr, name).toMatch(message);
    }
    expectNothingStored(device);
  });

  it('an API URL without TLS off loopback in the answer is refused (SERVER_ERROR), nothing stored', async () => {
    const { server, device } = await setup();
    const stub = await startStubServer({ clock: device.clock, forwardTo: server.url });
    stub.on('activate', async (body) => {
      const res = await fetch(`${server.url}/v1/activations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: { ...((await res.json()) as Record<string, unknown>), apiUrl: 'http://licenses.example.com/' } };
    });
    const lic = await server.createLicense();
    const r = await device.run(['activate', '--server', stub.url, '--key', lic.key]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error SERVER_ERROR: the license server named an unusable API URL: plain http to licenses\.example\.com is refused/m);
    expectNothingStored(device);
  });

  it('a device clock far from the server time: activation works, a warning names the skew, the clock is not trusted by it', async () => {
    const { server, device } = await setup({ clockTrust: 'none' });
    const stub = await startStubServer({ clock: device.clock, forwardTo: server.url });
    stub.on('activate', async (body) => {
      const res = await fetch(`${server.url}/v1/activations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: { ...((await res.json()) as Record<string, unknown>), serverTimeMs: NOW_MS + 3_600_000 } };
    });
    const lic = await server.createLicense();
    const r = await device.run(['activate', '--server', stub.url, '--key', lic.key, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: the device clock differs from the license server's by -3600 s/);
    expect(r.json().clock).toMatchObject({ trusted: false, source: null });
    expect(existsSync(join(device.dataDir, 'agent.db'))).toBe(true);
  });
});
