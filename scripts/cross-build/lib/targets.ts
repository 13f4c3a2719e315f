// The two targets and the tools that build for each (all from Debian packages).
export type Arch = 'x64' | 'arm64';
export const ARCHES: readonly Arch[] = ['x64', 'arm64'];

export interface TargetTools {
  readonly arch: Arch;
  /** "linux-x64" */
  readonly target: string;
  /** node-gyp --arch */
  readonly gypArch: string;
  readonly cc: string;
  readonly cxx: string;
  readonly strip: string;
  /** The cross toolchain's sysroot (qemu -L) for arm64; null for the host arch. */
  readonly crossSysroot: string | null;
  /** The ELF machine as readelf -h prints it. */
  readonly elfMachine: string;
}

export const TARGETS: Readonly<Record<Arch, TargetTools>> = {
  x64: {
    arch: 'x64',
    target: 'linux-x64',
    gypArch: 'x64',
    cc: 'gcc',
    cxx: 'g++',
    strip: 'strip',
    crossSysroot: null,
    elfMachine: 'Advanced Micro Devices X86-64',
  },
  arm64: {
    arch: 'arm64',
    target: 'linux-arm64',
    gypArch: 'arm64',
    cc: 'aarch64-linux-gnu-gcc',
    cxx: 'aarch64-linux-gnu-g++',
    strip: 'aarch64-linux-gnu-strip',
    crossSysroot: '/usr/aarch64-linux-gnu',
    elfMachine: 'AArch64',
  },
};

export function hostArch(): Arch {
  if (process.arch === 'x64' || process.arch === 'arm64') return process.arch;
  throw new Error(`the cross-build runs on x64 or arm64 hosts, not ${process.arch}`);
}
