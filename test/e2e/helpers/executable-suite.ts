// The behaviour every built executable must show, run once per way of running it (natively,
// arm64 under qemu, and both on Debian 11's libc): the test and release flavours side by side.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../../scripts/cross-build/lib/cache.ts';
import { fixtureSysroot } from '../../helpers/sysroot.ts';
import { makeTempDir } from '../../helpers/tmp.ts';
import { e2eEnv, type Flavour } from './env.ts';
import { hookSource, runExe, type RunExeOptions, type Runner } from './run-exe.ts';
import { vendor } from './vendor.ts';

export function executableSuite(runner: Runner): void {
  const env = e2eEnv();
  const fixture = fixtureSysroot('x64-pc');
  const run = (flavour: Flavour, args: readonly string[], opts?: RunExeOptions) => runExe(runner, env.executables[flavour][runner.arch], args, opts);
  const target = `linux-${runner.arch}`;

  describe(`the executables, ${runner.name}`, () => {
    it('--version prints version, target, Node 24, flavour and the built-in key ids, and never touches the data dir', () => {
      const dataDir = join(makeTempDir('e2e-version-'), 'data');
      for (const flavour of ['test', 'release'] as const) {
        const r = run(flavour, ['--version', '--data-dir', dataDir], { env: { KIOSK_AGENT_DATA_DIR: dataDir } });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.trim()).toBe(
          `kiosk-agent ${env.productVersion} ${target} node v${env.nodeVersion} flavour ${flavour} trusted-keys ${env.vendorKids.join(',')}`,
        );
        expect(r.stderr).toBe(''); // no SEA or optional-require warnings
      }
      expect(existsSync(dataDir)).toBe(false);
    });

    it('test flavour: a real license for a fixture device, issued by the license server, installs and reads back licensed', async () => {
      const dataDir = join(makeTempDir('e2e-license-'), 'data');
      const fp = run('test', ['fingerprint', '--json', '--sysroot', fixture, '--data-dir', dataDir]);
      expect(fp.code, fp.stderr).toBe(0);
      const request = fp.json();
      expect(request).toMatchObject({ type: 'kiosk-activation-request', issuer: env.issuer, agentVersion: env.productVersion });

      const token = await vendor(env.vendorKeysDir).issue(fp.stdout);
      const install = run('test', ['license', 'install', token, '--sysroot', fixture, '--data-dir', dataDir]);
      expect(install.code, install.stderr).toBe(0);
      expect(install.stdout).toMatch(/^License installed: mode licensed/);
      const status = run('test', ['license', 'status', '--json', '--sysroot', fixture, '--data-dir', dataDir]);
      expect(status.code, status.stderr).toBe(0);
      expect(status.json()).toMatchObject({ mode: 'licensed', reason: null, tenant: 'acme', features: ['sales', 'reports'], deviceId: request.deviceId });

      // the addon was unpacked into <data dir>/native/<hash prefix>/ and is what the hash says
      const native = readdirSync(join(dataDir, 'native'));
      expect(native).toHaveLength(1);
      const addon = join(dataDir, 'native', native[0]!, 'better_sqlite3.node');
      expect(sha256File(addon).startsWith(native[0]!)).toBe(true);
    });

    it('test flavour honours NODE_OPTIONS (its hook runs)', () => {
      const dir = makeTempDir('e2e-hook-');
      const hook = join(dir, 'hook.js');
      const marker = join(dir, 'marker.json');
      writeFileSync(hook, hookSource());
      const r = run('test', ['--version'], { env: { NODE_OPTIONS: `--require ${hook}`, KIOSK_E2E_MARKER: marker } });
      expect(r.code, r.stderr).toBe(0);
      const seen = JSON.parse(readFileSync(marker, 'utf8')) as { glibc: string; arch: string };
      expect(seen.arch).toBe(runner.arch);
      // proof of which C library the program really ran on (Debian 11's for those runners)
      if (runner.glibc) expect(seen.glibc).toBe(runner.glibc);
    });

    it('release flavour does not run a NODE_OPTIONS hook (execArgvExtension "none")', () => {
      const dir = makeTempDir('e2e-hook-');
      const hook = join(dir, 'hook.js');
      const marker = join(dir, 'marker.json');
      writeFileSync(hook, hookSource());
      const opts = { env: { NODE_OPTIONS: `--require ${hook}`, KIOSK_E2E_MARKER: marker } };
      const version = run('release', ['--version'], opts);
      expect(version.code, version.stderr).toBe(0);
      const status = run('release', ['license', 'status', '--json', '--data-dir', join(dir, 'data')], opts);
      expect(status.code, status.stderr).toBe(3); // no license: trial, and it ran
      expect(status.json().mode).toBe('trial');
      expect(existsSync(marker)).toBe(false);
    });

    it('release flavour ignores --sysroot and KIOSK_AGENT_SYSROOT: it fingerprints the machine it runs on', () => {
      const dir = makeTempDir('e2e-sysroot-');
      const host = run('release', ['fingerprint', '--json', '--data-dir', join(dir, 'a')]);
      expect(host.code, host.stderr).toBe(0);
      const asked = run('release', ['fingerprint', '--json', '--sysroot', fixture, '--data-dir', join(dir, 'b')], { env: { KIOSK_AGENT_SYSROOT: fixture } });
      expect(asked.code, asked.stderr).toBe(0);
      const fixtureFp = run('test', ['fingerprint', '--json', '--sysroot', fixture, '--data-dir', join(dir, 'c')]);
      expect(fixtureFp.code, fixtureFp.stderr).toBe(0);
      expect(asked.json().deviceId).toBe(host.json().deviceId);
      expect(asked.json().components).toEqual(host.json().components);
      expect(asked.json().deviceId).not.toBe(fixtureFp.json().deviceId);
    });

    it('release flavour refuses a license signed by an outside key handed in through KIOSK_AGENT_TRUSTED_KEYS; the test flavour takes it', async () => {
      const dir = makeTempDir('e2e-outside-');
      const outsideJwks = join(env.outsideKeysDir, 'jwks.json');
      const outside = vendor(env.outsideKeysDir);

      // release: a perfectly valid license for this very machine, signed by the outside key set
      const fp = run('release', ['fingerprint', '--json', '--data-dir', join(dir, 'release')]);
      expect(fp.code, fp.stderr).toBe(0);
      const forged = await outside.issue(fp.stdout, { allowVirtual: true });
      const install = run('release', ['license', 'install', forged, '--data-dir', join(dir, 'release')], { env: { KIOSK_AGENT_TRUSTED_KEYS: outsideJwks } });
      expect(install.code).toBe(3);
      expect(install.stderr).toMatch(/^error KEY_UNKNOWN: /m);
      const status = run('release', ['license', 'status', '--json', '--data-dir', join(dir, 'release')], { env: { KIOSK_AGENT_TRUSTED_KEYS: outsideJwks } });
      expect(status.json().mode).not.toBe('licensed');

      // test flavour: the same key set through the same variable is honoured
      const tfp = run('test', ['fingerprint', '--json', '--sysroot', fixture, '--data-dir', join(dir, 'test')], { env: { KIOSK_AGENT_TRUSTED_KEYS: outsideJwks } });
      expect(tfp.code, tfp.stderr).toBe(0);
      const token = await outside.issue(tfp.stdout);
      const accepted = run('test', ['license', 'install', token, '--sysroot', fixture, '--data-dir', join(dir, 'test')], { env: { KIOSK_AGENT_TRUSTED_KEYS: outsideJwks } });
      expect(accepted.code, accepted.stderr).toBe(0);
    });
  });
}
