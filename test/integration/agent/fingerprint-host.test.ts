// The reader on this very machine (sysroot "/"): a Firecracker microVM in a Docker image, without
// DMI or a device tree. It must work, read at least machine_id, and start no child process.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const spawned = vi.hoisted(() => [] as string[]);
vi.mock('node:child_process', async (importOriginal) => {
  const real = await importOriginal<Record<string, unknown>>();
  const trap = (name: string) => (...args: unknown[]) => {
    spawned.push(`${name} ${String(args[0])}`);
    throw new Error(`child_process.${name} called`);
  };
  return Object.fromEntries(Object.keys(real).map((k) => [k, typeof real[k] === 'function' ? trap(k) : real[k]]));
});

const { fingerprintKey, hashComponent } = await import('../../../common/fingerprint.ts');
const { readDeviceFingerprint } = await import('../../../agent/src/hardware/read-fingerprint.ts');
const { REPO_ROOT } = await import('../../helpers/cli.ts');

describe('reading / on this machine', () => {
  it('yields machine_id (and whatever else is there) without a child process', async () => {
    const fp = await readDeviceFingerprint({ sysroot: '/', issuer: 'vendor-host' });
    expect(spawned).toEqual([]);
    expect(fp.deviceId).toMatch(/^[0-9a-f]{32}$/);
    expect(Object.keys(fp.components)).toContain('machine_id');
    const machineId = readFileSync(existsSync('/etc/machine-id') ? '/etc/machine-id' : '/var/lib/dbus/machine-id', 'utf8').trim();
    expect(fp.components.machine_id).toBe(hashComponent(fingerprintKey('vendor-host'), 'machine_id', machineId));
    expect(['x64', 'arm64', 'arm']).toContain(fp.platform.arch);
    expect(JSON.stringify(fp)).not.toContain(machineId);
  });

  it('no hardware module imports child_process (static check)', () => {
    const mine = (dir: string, f: string): boolean => (dir.endsWith('domain') ? f.startsWith('fingerprint-') : f !== 'time-sync.ts');
    const dirs = ['agent/src/hardware', 'agent/src/domain'].map((d) => join(REPO_ROOT, d));
    const offenders = dirs.flatMap((dir) =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.ts') && mine(dir, f))
        .filter((f) => /child_process|execSync|spawnSync|dmidecode/.test(readFileSync(join(dir, f), 'utf8').replace(/\/\/.*$/gm, '')))
        .map((f) => join(dir, f)),
    );
    expect(offenders).toEqual([]);
  });
});
