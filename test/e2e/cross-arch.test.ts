// The same fixture device read by the x64 and the arm64 executable gives the same activation
// request: a license issued from either one's request fits the other (same device key: the
// data dir is copied from the first run to the second).
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { fixtureSysroot } from '../helpers/sysroot.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import { e2eEnv } from './helpers/env.ts';
import { nativeRunner, qemuRunner, runExe } from './helpers/run-exe.ts';

const env = e2eEnv();

it('fingerprint --json --sysroot x64-pc is the same on linux-x64 and linux-arm64', () => {
  const dir = makeTempDir('e2e-cross-');
  const fixture = fixtureSysroot('x64-pc');
  const x64 = runExe(nativeRunner, env.executables.test.x64, ['fingerprint', '--json', '--sysroot', fixture, '--data-dir', join(dir, 'x64')]);
  expect(x64.code, x64.stderr).toBe(0);
  cpSync(join(dir, 'x64'), join(dir, 'arm64'), { recursive: true });
  const arm64 = runExe(qemuRunner(env.crossSysroot), env.executables.test.arm64, ['fingerprint', '--json', '--sysroot', fixture, '--data-dir', join(dir, 'arm64')]);
  expect(arm64.code, arm64.stderr).toBe(0);
  const { createdAt: _a, ...a } = x64.json();
  const { createdAt: _b, ...b } = arm64.json();
  expect(b).toEqual(a);
  expect(a.deviceId).toMatch(/^[0-9a-f]{32}$/);
  expect(Object.keys(a.components).length).toBeGreaterThanOrEqual(4);
});
