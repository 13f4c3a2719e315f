// The agent as the systemd unit runs it: as its own, non-root user, with the ambient
// CAP_DAC_READ_SEARCH that makes the root-only DMI files readable (scripts/cross-build/kit/
// kiosk-agent.service). `nobody` stands in for the kiosk-agent user; setpriv sets the same
// ambient capability the unit does. The daemon's local API as that user (GET /v1/status, an
// order) is tested in daemon-api.test.ts.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copySysroot } from '../helpers/sysroot.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import { e2eEnv } from './helpers/env.ts';
import { REPO_ROOT } from '../helpers/cli.ts';
import { baseEnv, NOBODY, nativeRunner, runExe } from './helpers/run-exe.ts';
import { vendor } from './helpers/vendor.ts';

const env = e2eEnv();
const exe = env.executables.test.x64;
const ROOT_ONLY_DMI = ['product_uuid', 'board_serial', 'product_serial'];

/** A copy of the x64-pc fixture that nobody can traverse, with the DMI files root-only as on real hardware. */
function realisticSysroot(): string {
  const root = copySysroot('x64-pc');
  chmodSync(join(root, '..'), 0o755);
  const dmi = join(root, 'sys', 'devices', 'virtual', 'dmi', 'id');
  for (const f of ROOT_ONLY_DMI) chmodSync(join(dmi, f), 0o400);
  return root;
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid, gid);
}

describe('as a non-root user', () => {
  it('reads root-only DMI files only with the unit\'s ambient CAP_DAC_READ_SEARCH', () => {
    const sysroot = realisticSysroot();
    const dir = makeTempDir('e2e-nonroot-');
    chmodSync(dir, 0o755);
    const asRoot = runExe(nativeRunner, exe, ['fingerprint', '--json', '--sysroot', sysroot, '--data-dir', join(dir, 'root')]);
    expect(asRoot.code, asRoot.stderr).toBe(0);
    const dataDir = join(dir, 'nobody');
    mkdirSync(dataDir, { mode: 0o700 });
    chownSync(dataDir, NOBODY.uid, NOBODY.gid);

    const plain = runExe(nativeRunner, exe, ['fingerprint', '--json', '--sysroot', sysroot, '--data-dir', dataDir], { asUser: NOBODY });
    expect(plain.code, plain.stderr).toBe(0);
    for (const c of ['board_serial', 'product_serial', 'dmi_uuid']) expect(plain.json().components).not.toHaveProperty(c);
    expect(plain.stderr).toMatch(/warning: /);

    const withCap = runExe(nativeRunner, exe, ['fingerprint', '--json', '--sysroot', sysroot, '--data-dir', dataDir], {
      asUser: { ...NOBODY, ambientCaps: ['dac_read_search'] },
    });
    expect(withCap.code, withCap.stderr).toBe(0);
    expect(withCap.json().components).toEqual(asRoot.json().components);
    expect(withCap.json().deviceId).toBe(asRoot.json().deviceId);
  });

  it('license status: the license root installed is honoured, and the user unpacks the addon itself', async () => {
    const sysroot = realisticSysroot();
    const dir = makeTempDir('e2e-nonroot-');
    chmodSync(dir, 0o755);
    const dataDir = join(dir, 'data');
    const fp = runExe(nativeRunner, exe, ['fingerprint', '--json', '--sysroot', sysroot, '--data-dir', dataDir]);
    expect(fp.code, fp.stderr).toBe(0);
    const token = await vendor(env.vendorKeysDir).issue(fp.stdout);
    const install = runExe(nativeRunner, exe, ['license', 'install', token, '--sysroot', sysroot, '--data-dir', dataDir]);
    expect(install.code, install.stderr).toBe(0);
    // hand the data dir to the service user, as install.sh (chown) and systemd (StateDirectory=) do
    rmSync(join(dataDir, 'native'), { recursive: true, force: true });
    chownTree(dataDir, NOBODY.uid, NOBODY.gid);

    const status = runExe(nativeRunner, exe, ['license', 'status', '--json', '--sysroot', sysroot, '--data-dir', dataDir], {
      asUser: { ...NOBODY, ambientCaps: ['dac_read_search'] },
    });
    expect(status.code, status.stderr).toBe(0);
    expect(status.json()).toMatchObject({ mode: 'licensed', deviceId: fp.json().deviceId });
    const [hash] = readdirSync(join(dataDir, 'native'));
    expect(statSync(join(dataDir, 'native', hash!, 'better_sqlite3.node')).uid).toBe(NOBODY.uid);
  });
});

describe('the daemon as a non-root user', () => {
  it('`run` with the kit\'s default config, as the unit starts it: starts, takes the trial, stops cleanly on SIGTERM', async () => {
    const sysroot = realisticSysroot();
    const dir = makeTempDir('e2e-daemon-');
    chmodSync(dir, 0o755);
    const config = join(dir, 'config.json');
    copyFileSync(join(REPO_ROOT, 'scripts', 'cross-build', 'kit', 'config.json'), config);
    chmodSync(config, 0o644);
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    chownSync(dataDir, NOBODY.uid, NOBODY.gid);

    const child = spawn(
      'setpriv',
      [`--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search',
        exe, 'run', '--config', config, '--data-dir', dataDir, '--sysroot', sysroot],
      { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    const started = new Promise<void>((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "daemon started" within 30 s:\n${stderr}`)), 30_000);
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (stderr.includes('"msg":"daemon started"')) {
          clearTimeout(timer);
          resolvePromise();
        }
      });
      child.on('exit', (code) => reject(new Error(`run exited ${code} before it started:\n${stderr}`)));
    });
    const exited = new Promise<number | null>((resolvePromise) => child.on('exit', (code) => resolvePromise(code)));
    try {
      await started;
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; mode?: string });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['trial period started', 'daemon started', 'stopping', 'stopped']));
    expect(lines.find((l) => l.mode)?.mode).toBe('trial');
    const [hash] = readdirSync(join(dataDir, 'native'));
    expect(statSync(join(dataDir, 'native', hash!, 'better_sqlite3.node')).uid).toBe(NOBODY.uid);
  });
});
