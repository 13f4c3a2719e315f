// Running the built executables: natively, under qemu-user with the cross toolchain's
// libraries (binfmt is not mounted here, so qemu is called explicitly), or against Debian 11's
// libc (the x64 one through that root's ld.so, the arm64 one with qemu -L root). The
// environment is clean (no NODE_OPTIONS or KIOSK_* of the test process leaks in), and a run
// can drop to another user with the systemd unit's ambient capability.
import { spawnSync } from 'node:child_process';
import type { Arch } from '../../../scripts/cross-build/lib/targets.ts';
import { debian11Command } from '../../../scripts/cross-build/steps/debian11-root.ts';
import { toResult, type CliResult } from '../../helpers/cli.ts';

export interface Runner {
  readonly name: string;
  readonly arch: Arch;
  /** The glibc this runner must show the program (null: the host's or the cross sysroot's). */
  readonly glibc: string | null;
  argv(exe: string, args: readonly string[]): [string, string[]];
}

export const nativeRunner: Runner = {
  name: 'linux-x64, natively',
  arch: 'x64',
  glibc: null,
  argv: (exe, args) => [exe, [...args]],
};

export function qemuRunner(sysroot: string): Runner {
  return {
    name: `linux-arm64 under qemu-aarch64 -L ${sysroot}`,
    arch: 'arm64',
    glibc: null,
    argv: (exe, args) => ['qemu-aarch64', ['-L', sysroot, exe, ...args]],
  };
}

export function debian11Runner(arch: Arch, root: string, glibc: string): Runner {
  return {
    name: `linux-${arch} on Debian 11's glibc ${glibc} (${arch === 'x64' ? 'its ld.so' : 'qemu-aarch64 -L'})`,
    arch,
    glibc,
    argv: (exe, args) => debian11Command(arch, root, exe, args),
  };
}

export interface AsUser {
  readonly uid: number;
  readonly gid: number;
  /** Ambient capabilities, as the systemd unit grants them (e.g. ['dac_read_search']). */
  readonly ambientCaps?: readonly string[];
}

export const NOBODY: AsUser = { uid: 65534, gid: 65534 };

export interface RunExeOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly asUser?: AsUser;
  /** Wraps the command in a private mount namespace that runs `setup` (sh) first; "$@" is the command. */
  readonly mountSetup?: string;
  readonly timeoutMs?: number;
}

export function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: '/nonexistent' };
}

/** The command line runExe runs (runner, then setpriv, then unshare), for callers that spawn it themselves. */
export function exeCommand(runner: Runner, exe: string, args: readonly string[], opts: Pick<RunExeOptions, 'asUser' | 'mountSetup'> = {}): [string, string[]] {
  let [cmd, argv] = runner.argv(exe, args);
  if (opts.asUser) {
    const u = opts.asUser;
    const caps = (u.ambientCaps ?? []).map((c) => `+${c}`).join(',');
    argv = [`--reuid=${u.uid}`, `--regid=${u.gid}`, '--clear-groups', ...(caps ? [`--inh-caps=${caps}`, `--ambient-caps=${caps}`] : []), cmd, ...argv];
    cmd = 'setpriv';
  }
  if (opts.mountSetup) {
    argv = ['-m', '--propagation', 'private', 'sh', '-ec', `${opts.mountSetup}\nexec "$@"`, 'sh', cmd, ...argv];
    cmd = 'unshare';
  }
  return [cmd, argv];
}

export function runExe(runner: Runner, exe: string, args: readonly string[], opts: RunExeOptions = {}): CliResult {
  const [cmd, argv] = exeCommand(runner, exe, args, opts);
  const r = spawnSync(cmd, argv, {
    cwd: opts.cwd ?? '/',
    env: { ...baseEnv(), ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
  });
  if (r.error) throw r.error;
  return toResult(r.status ?? (r.signal ? 128 : -1), r.stdout, r.stderr);
}

/** A NODE_OPTIONS --require hook that records that it ran (and the glibc and arch it saw). */
export function hookSource(): string {
  return [
    "const fs = require('fs');",
    'const header = process.report.getReport().header;',
    'fs.writeFileSync(process.env.KIOSK_E2E_MARKER, JSON.stringify({ glibc: header.glibcVersionRuntime, arch: process.arch }));',
    '',
  ].join('\n');
}
