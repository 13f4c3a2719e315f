// The SQLite addon inside the executable (agent/src/native/sqlite-addon.ts): unpacked once, on
// first use of the store, to <data dir>/native/<hash prefix>/better_sqlite3.node; checked
// against the build-time hash before every load (a damaged copy is replaced, never loaded);
// and a data dir that is read-only, not writable for the user, or mounted noexec fails with
// DATA_DIR_UNUSABLE naming the fix. Driven through the linux-x64 test executable.
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../scripts/cross-build/lib/cache.ts';
import { fixtureSysroot } from '../helpers/sysroot.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import { e2eEnv } from './helpers/env.ts';
import { NOBODY, nativeRunner, runExe, type RunExeOptions } from './helpers/run-exe.ts';

const env = e2eEnv();
const exe = env.executables.test.x64;
const status = (dataDir: string, opts?: RunExeOptions) => runExe(nativeRunner, exe, ['license', 'status', '--data-dir', dataDir], opts);

/** A data dir with an (empty) database, so `license status` opens the store and needs the addon. */
function dataDirWithDatabase(parent: string): string {
  const dataDir = join(parent, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  writeFileSync(join(dataDir, 'agent.db'), '');
  return dataDir;
}

function theAddon(dataDir: string): { dir: string; file: string } {
  const entries = readdirSync(join(dataDir, 'native'));
  expect(entries).toHaveLength(1);
  const dir = join(dataDir, 'native', entries[0]!);
  return { dir, file: join(dir, 'better_sqlite3.node') };
}

describe('the SQLite addon inside the executable', () => {
  it('is unpacked only when the store is first used, owner-only, where its hash says', () => {
    const dataDir = join(makeTempDir('e2e-native-'), 'data');
    const fp = runExe(nativeRunner, exe, ['fingerprint', '--sysroot', fixtureSysroot('x64-pc'), '--data-dir', dataDir]);
    expect(fp.code, fp.stderr).toBe(0);
    expect(existsSync(join(dataDir, 'native'))).toBe(false); // fingerprint never opens the store

    writeFileSync(join(dataDir, 'agent.db'), '');
    const r = status(dataDir);
    expect(r.code, r.stderr).toBe(3); // trial: no license, but the store opened
    const { dir, file } = theAddon(dataDir);
    expect(sha256File(file).slice(0, 16)).toBe(dir.slice(-16));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o500);
  });

  it('is checked against the build-time hash before every load: a damaged copy is replaced, copies of other versions removed', () => {
    const dataDir = dataDirWithDatabase(makeTempDir('e2e-native-'));
    const stale = join(dataDir, 'native', '0123456789abcdef');
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, 'better_sqlite3.node'), 'an addon of an older version');
    expect(status(dataDir).code).toBe(3);
    const { dir, file } = theAddon(dataDir); // the stale one is gone
    const good = sha256File(file);

    chmodSync(file, 0o600);
    writeFileSync(file, 'not an ELF file: loading this would crash or worse');
    const r = status(dataDir);
    expect(r.code, r.stderr).toBe(3);
    expect(sha256File(file)).toBe(good);
    expect(good.startsWith(dir.slice(-16))).toBe(true);
  });

  it('on a read-only file system: DATA_DIR_UNUSABLE, naming the fix', () => {
    const dataDir = dataDirWithDatabase(makeTempDir('e2e-native-'));
    const r = status(dataDir, { mountSetup: `mount --bind '${dataDir}' '${dataDir}'\nmount -o remount,bind,ro '${dataDir}'` });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error DATA_DIR_UNUSABLE: cannot write the SQLite addon to .*: it is on a read-only file system\. .*set the data dir elsewhere/m);
  });

  it('not writable for the agent\'s user: DATA_DIR_UNUSABLE, naming the fix', () => {
    const parent = makeTempDir('e2e-native-');
    chmodSync(parent, 0o755);
    const dataDir = dataDirWithDatabase(parent);
    chmodSync(dataDir, 0o755); // root's, readable by nobody, not writable
    chmodSync(join(dataDir, 'agent.db'), 0o644);
    const r = status(dataDir, { asUser: NOBODY });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error DATA_DIR_UNUSABLE: cannot write the SQLite addon to .*: this user \(uid 65534\) may not write there\. .*chown it to that user.*set the data dir elsewhere/m);
  });

  it('on a file system mounted noexec: DATA_DIR_UNUSABLE, naming the mount and the fix', () => {
    const mountPoint = makeTempDir('e2e-noexec-');
    const dataDir = join(mountPoint, 'data');
    const r = status(dataDir, {
      mountSetup: `mount -t tmpfs -o noexec,size=64m tmpfs '${mountPoint}'\nmkdir -m 700 '${dataDir}'\n: > '${dataDir}/agent.db'`,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error DATA_DIR_UNUSABLE: cannot load the SQLite addon from ${dataDir}/native/`);
    expect(r.stderr).toContain(`${mountPoint} is mounted noexec. Mount ${mountPoint} without noexec, or set the data dir elsewhere`);
  });
});
