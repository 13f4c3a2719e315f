// `kiosk-agent run`, the daemon, over real HTTP on loopback against the real license server
// (and a stub in front of it that counts requests or plays dead). The daemon runs in-process
// on a fake scheduler: the test fires its timers, which moves the shared fake clock — days of
// daemon life without sleeping. The last test runs the real bin and stops it with a signal.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../common/clock.ts';
import { REPO_ROOT } from '../../helpers/cli.ts';
import {
  agentDevice,
  DAY_MS,
  deadServerUrl,
  HOUR_MS,
  MIN_MS,
  NOW_MS,
  startDaemon,
  startRealServer,
  startStubServer,
  type AgentDevice,
  type DaemonRun,
  type RealServer,
} from './helpers/online.ts';

interface Activated {
  readonly server: RealServer;
  readonly device: AgentDevice;
  readonly lic: { key: string; id: string };
  readonly token: string;
  readonly deviceId: string;
}

/** A device activated online at NOW_MS (token iat NOW, exp NOW + 30 days); the clock then moves 1 min. */
async function activated(opts: { clockMs?: number } = {}): Promise<Activated> {
  const clock = fixedClock(opts.clockMs ?? NOW_MS);
  const server = await startRealServer(clock);
  const device = agentDevice({ clock, keysFile: server.keysFile });
  const lic = await server.createLicense();
  const r = await device.run(['activate', '--server', server.url, '--key', lic.key, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const token = device.withStore((s) => s.licenseState.readLicenseState().installed?.token ?? '');
  clock.advance(MIN_MS);
  return { server, device, lic, token, deviceId: r.json().deviceId };
}

/** Writes a run config file in the device's dir; returns its path. */
function configFile(device: AgentDevice, config: unknown, name = 'agent.json'): string {
  const path = join(device.dir, name);
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config));
  return path;
}

const byMsg = (d: DaemonRun, msg: string): Array<Record<string, any>> => d.logs().filter((l) => l.msg === msg);
const installedIat = (device: AgentDevice): number | undefined => device.withStore((s) => s.licenseState.readLicenseState().installed?.iat);

/** Slow wake-ups keep the step count down: hourly checks, revocations daily. */
const SLOW = { checkIntervalMinutes: 60, revocations: { intervalMinutes: 1440 } };

describe('run: start', () => {
  it('records the trial start, logs the mode, and stops on the shutdown signal with exit 0', async () => {
    const { device } = await activated();
    const d = await startDaemon(device, ['--config', configFile(device, SLOW)]);
    expect(byMsg(d, 'trial period started')).toHaveLength(1);
    expect(byMsg(d, 'license mode')).toEqual([expect.objectContaining({ level: 'info', mode: 'licensed', reason: null })]);
    expect(byMsg(d, 'daemon started')).toEqual([expect.objectContaining({ services: ['license', 'local-api'] })]);
    // every line is JSON with a time from the fake clock
    for (const line of d.stderr().trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    expect(new Date(d.logs()[0]?.time).getTime()).toBe(NOW_MS + MIN_MS);
    expect(await d.stop()).toBe(0);
    expect(d.logs().map((l) => l.msg).slice(-2)).toEqual(['stopping', 'stopped']);
    expect((await device.status()).trial.startedAt).toBe(new Date(NOW_MS + MIN_MS).toISOString());
  });

  it('without a license or a server: trial, and the end of the trial is logged as a mode change at its exact time', async () => {
    const clock = fixedClock(NOW_MS);
    const server = await startRealServer(clock);
    const device = agentDevice({ clock, keysFile: server.keysFile });
    const d = await startDaemon(device, ['--config', configFile(device, SLOW)]);
    expect(byMsg(d, 'license mode')[0]).toMatchObject({ mode: 'trial', reason: 'LICENSE_MISSING' });
    const ended = await d.stepUntil(() => byMsg(d, 'mode changed').length > 0, NOW_MS + 15 * DAY_MS);
    expect(ended).toBe(true);
    expect(byMsg(d, 'mode changed')).toEqual([expect.objectContaining({ from: 'trial', to: 'unlicensed', reason: 'LICENSE_MISSING', level: 'warn' })]);
    expect(clock.nowMs()).toBe(NOW_MS + 14 * DAY_MS);
    expect(await d.stop()).toBe(0);
  });
});

describe('run: renewal', () => {
  it('renews 7 days after issue (not earlier), installs the new token, and the next renewal is 7 days later', async () => {
    const { server, device, lic, token } = await activated();
    const stub = await startStubServer({ clock: device.clock, forwardTo: server.url });
    const d = await startDaemon(device, ['--config', configFile(device, { ...SLOW, serverUrl: stub.url })]);
    const renewed = await d.stepUntil(() => byMsg(d, 'license renewed').length > 0, NOW_MS + 8 * DAY_MS);
    expect(renewed).toBe(true);
    expect(stub.requests.filter((r) => r.route === 'refresh').map((r) => r.atMs)).toEqual([NOW_MS + 7 * DAY_MS]);
    expect(byMsg(d, 'renewing the license token')[0]).toMatchObject({ licenseId: lic.id, reason: 'age' });
    expect(installedIat(device)).toBe((NOW_MS + 7 * DAY_MS) / 1000);
    const status = await device.status();
    expect(status).toMatchObject({ mode: 'licensed', tokenExpiresAt: new Date(NOW_MS + 37 * DAY_MS).toISOString() });
    device.withStore((s) => {
      expect(s.tables.license.history().map((h) => h.token)).toEqual([token]);
      expect(s.serverLink.get()).toMatchObject({ lastRefreshAtMs: NOW_MS + 7 * DAY_MS, serverTime: { serverTimeMs: NOW_MS + 7 * DAY_MS } });
    });
    const shown = await server.show(lic.id);
    expect(Date.parse(shown.activations[0]?.lastTokenIat)).toBe(NOW_MS + 7 * DAY_MS);

    await d.stepUntil(() => false, NOW_MS + 14 * DAY_MS - 1);
    expect(stub.count('refresh')).toBe(1);
    await d.stepUntil(() => stub.count('refresh') === 2, NOW_MS + 15 * DAY_MS);
    expect(stub.requests.filter((r) => r.route === 'refresh').map((r) => r.atMs)).toEqual([NOW_MS + 7 * DAY_MS, NOW_MS + 14 * DAY_MS]);
    expect(byMsg(d, 'mode changed')).toEqual([]);
    // logs never carry the token, the proof or the key
    const logs = d.stderr();
    expect(logs).not.toContain(token);
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/);
    expect(logs).not.toContain(lic.key);
    expect(await d.stop()).toBe(0);
  });

  it('keeps working while the server answers 5xx: backoff 15 s, 30 s, 1 min … capped at 3 h (random 0.5 of 6 h); a success resets it', async () => {
    const { server, device } = await activated();
    const stub = await startStubServer({ clock: device.clock, forwardTo: server.url });
    stub.on('refresh', () => ({ status: 503, body: { error: { code: 'STORAGE_ERROR', message: 'maintenance' } } }));
    const d = await startDaemon(device, ['--config', configFile(device, { ...SLOW, serverUrl: stub.url })], { random: () => 0.5 });
    await d.stepUntil(() => stub.count('refresh') >= 13, NOW_MS + 9 * DAY_MS);
    const times = stub.requests.filter((r) => r.route === 'refresh').map((r) => r.atMs);
    expect(times[0]).toBe(NOW_MS + 7 * DAY_MS);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(gaps).toEqual([15_000, 30_000, MIN_MS, 2 * MIN_MS, 4 * MIN_MS, 8 * MIN_MS, 16 * MIN_MS, 32 * MIN_MS, 64 * MIN_MS, 128 * MIN_MS, 3 * HOUR_MS, 3 * HOUR_MS]);
    expect(byMsg(d, 'license server unavailable for renewal; backing off').at(-1)).toMatchObject({ code: 'SERVER_ERROR', failures: 13 });
    expect(byMsg(d, 'mode changed')).toEqual([]);
    expect((await device.status()).mode).toBe('licensed');

    // the server is back: the next attempt succeeds, the backoff is reset
    stub.on('refresh', () => 'forward');
    await d.stepUntil(() => byMsg(d, 'license renewed').length > 0, device.clock.nowMs() + 4 * HOUR_MS);
    const renewedAt = device.clock.nowMs();
    expect(renewedAt).toBe((times.at(-1) as number) + 3 * HOUR_MS);
    expect(installedIat(device)).toBe(renewedAt / 1000);
    // 7 days later it fails again: the first retry comes after 15 s again (reset)
    stub.on('refresh', () => ({ status: 502, raw: '<html>bad gateway</html>' }));
    const before = stub.count('refresh');
    await d.stepUntil(() => stub.count('refresh') >= before + 2, renewedAt + 8 * DAY_MS);
    const again = stub.requests.filter((r) => r.route === 'refresh').slice(before).map((r) => r.atMs);
    expect(again).toEqual([renewedAt + 7 * DAY_MS, renewedAt + 7 * DAY_MS + 15_000]);
    expect(await d.stop()).toBe(0);
  });

  it('keeps working with the server unreachable for weeks; the mode moves to grace only when the token expires', async () => {
    const { device } = await activated();
    const dead = await deadServerUrl();
    const d = await startDaemon(device, ['--config', configFile(device, { ...SLOW, serverUrl: dead })]);
    const changed = await d.stepUntil(() => byMsg(d, 'mode changed').length > 0, NOW_MS + 31 * DAY_MS);
    expect(changed).toBe(true);
    expect(device.clock.nowMs()).toBe(NOW_MS + 30 * DAY_MS);
    expect(byMsg(d, 'mode changed')).toEqual([expect.objectContaining({ from: 'licensed', to: 'grace', reason: 'EXPIRED' })]);
    const failures = byMsg(d, 'license server unavailable for renewal; backing off');
    expect(failures.length).toBeGreaterThan(20);
    expect(failures.every((f) => f.code === 'SERVER_UNREACHABLE')).toBe(true);
    // never more often than the 6 h cap allows once capped (8 a day at random 0.5)
    const lastDay = byMsg(d, 'renewal failed').filter((l) => new Date(l.time).getTime() > NOW_MS + 29 * DAY_MS);
    expect(lastDay.length).toBeLessThanOrEqual(9);
    expect(await d.stop()).toBe(0);
  });

  it('a 4xx refusal (the seat was freed on the server) is final for the token: logged, retried only after 24 h', async () => {
    const { server, device, lic, deviceId } = await activated();
    const stub = await startStubServer({ clock: device.clock, forwardTo: server.url });
    stub.on('revocations', () => ({ status: 503, body: { error: { code: 'STORAGE_ERROR', message: 'keep the list away' } } }));
    expect((await server.run(['device', 'deactivate', '--license', lic.id, '--device', deviceId])).code).toBe(0);
    const d = await startDaemon(device, ['--config', configFile(device, { ...SLOW, serverUrl: stub.url })]);
    await d.stepUntil(() => stub.count('refresh') >= 1, NOW_MS + 8 * DAY_MS);
    expect(stub.requests.filter((r) => r.route === 'refresh')).toEqual([expect.objectContaining({ atMs: NOW_MS + 7 * DAY_MS, status: 403 })]);
    expect(byMsg(d, 'renewal refused; the token is not offered again before retryAt')).toEqual([
      expect.objectContaining({ code: 'REVOKED', retryAt: new Date(NOW_MS + 8 * DAY_MS).toISOString() }),
    ]);
    await d.stepUntil(() => false, NOW_MS + 8 * DAY_MS - 1);
    expect(stub.count('refresh')).toBe(1);
    expect(await d.stop()).toBe(0);

    // the refusal survives a restart: no retry at start
    device.withStore((s) => expect(s.serverLink.get()?.lastRefusal).toMatchObject({ code: 'REVOKED', atMs: NOW_MS + 7 * DAY_MS }));
    const d2 = await startDaemon(device, ['--config', configFile(device, { ...SLOW, serverUrl: stub.url })]);
    await d2.step();
    expect(stub.count('refresh')).toBe(1);
    await d2.stepUntil(() => stub.count('refresh') >= 2, NOW_MS + 9 * DAY_MS);
    expect(stub.requests.filter((r) => r.route === 'refresh').map((r) => r.atMs)).toEqual([NOW_MS + 7 * DAY_MS, NOW_MS + 8 * DAY_MS]);
    expect(await d2.stop()).toBe(0);
  });

  it('an air-gapped token (no server link) is never renewed online; the revocation list is still fetched from the configured server', async () => {
    const clock = fixedClock(NOW_MS);
    const server = await startRealServer(clock);
    const device = agentDevice({ clock, keysFile: server.keysFile });
    const lic = await server.createLicense({ days: 60 });
    const request = join(device.dir, 'request.json');
    writeFileSync(request, (await device.run(['fingerprint', '--json'])).stdout);
    const tokenFile = join(device.dir, 'license.jwt');
    expect((await server.run(['activate-offline', '--key', lic.key, '--request', request, '--out', tokenFile])).code).toBe(0);
    expect((await device.run(['license', 'install', tokenFile])).code).toBe(0);
    const stub = await startStubServer({ clock, forwardTo: server.url });
    const d = await startDaemon(device, ['--config', configFile(device, { ...SLOW, serverUrl: stub.url })]);
    await d.stepUntil(() => false, NOW_MS + 40 * DAY_MS);
    expect(stub.count('refresh')).toBe(0);
    expect(stub.count('revocations')).toBeGreaterThanOrEqual(40);
    expect(byMsg(d, 'mode changed')).toEqual([]);
    expect(await d.stop()).toBe(0);
  });
});

describe('run: revocation list', () => {
  it('picks up a revocation: the list is stored and "mode changed" to REVOKED is logged', async () => {
    const { server, device, lic } = await activated();
    const d = await startDaemon(device, ['--config', configFile(device, { checkIntervalMinutes: 60 })]);
    await d.step(); // the first tick fetches the list
    expect(byMsg(d, 'revocation list stored')).toHaveLength(1);
    expect((await server.run(['license', 'revoke', lic.id])).code).toBe(0);
    const revokedAt = device.clock.nowMs();
    await d.stepUntil(() => byMsg(d, 'mode changed').length > 0, revokedAt + 2 * HOUR_MS);
    expect(byMsg(d, 'mode changed')).toEqual([expect.objectContaining({ from: 'licensed', to: 'trial', reason: 'REVOKED', level: 'warn', cause: 'fetch-revocations' })]);
    expect(device.clock.nowMs()).toBeLessThanOrEqual(revokedAt + HOUR_MS);
    const status = await device.status();
    expect(status).toMatchObject({ code: 3, mode: 'trial', reason: 'REVOKED' });
    expect(await d.stop()).toBe(0);
  });

  it('an older revocation list never replaces a newer one; a newer one does', async () => {
    const { server, device, lic } = await activated();
    const stub = await startStubServer({ clock: device.clock, forwardTo: server.url });
    const iatS = Math.floor(device.clock.nowMs() / 1000);
    const v5 = await server.signRevocationList({ version: 5, iatS });
    const v3 = await server.signRevocationList({ version: 3, iatS, licenses: [lic.id] });
    const v6 = await server.signRevocationList({ version: 6, iatS, licenses: [lic.id] });
    stub.on('revocations', () => ({ status: 200, body: { list: v5, version: 5 } }));
    const d = await startDaemon(device, ['--config', configFile(device, { checkIntervalMinutes: 60, serverUrl: stub.url })]);
    await d.step();
    expect(device.withStore((s) => s.tables.revocations.get()?.version)).toBe(5);

    stub.on('revocations', () => ({ status: 200, body: { list: v3, version: 3 } }));
    await d.stepUntil(() => byMsg(d, 'revocation list ignored: older than the stored one').length > 0, device.clock.nowMs() + 2 * HOUR_MS);
    expect(byMsg(d, 'revocation list ignored: older than the stored one')[0]).toMatchObject({ version: 3, storedVersion: 5 });
    expect(device.withStore((s) => s.tables.revocations.get()?.version)).toBe(5);
    expect(byMsg(d, 'mode changed')).toEqual([]);
    expect((await device.status()).mode).toBe('licensed');

    stub.on('revocations', () => ({ status: 200, body: { list: v6, version: 6 } }));
    await d.stepUntil(() => byMsg(d, 'mode changed').length > 0, device.clock.nowMs() + 2 * HOUR_MS);
    expect(byMsg(d, 'mode changed')[0]).toMatchObject({ to: 'trial', reason: 'REVOKED' });
    expect(device.withStore((s) => s.tables.revocations.get()?.version)).toBe(6);
    expect(await d.stop()).toBe(0);
  });

  it('a list that does not verify (another signer) is ignored and logged', async () => {
    const { server, device, lic } = await activated();
    const stub = await startStubServer({ clock: device.clock, forwardTo: server.url });
    const { makeTestIssuer, signRevocationList } = await import('../../helpers/token-factory.ts');
    const rogue = await makeTestIssuer({ issuer: 'urn:kiosk:vendor:agent-online-test' });
    const forged = await signRevocationList(rogue, { iatS: Math.floor(device.clock.nowMs() / 1000), version: 99, licenses: [lic.id] });
    stub.on('revocations', () => ({ status: 200, body: { list: forged, version: 99 } }));
    const d = await startDaemon(device, ['--config', configFile(device, { ...SLOW, serverUrl: stub.url })]);
    await d.step();
    expect(byMsg(d, 'the revocation list from the server does not verify: ignored')).toEqual([expect.objectContaining({ reason: 'KEY_UNKNOWN', level: 'error' })]);
    expect(device.withStore((s) => s.tables.revocations.get())).toBeNull();
    expect((await device.status()).mode).toBe('licensed');
    expect(await d.stop()).toBe(0);
  });
});

describe('run: config', () => {
  it('a bad config file is CONFIG_INVALID (exit 1) naming the file and the key', async () => {
    const { device } = await activated();
    const cases: Array<[unknown, RegExp]> = [
      ['{ not json', /not JSON/],
      [{ renewal: { afterDays: 30 } }, /renewal\.afterDays: /],
      [{ revocations: { intervalMinutes: 1 } }, /revocations\.intervalMinutes: /],
      [{ checkIntervalMinutes: 0 }, /checkIntervalMinutes: /],
      [{ renewl: {} }, /Unrecognized key/i],
      [{ serverUrl: 'http://licenses.example.com' }, /bad\.json: serverUrl: server URL: plain http to licenses\.example\.com is refused: off loopback the agent talks to the license server over TLS only/],
      [{ logLevel: 'loud' }, /logLevel/],
    ];
    for (const [content, message] of cases) {
      const file = configFile(device, content, 'bad.json');
      const r = await device.run(['run', '--config', file]);
      expect(r.code, JSON.stringify(content)).toBe(1);
      expect(r.stderr).toMatch(/^error CONFIG_INVALID: /m);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('bad.json');
    }
    const missing = await device.run(['run', '--config', join(device.dir, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error CONFIG_INVALID: cannot read the config file .*nope\.json: ENOENT/);
  });

  it('defaults < file < env < flags (seen through the log level)', async () => {
    const { device } = await activated();
    const file = configFile(device, { ...SLOW, logLevel: 'warn' });
    const fileOnly = await startDaemon(device, ['--config', file]);
    expect(byMsg(fileOnly, 'license mode')).toEqual([]); // info is below warn
    await fileOnly.stop();

    (device.env as Record<string, string>).KIOSK_AGENT_LOG_LEVEL = 'debug';
    const envWins = await startDaemon(device, ['--config', file]);
    expect(envWins.logs().some((l) => l.level === 'debug')).toBe(true);
    await envWins.stop();

    const flagWins = await startDaemon(device, ['--config', file, '--log-level', 'error']);
    expect(flagWins.logs().filter((l) => l.level !== 'error')).toEqual([]);
    await flagWins.stop();
  });
});

describe('run: the real bin and signals', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: stops the services, closes the store and exits 0 (node bin/kiosk-agent.mjs run)`, async () => {
      // The bin runs on the system clock: activate at the real time.
      const { server, device, token } = await activated({ clockMs: Date.now() });
      const child = spawn(process.execPath, [resolve(REPO_ROOT, 'bin', 'kiosk-agent.mjs'), 'run', '--data-dir', device.dataDir, '--sysroot', device.root, '--server', server.url], {
        cwd: device.dir,
        env: { ...process.env, KIOSK_AGENT_TRUSTED_KEYS: device.env.KIOSK_AGENT_TRUSTED_KEYS },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      await new Promise<void>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no "daemon started" line: ${stderr}`)), 30_000);
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString('utf8');
          if (stderr.includes('"msg":"daemon started"')) {
            clearTimeout(timer);
            res();
          }
        });
      });
      child.kill(signal);
      const code = await exited;
      expect(code, stderr).toBe(0);
      const msgs = stderr.trim().split('\n').map((l) => JSON.parse(l).msg);
      expect(msgs).toContain('license mode');
      expect(msgs.slice(-2)).toEqual(['stopping', 'stopped']);
      expect(stderr).toContain(`"signal":"${signal}"`);
      expect(stderr).not.toContain(token);
      // the store was closed cleanly: it opens and checks out
      device.withStore((s) => expect(s.integrityCheck()).toEqual(['ok']));
    });
  }
});
