// The installer kit (dist/kiosk-agent[-test]-<version>-linux-<arch>.tar.gz) and its install.sh,
// exercised against a temporary root (--root DIR: no systemctl calls, no accounts touched):
// layout, idempotence, checksum refusal, offline license, and an upgrade that keeps the data dir
// and the license. The test-flavour kit is used where a license must be accepted (it honours
// KIOSK_AGENT_SYSROOT, so the license is for a fixture device, not this container).
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../scripts/cross-build/lib/cache.ts';
import { findTool } from '../../scripts/cross-build/lib/exec.ts';
import { toResult, type CliResult } from '../helpers/cli.ts';
import { fixtureSysroot } from '../helpers/sysroot.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import { e2eEnv } from './helpers/env.ts';
import { baseEnv, nativeRunner, runExe } from './helpers/run-exe.ts';
import { vendor } from './helpers/vendor.ts';

const env = e2eEnv();
const fixture = fixtureSysroot('x64-pc');
const TEST_ENV = { KIOSK_AGENT_SYSROOT: fixture };

function unpack(kit: string): string {
  const dir = makeTempDir('e2e-kit-');
  execFileSync('tar', ['-xzf', kit, '-C', dir]);
  const [top] = readdirSync(dir);
  return join(dir, top!);
}

function install(kitDir: string, args: readonly string[], extraEnv: Record<string, string> = {}): CliResult {
  const r = spawnSync('sh', [join(kitDir, 'install.sh'), ...args], { env: { ...baseEnv(), ...extraEnv }, encoding: 'utf8', timeout: 120_000 });
  return toResult(r.status ?? -1, r.stdout, r.stderr);
}

/** Every path under root (data dir excluded) with its type, mode and content hash or link target. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const rel = relative(root, full);
      if (rel.startsWith('var/lib/kiosk-agent/')) continue;
      const st = lstatSync(full);
      if (st.isSymbolicLink()) out[rel] = `-> ${readlinkSync(full)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir ${(st.mode & 0o7777).toString(8)}`;
        walk(full);
      } else out[rel] = `file ${(st.mode & 0o7777).toString(8)} ${sha256File(full)} ${st.mtimeMs}`;
    }
  };
  walk(root);
  return out;
}

const agentIn = (root: string) => join(root, 'opt', 'kiosk-agent', 'current', 'kiosk-agent');
const dataIn = (root: string) => join(root, 'var', 'lib', 'kiosk-agent');

describe('install.sh --root DIR', () => {
  it('installs, is idempotent, installs an offline license, and an upgrade keeps data dir, license and local config', async () => {
    const kit1 = unpack(env.kits.test.x64);
    const kit2 = unpack(env.upgradeKit);
    const root = makeTempDir('e2e-root-');

    // 1. a fresh install
    const first = install(kit1, ['--root', root], TEST_ENV);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`kiosk-agent ${env.productVersion} (linux-x64, test) installed in ${root}/opt/kiosk-agent`);
    expect(readlinkSync(join(root, 'opt/kiosk-agent/current'))).toBe(`releases/${env.productVersion}`);
    expect(readlinkSync(join(root, 'usr/local/bin/kiosk-agent'))).toBe('/opt/kiosk-agent/current/kiosk-agent');
    expect(sha256File(join(root, 'opt/kiosk-agent/releases', env.productVersion, 'kiosk-agent'))).toBe(sha256File(join(kit1, 'kiosk-agent')));
    expect(statSync(join(root, 'opt/kiosk-agent/releases', env.productVersion, 'kiosk-agent')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(root, 'etc/systemd/system/kiosk-agent.service'), 'utf8')).toBe(readFileSync(join(kit1, 'kiosk-agent.service'), 'utf8'));
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/kiosk-agent.service'))).toBe('/etc/systemd/system/kiosk-agent.service');
    expect(readFileSync(join(root, 'etc/kiosk-agent/config.json'), 'utf8')).toBe(readFileSync(join(kit1, 'config.json'), 'utf8'));
    expect(readFileSync(join(root, 'usr/lib/sysusers.d/kiosk-agent.conf'), 'utf8')).toMatch(/^u kiosk-agent - "kiosk-agent service" \/var\/lib\/kiosk-agent /);
    expect(statSync(dataIn(root)).mode & 0o777).toBe(0o700);
    expect(existsSync(join(root, 'etc/passwd'))).toBe(false); // accounts are the image's business (sysusers.d)

    // 2. the device's activation request, the vendor's license, installed through install.sh;
    //    the second run of the same kit changes no file
    const before = snapshot(root);
    const fp = runExe(nativeRunner, agentIn(root), ['fingerprint', '--json', '--data-dir', dataIn(root)], { env: TEST_ENV });
    expect(fp.code, fp.stderr).toBe(0);
    const token = await vendor(env.vendorKeysDir).issue(fp.stdout);
    const again = install(kit1, ['--root', root, '--license', token], TEST_ENV);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('is installed already; nothing changed');
    expect(snapshot(root)).toEqual(before);
    const licensed = runExe(nativeRunner, agentIn(root), ['license', 'status', '--json', '--data-dir', dataIn(root)], { env: TEST_ENV });
    expect(licensed.code, licensed.stderr).toBe(0);
    const was = licensed.json();
    expect(was).toMatchObject({ mode: 'licensed', deviceId: fp.json().deviceId });
    const deviceKey = readFileSync(join(dataIn(root), 'device-key.pem'));

    // 3. a local config edit, then the upgrade
    writeFileSync(join(root, 'etc/kiosk-agent/config.json'), '{"edited":"locally"}\n');
    const upgrade = install(kit2, ['--root', root], TEST_ENV);
    expect(upgrade.code, upgrade.stderr).toBe(0);
    expect(upgrade.stdout).toContain(`upgraded: ${env.productVersion} -> ${env.upgradeVersion}`);
    expect(readlinkSync(join(root, 'opt/kiosk-agent/current'))).toBe(`releases/${env.upgradeVersion}`);
    expect(existsSync(join(root, 'opt/kiosk-agent/releases', env.productVersion, 'kiosk-agent'))).toBe(true); // kept for rollback
    const version = runExe(nativeRunner, agentIn(root), ['--version']);
    expect(version.stdout).toMatch(new RegExp(`^kiosk-agent ${env.upgradeVersion.replace(/\./g, '\\.')} linux-x64 `));
    const after = runExe(nativeRunner, agentIn(root), ['license', 'status', '--json', '--data-dir', dataIn(root)], { env: TEST_ENV });
    expect(after.code, after.stderr).toBe(0);
    expect(after.json()).toMatchObject({ mode: 'licensed', licenseId: was.licenseId, deviceId: was.deviceId, tokenExpiresAt: was.tokenExpiresAt });
    expect(readFileSync(join(dataIn(root), 'device-key.pem'))).toEqual(deviceKey);
    expect(readFileSync(join(root, 'etc/kiosk-agent/config.json'), 'utf8')).toBe('{"edited":"locally"}\n');
    expect(readFileSync(join(root, 'etc/kiosk-agent/config.json.default'), 'utf8')).toBe(readFileSync(join(kit2, 'config.json'), 'utf8'));
  });

  it('refuses a kit whose checksums do not match, and installs nothing', () => {
    const kit = unpack(env.kits.test.x64);
    appendFileSync(join(kit, 'kiosk-agent'), 'tampered');
    const root = makeTempDir('e2e-root-');
    const r = install(kit, ['--root', root]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the kit's checksums do not match (SHA256SUMS): it is damaged or altered; download it again. Nothing was installed.");
    expect(readdirSync(root)).toEqual([]);
  });

  it('release kit: installed complete even when the agent refuses the license (an outside key: exit 3)', async () => {
    const kit = unpack(env.kits.release.x64);
    const root = makeTempDir('e2e-root-');
    const fp = runExe(nativeRunner, join(kit, 'kiosk-agent'), ['fingerprint', '--json', '--data-dir', dataIn(root)]);
    expect(fp.code, fp.stderr).toBe(0);
    const forged = await vendor(env.outsideKeysDir).issue(fp.stdout, { allowVirtual: true });
    const r = install(kit, ['--root', root, '--license', forged], { KIOSK_AGENT_TRUSTED_KEYS: join(env.outsideKeysDir, 'jwks.json') });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error KEY_UNKNOWN: /m);
    expect(r.stderr).toContain('the installation itself is complete');
    const version = runExe(nativeRunner, agentIn(root), ['--version']);
    expect(version.stdout).toContain(`flavour release trusted-keys ${env.vendorKids.join(',')}`);
  });

  it('the systemd unit: own user, ambient CAP_DAC_READ_SEARCH, restart on failure, hardening that leaves the JIT and the addon working', () => {
    const kit = unpack(env.kits.release.x64);
    const unit = readFileSync(join(kit, 'kiosk-agent.service'), 'utf8');
    const directives = unit.split('\n').filter((l) => /^[A-Za-z]+=/.test(l));
    for (const d of [
      'User=kiosk-agent',
      'AmbientCapabilities=CAP_DAC_READ_SEARCH',
      'Restart=on-failure',
      'StateDirectory=kiosk-agent',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
    ]) {
      expect(directives).toContain(d);
    }
    expect(directives.some((d) => /^(MemoryDenyWriteExecute|NoExecPaths|ProcSubset)=/.test(d))).toBe(false);
    expect(directives.find((d) => d.startsWith('ExecStart='))).toMatch(/^ExecStart=\/opt\/kiosk-agent\/current\/kiosk-agent run .*--data-dir \/var\/lib\/kiosk-agent/);
    const analyze = findTool('systemd-analyze');
    expect(analyze, 'systemd-analyze (Debian package systemd) is needed to check the unit').not.toBeNull();
    // systemd's own parser: every directive known, the command executable
    const dir = makeTempDir('e2e-unit-');
    mkdirSync(join(dir, 'opt'), { recursive: true });
    cpSync(join(kit, 'kiosk-agent'), join(dir, 'opt', 'kiosk-agent'));
    writeFileSync(join(dir, 'kiosk-agent.service'), unit.replace('ExecStart=/opt/kiosk-agent/current/kiosk-agent', `ExecStart=${join(dir, 'opt', 'kiosk-agent')}`));
    const verify = spawnSync(analyze!, ['verify', '--man=no', join(dir, 'kiosk-agent.service')], { encoding: 'utf8' });
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stderr.trim()).toBe('');
  });
});
