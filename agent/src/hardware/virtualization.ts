// Is this a virtual machine, and which hypervisor? From files only, strongest evidence first:
// DMI vendor strings, /sys/hypervisor/type, the ARM "virt" device tree, the x86 `hypervisor`
// CPU flag (with the clock source naming the hypervisor when it can), paravirtual NIC drivers.
import type { NicFacts } from '../domain/fingerprint-nic.ts';
import {
  normalizePlatformName,
  virtualizationFromClocksource,
  virtualizationFromDeviceTree,
  virtualizationFromDmi,
  virtualizationFromNicDrivers,
} from '../domain/fingerprint-platform.ts';
import { readDmiVendorStrings } from './dmi.ts';
import type { SysrootReader } from './sysroot-reader.ts';

export interface VirtualizationEvidence {
  readonly hypervisorFlag: boolean;
  readonly deviceTreeCompatible: string | null;
  readonly nics: readonly NicFacts[];
}

export const CLOCKSOURCE_PATH = '/sys/devices/system/clocksource/clocksource0/current_clocksource';

export function detectVirtualization(reader: SysrootReader, evidence: VirtualizationEvidence): string | null {
  const fromDmi = virtualizationFromDmi(readDmiVendorStrings(reader));
  if (fromDmi !== null) return fromDmi;
  const hypervisorType = reader.readText('/sys/hypervisor/type');
  if (hypervisorType.ok) {
    const name = normalizePlatformName(hypervisorType.value);
    if (name !== null) return name;
  }
  if (evidence.deviceTreeCompatible !== null) {
    const fromDt = virtualizationFromDeviceTree(evidence.deviceTreeCompatible);
    if (fromDt !== null) return fromDt;
  }
  const fromNics = virtualizationFromNicDrivers(evidence.nics.map((n) => (n.hasDevice ? n.driver : null)));
  if (evidence.hypervisorFlag) {
    const clocksource = reader.readText(CLOCKSOURCE_PATH);
    const fromClock = clocksource.ok ? virtualizationFromClocksource(clocksource.value) : null;
    return fromClock ?? (fromNics !== null && fromNics !== 'unknown' ? fromNics : 'unknown');
  }
  return fromNics;
}
