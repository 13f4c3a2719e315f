// Regression: better-sqlite3 12's native objects abort Node 24 when the garbage collector
// finalizes them (`Assertion failed: (env) != nullptr` in RemoveEnvironmentCleanupHook, from
// Statement::~Statement — SIGABRT at exit or while serving). agent/src/store/database.ts keeps
// them reachable; before that, 16 of 20 `license status` runs over an existing store aborted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { e2eEnv } from './helpers/env.ts';
import { nativeRunner, runExe } from './helpers/run-exe.ts';
import { REPO_ROOT } from '../helpers/cli.ts';
import { makeTempDir } from '../helpers/tmp.ts';

it('the x64 executable opens its store 20 times and never aborts (exit 3: trial, no license)', () => {
  const env = e2eEnv();
  const exe = env.executables.test.x64;
  const dataDir = join(makeTempDir('kiosk-e2e-abort-'), 'data');
  const sysroot = join(REPO_ROOT, 'test/fixtures/sysroots/x64-pc');
  const keys = { KIOSK_AGENT_TRUSTED_KEYS: join(env.vendorKeysDir, 'jwks.json') };
  // `fingerprint` makes the data dir; `license install` of nothing usable opens (creates) the store.
  expect(runExe(nativeRunner, exe, ['fingerprint', '--json', '--sysroot', sysroot, '--data-dir', dataDir], { env: keys }).code).toBe(0);
  const empty = join(dataDir, '..', 'empty.jwt');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(empty, '');
  expect(runExe(nativeRunner, exe, ['license', 'install', empty, '--sysroot', sysroot, '--data-dir', dataDir], { env: keys }).code).toBe(3);
  const codes: number[] = [];
  for (let i = 0; i < 20; i++) {
    const r = runExe(nativeRunner, exe, ['license', 'status', '--json', '--sysroot', sysroot, '--data-dir', dataDir], { env: keys });
    codes.push(r.code);
    expect(r.stderr).not.toContain('Assertion failed');
  }
  expect(codes).toEqual(Array(20).fill(3));
});
