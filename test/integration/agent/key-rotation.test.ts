// Key rotation end to end (keys/README.md "Rotation"), over real HTTP on loopback: the real
// license server (in-process, shared fake clock) and two agents driven through their CLI and
// daemon. K1 signs; K2 is generated next (trusted, not signing); `keys activate K2` runs through
// the server's own CLI against the same key files while the server runs, and takes effect there
// without a restart. An agent built with both keys renews onto K2 and stays licensed; an agent
// built with K1 only refuses the K2 token (KEY_UNKNOWN) and keeps its K1 token until it expires.
// Retiring K1 then stops the server from accepting K1 tokens.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../common/clock.ts';
import { agentDevice, DAY_MS, MIN_MS, NOW_MS, startDaemon, startRealServer, type AgentDevice, type DaemonRun } from './helpers/online.ts';

const SLOW = { checkIntervalMinutes: 60, revocations: { intervalMinutes: 1440 } };
const byMsg = (d: DaemonRun, msg: string): Array<Record<string, any>> => d.logs().filter((l) => l.msg === msg);
const installedToken = (device: AgentDevice): string => device.withStore((s) => s.licenseState.readLicenseState().installed?.token ?? '');
const kidOf = (token: string): unknown => decodeProtectedHeader(token).kid;
const kids = (jwksFile: string): string[] => (JSON.parse(readFileSync(jwksFile, 'utf8')) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);

function configFile(device: AgentDevice, serverUrl: string): string {
  const path = join(device.dir, 'agent.json');
  writeFileSync(path, JSON.stringify({ ...SLOW, serverUrl }));
  return path;
}

describe('key rotation', () => {
  it('activating the next key takes effect in the running server; agents that trust it move over, others keep their token', async () => {
    const clock = fixedClock(NOW_MS);
    const server = await startRealServer(clock);
    const [k1] = kids(server.keysFile);
    // the build that trusts K1 only (shipped before the next key existed)
    const k1Only = join(server.cwd, 'agents-k1.json');
    copyFileSync(server.keysFile, k1Only);

    // 1. the next key: trusted (in jwks.json), not signing
    const gen = await server.run(['keys', 'generate']);
    expect(gen.code, gen.stderr).toBe(0);
    const k2 = kids(server.keysFile).find((k) => k !== k1) ?? '';
    expect(k2).toMatch(/^[0-9a-f]{16}$/);
    // 2. the build that trusts both (what agents must run before step 3)
    const both = join(server.cwd, 'agents-k1-k2.json');
    copyFileSync(server.keysFile, both);

    const lic = await server.createLicense({ maxDevices: 2 });
    const current = agentDevice({ clock, keysFile: both }); // x64-pc
    const old = agentDevice({ clock, keysFile: k1Only, fixture: 'rpi4-64bit' });
    for (const device of [current, old]) {
      const r = await device.run(['activate', '--server', server.url, '--key', lic.key, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(kidOf(installedToken(device))).toBe(k1); // K2 does not sign yet
    }
    clock.advance(MIN_MS);

    // 3. activate K2 through the CLI, on the same key files, while the server runs
    const act = await server.run(['keys', 'activate', k2]);
    expect(act.code, act.stderr).toBe(0);

    // the agent that trusts both renews (7 days after issue) onto a K2 token and stays licensed
    const d1 = await startDaemon(current, ['--config', configFile(current, server.url)]);
    expect(await d1.stepUntil(() => byMsg(d1, 'license renewed').length > 0, NOW_MS + 8 * DAY_MS)).toBe(true);
    expect(kidOf(installedToken(current))).toBe(k2);
    const s1 = await current.status();
    expect(s1.code).toBe(0);
    expect(s1.mode).toBe('licensed');
    await d1.stop();

    // the agent that trusts only K1: the server answers with a K2 token, the agent refuses it
    // and keeps its K1 token
    clock.set(NOW_MS + MIN_MS);
    const k1Token = installedToken(old);
    const d2 = await startDaemon(old, ['--config', configFile(old, server.url)]);
    expect(await d2.stepUntil(() => byMsg(d2, 'the renewed token was refused by this device').length > 0, NOW_MS + 8 * DAY_MS)).toBe(true);
    expect(byMsg(d2, 'the renewed token was refused by this device')[0]).toMatchObject({ code: 'KEY_UNKNOWN' });
    expect(byMsg(d2, 'license renewed')).toEqual([]);
    await d2.stop();
    expect(installedToken(old)).toBe(k1Token);
    const expS = (JSON.parse(Buffer.from(k1Token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp: number }).exp;
    clock.set(expS * 1000 - MIN_MS);
    expect(await old.status()).toMatchObject({ code: 0, mode: 'licensed' });
    clock.set(expS * 1000 + MIN_MS);
    expect((await old.status()).mode).toBe('grace'); // until it expires — then it needs a build that trusts K2

    // 4. retire K1: the running server no longer lists it, nor accepts tokens signed with it
    const ret = await server.run(['keys', 'retire', k1 ?? '']);
    expect(ret.code, ret.stderr).toBe(0);
    const jwks = (await (await fetch(new URL('/.well-known/jwks.json', server.url))).json()) as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid)).toEqual([k2]);
    const d3 = await startDaemon(old, ['--config', configFile(old, server.url)]);
    expect(await d3.stepUntil(() => byMsg(d3, 'renewal failed').length > 0, clock.nowMs() + 2 * DAY_MS)).toBe(true);
    expect(byMsg(d3, 'renewal failed')[0]).toMatchObject({ code: 'UNAUTHORIZED' });
    await d3.stop();
  });
});
