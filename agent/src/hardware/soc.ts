// `soc_serial` (ARM boards): the `Serial` line of /proc/cpuinfo (Raspberry Pi kernels), else the
// device tree's `serial-number` (set by the firmware or U-Boot; NUL-terminated). Both give the
// same canonical value, so a Pi keeps its component across a 32-bit and a 64-bit kernel.
import { parseCpuinfo } from '../domain/fingerprint-cpuinfo.ts';
import { canonicalSocSerial } from '../domain/fingerprint-values.ts';
import { ProblemLog, type ComponentRead } from './component-read.ts';
import type { SysrootReader } from './sysroot-reader.ts';

/** /proc/device-tree is a link to /sys/firmware/devicetree/base on current kernels. */
export const DEVICE_TREE_ROOTS = ['/proc/device-tree', '/sys/firmware/devicetree/base'] as const;

export function readSocSerial(reader: SysrootReader, cpuinfo: string | null): ComponentRead {
  const log = new ProblemLog();
  const fromCpuinfo = cpuinfo === null ? null : parseCpuinfo(cpuinfo).serial;
  if (fromCpuinfo !== null) {
    const value = canonicalSocSerial(fromCpuinfo);
    if (value !== null) return log.result(value);
  }
  for (const root of DEVICE_TREE_ROOTS) {
    const text = log.readText(reader, `${root}/serial-number`);
    const value = text === null ? null : canonicalSocSerial(text);
    if (value !== null) return log.result(value);
  }
  return log.result(null);
}

/** The device tree's `compatible` list (NUL-separated), for platform facts; null without a DT. */
export function readDeviceTreeCompatible(reader: SysrootReader): string | null {
  for (const root of DEVICE_TREE_ROOTS) {
    const r = reader.readText(`${root}/compatible`);
    if (r.ok) return r.value;
  }
  return null;
}
