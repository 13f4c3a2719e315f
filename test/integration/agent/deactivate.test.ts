// `kiosk-agent deactivate [--out FILE]` over real HTTP on loopback against the real license
// server: online (the seat is freed, the license moves to the history, the link goes), offline
// (a signed deactivation file, written crash-safely, that the server's `deactivation import`
// accepts), and the refusals.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactVerify, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../common/clock.ts';
import { deactivationClaimsSchema, SERVER_AUDIENCE } from '../../../common/device-api.ts';
import { DOCUMENT_TYPES } from '../../../common/license-token.ts';
import { agentDevice, NOW_MS, readText, startRealServer, startStubServer, type AgentDevice, type RealServer } from './helpers/online.ts';

async function activated(opts: { maxDevices?: number } = {}): Promise<{ server: RealServer; device: AgentDevice; lic: { key: string; id: string }; token: string }> {
  const clock = fixedClock(NOW_MS);
  const server = await startRealServer(clock);
  const device = agentDevice({ clock, keysFile: server.keysFile });
  const lic = await server.createLicense(opts);
  const r = await device.run(['activate', '--server', server.url, '--key', lic.key]);
  expect(r.code, r.stderr).toBe(0);
  const token = device.withStore((s) => s.licenseState.readLicenseState().installed?.token ?? '');
  clock.advance(60_000);
  return { server, device, lic, token };
}

function expectLicenseGone(device: AgentDevice, token: string): void {
  device.withStore((store) => {
    expect(store.licenseState.readLicenseState().installed).toBeNull();
    expect(store.serverLink.get()).toBeNull();
    expect(store.tables.license.history().map((h) => h.token)).toContain(token);
  });
}

describe('deactivate online', () => {
  it('frees the seat on the server; the local license goes to the history, the link is removed; mode trial', async () => {
    const { server, device, lic, token } = await activated({ maxDevices: 1 });
    const deviceId = (await device.status()).deviceId;
    const r = await device.run(['deactivate', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      deactivated: true,
      via: 'online',
      licenseId: lic.id,
      deviceId,
      file: null,
      revocationVersion: expect.any(Number),
      status: { mode: 'trial', reason: 'LICENSE_MISSING' },
    });
    expectLicenseGone(device, token);
    const shown = await server.show(lic.id);
    expect(shown.license.activeDevices).toBe(0);
    expect(shown.activations).toEqual([expect.objectContaining({ deviceId, status: 'deactivated' })]);
    const status = await device.status();
    expect(status).toMatchObject({ code: 3, mode: 'trial', reason: 'LICENSE_MISSING' });

    // the freed seat takes another device
    const other = agentDevice({ clock: device.clock, keysFile: server.keysFile, fixture: 'rpi4-64bit' });
    expect((await other.run(['activate', '--server', server.url, '--key', lic.key])).code).toBe(0);
  });

  it('text output: one line naming the device, the license and the revocation list version', async () => {
    const { device, lic } = await activated();
    const r = await device.run(['deactivate']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Deactivated: the license server freed the seat of device [0-9a-f]{32} on license ${lic.id} \\(revocation list version \\d+\\); the local license is removed; mode now trial \\(14 trial days left\\)\\.$`, 'm'));
  });

  it('a second deactivate: LICENSE_MISSING, exit 3', async () => {
    const { device } = await activated();
    expect((await device.run(['deactivate'])).code).toBe(0);
    const again = await device.run(['deactivate', '--json']);
    expect(again.code).toBe(3);
    expect(again.json()).toMatchObject({ error: { code: 'LICENSE_MISSING' } });
  });

  it('a refusal by the server (4xx) is reported with its code and the license kept', async () => {
    const { server, device, token } = await activated();
    const stub = await startStubServer({ clock: device.clock, forwardTo: server.url });
    stub.on('deactivate', () => ({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'the device proof does not verify' } } }));
    device.withStore((s) => s.db.prepare('UPDATE server_link SET api_url = ?').run(`${stub.url}/`));
    const r = await device.run(['deactivate', '--out', join(device.dir, 'never.jwt')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error UNAUTHORIZED: the license server refused: the device proof does not verify$/m);
    expect(existsSync(join(device.dir, 'never.jwt'))).toBe(false);
    device.withStore((s) => expect(s.licenseState.readLicenseState().installed?.token).toBe(token));
  });
});

describe('deactivate offline', () => {
  it('unreachable without --out: SERVER_UNREACHABLE (exit 1) with a hint to use --out FILE; the license is kept', async () => {
    const { server, device, token } = await activated();
    await server.stop();
    const r = await device.run(['deactivate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error SERVER_UNREACHABLE: the license server at http:\/\/127\.0\.0\.1:\d+\/ cannot be reached \(ECONNREFUSED\); the license is kept\. To deactivate without the server, run "kiosk-agent deactivate --out FILE" and give FILE to the vendor$/m);
    device.withStore((s) => expect(s.licenseState.readLicenseState().installed?.token).toBe(token));
  });

  it('a 5xx counts as unreachable: with --out the file is written', async () => {
    const { server, device } = await activated();
    const stub = await startStubServer({ clock: device.clock, forwardTo: server.url });
    stub.on('deactivate', () => ({ status: 503, body: { error: { code: 'STORAGE_ERROR', message: 'busy' } } }));
    device.withStore((s) => s.db.prepare('UPDATE server_link SET api_url = ?').run(`${stub.url}/`));
    const out = join(device.dir, 'deactivation.jwt');
    const r = await device.run(['deactivate', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(stub.count('deactivate')).toBe(1);
    expect(existsSync(out)).toBe(true);
  });

  it('unreachable with --out: writes the signed deactivation file (0600, no temp left), removes the license; the server accepts the file', async () => {
    const { server, device, lic, token } = await activated({ maxDevices: 1 });
    const fp = (await device.run(['fingerprint', '--json'])).json();
    const deviceId = (await device.status()).deviceId;

    // the server stops listening (its database stays: the vendor imports the file later)
    const serverCwd = server.cwd;
    await server.stop();
    const out = join(device.dir, 'deactivation.jwt');
    const r = await device.run(['deactivate', '--out', 'deactivation.jwt']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Deactivated offline \(the license server at http:\/\/127\.0\.0\.1:\d+\/ cannot be reached \(ECONNREFUSED\)\): wrote the signed deactivation file .*deactivation\.jwt; the local license is removed; mode now trial/m);
    expectLicenseGone(device, token);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(device.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // the file: one compact JWS, typ kiosk-deactivation+jwt, kid = jkt, signed by the device key
    const text = readText(out).trim();
    const { payload, protectedHeader } = await compactVerify(text, await importJWK(fp.devicePublicKey, 'ES256'), { algorithms: ['ES256'] });
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: DOCUMENT_TYPES.deactivation, kid: fp.jkt });
    const claims = deactivationClaimsSchema.parse(JSON.parse(new TextDecoder().decode(payload)));
    expect(claims).toMatchObject({ iss: deviceId, aud: SERVER_AUDIENCE, action: 'deactivate', lic: token, iat: Math.floor(device.clock.nowMs() / 1000) });

    // the vendor imports it with the server's own CLI: the seat is freed
    const { runServer } = await import('../../helpers/server-cli.ts');
    const imported = await runServer(['deactivation', 'import', out, '--json'], { cwd: serverCwd, env: {}, clock: device.clock });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.json()).toMatchObject({ deactivated: true, licenseId: lic.id, deviceId });
    const shown = await runServer(['license', 'show', lic.id, '--json'], { cwd: serverCwd, env: {}, clock: device.clock });
    expect(shown.json().license.activeDevices).toBe(0);
  });

  it('a license installed offline (no server link): --out is required (USAGE, exit 2); with it the file is written', async () => {
    const { device, token } = await activated();
    device.withStore((s) => s.db.prepare('DELETE FROM server_link').run());
    const r = await device.run(['deactivate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error USAGE: this license was installed offline \(no server link\): run "kiosk-agent deactivate --out FILE"/m);
    device.withStore((s) => expect(s.licenseState.readLicenseState().installed?.token).toBe(token));
    const ok = await device.run(['deactivate', '--out', join(device.dir, 'd.jwt'), '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json()).toMatchObject({ via: 'offline', serverProblem: 'the license was installed offline (no server link)' });
    expectLicenseGone(device, token);
  });

  it('--out naming an existing file is refused (USAGE): an earlier deactivation file is evidence', async () => {
    const { device, token } = await activated();
    const out = join(device.dir, 'old.jwt');
    writeFileSync(out, 'earlier evidence\n');
    const r = await device.run(['deactivate', '--out', out]);
    expect(r.code).toBe(2);
    expect(readText(out)).toBe('earlier evidence\n');
    device.withStore((s) => expect(s.licenseState.readLicenseState().installed?.token).toBe(token));
  });
});

describe('deactivate without a license', () => {
  it('a fresh device: LICENSE_MISSING, exit 3, no data dir made', async () => {
    const clock = fixedClock(NOW_MS);
    const server = await startRealServer(clock);
    const device = agentDevice({ clock, keysFile: server.keysFile });
    const r = await device.run(['deactivate', '--out', join(device.dir, 'x.jwt')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error LICENSE_MISSING: /m);
    expect(existsSync(device.dataDir)).toBe(false);
    expect(existsSync(join(device.dir, 'x.jwt'))).toBe(false);
  });
});
