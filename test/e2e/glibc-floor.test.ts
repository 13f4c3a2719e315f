// The glibc floor and the ABI, read from the files themselves (readelf): each executable (Node
// 24's own needs) and the SQLite addon each one unpacks must ask for no symbol version above
// versions.json's floor (Debian 11: GLIBC 2.31, GLIBCXX 3.4.28), be built for its CPU, and
// register as a Node 24 module (NODE_MODULE_VERSION 137), not the host Node 20's (115).
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareVersions, symbolVersionReport } from '../../scripts/cross-build/lib/elf.ts';
import { TARGETS } from '../../scripts/cross-build/lib/targets.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import { e2eEnv } from './helpers/env.ts';
import { nativeRunner, qemuRunner, runExe } from './helpers/run-exe.ts';

const env = e2eEnv();

describe.each(['x64', 'arm64'] as const)('linux-%s: symbol versions and ABI', (arch) => {
  const machine = (file: string) => /Machine:\s+(.*)$/m.exec(execFileSync('readelf', ['-h', file], { encoding: 'utf8' }))?.[1]?.trim();

  it(`the executables need at most GLIBC ${env.floor.GLIBC} and GLIBCXX ${env.floor.GLIBCXX}`, () => {
    for (const flavour of ['test', 'release'] as const) {
      const exe = env.executables[flavour][arch];
      expect(machine(exe)).toBe(TARGETS[arch].elfMachine);
      const report = symbolVersionReport(exe, env.floor);
      expect(report.tooNew).toEqual([]);
      expect(compareVersions(report.glibc ?? '0', '2.28')).toBeLessThanOrEqual(0); // Node 24's own floor
    }
  });

  it('the addon the executable unpacks is for this CPU, Node 24 ABI, and within the floor', () => {
    const dataDir = join(makeTempDir('e2e-floor-'), 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    writeFileSync(join(dataDir, 'agent.db'), ''); // an (empty) database: status opens the store, which loads the addon
    const runner = arch === 'x64' ? nativeRunner : qemuRunner(env.crossSysroot);
    const r = runExe(runner, env.executables.test[arch], ['license', 'status', '--json', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(3); // trial: no license
    const [hash] = readdirSync(join(dataDir, 'native'));
    const addon = join(dataDir, 'native', hash!, 'better_sqlite3.node');
    expect(machine(addon)).toBe(TARGETS[arch].elfMachine);
    const report = symbolVersionReport(addon, env.floor);
    expect(report.tooNew).toEqual([]);
    expect(compareVersions(report.glibc ?? '0', env.floor.GLIBC)).toBeLessThanOrEqual(0);
    expect(compareVersions(report.glibcxx ?? '0', env.floor.GLIBCXX)).toBeLessThanOrEqual(0);
    const dynsyms = execFileSync('readelf', ['-W', '--dyn-syms', addon], { encoding: 'utf8' });
    expect(dynsyms).toMatch(/\bnode_register_module_v137\b/);
  });
});
