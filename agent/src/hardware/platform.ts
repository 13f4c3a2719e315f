// Platform facts for the activation request (PlatformFacts). The architecture is the one the
// sysroot's kernel reports — /proc/sys/kernel/arch (uname -m, Linux ≥ 6.1), else inferred from
// /proc/cpuinfo — so a fixture's arch wins over the test machine's; process.arch only when the
// sysroot reveals nothing. On a 64-bit kernel with a 32-bit userland it is the kernel's.
import { archFromMachine } from '../domain/fingerprint-platform.ts';
import { parseCpuinfo } from '../domain/fingerprint-cpuinfo.ts';
import type { NicFacts } from '../domain/fingerprint-nic.ts';
import { detectContainer } from './container.ts';
import { readDeviceTreeCompatible } from './soc.ts';
import type { SysrootReader } from './sysroot-reader.ts';
import { detectVirtualization } from './virtualization.ts';

export interface PlatformFactsRead {
  readonly arch: string;
  readonly virtualization: string | null;
  readonly container: string | null;
}

export function readPlatformFacts(reader: SysrootReader, cpuinfo: string | null, nics: readonly NicFacts[]): PlatformFactsRead {
  const facts = cpuinfo === null ? null : parseCpuinfo(cpuinfo);
  return {
    arch: readArch(reader, facts?.arch ?? null),
    virtualization: detectVirtualization(reader, {
      hypervisorFlag: facts?.hypervisorFlag ?? false,
      deviceTreeCompatible: readDeviceTreeCompatible(reader),
      nics,
    }),
    container: detectContainer(reader),
  };
}

function readArch(reader: SysrootReader, fromCpuinfo: string | null): string {
  const uname = reader.readText('/proc/sys/kernel/arch');
  const fromUname = uname.ok ? archFromMachine(uname.value) : null;
  return fromUname ?? fromCpuinfo ?? process.arch;
}
