// `machine_id`: /etc/machine-id, else /var/lib/dbus/machine-id (older or minimal images).
// "uninitialized" (systemd's first boot) and anything that is not 32 hex digits is dropped.
import { canonicalMachineId } from '../domain/fingerprint-values.ts';
import { ProblemLog, type ComponentRead } from './component-read.ts';
import type { SysrootReader } from './sysroot-reader.ts';

export const MACHINE_ID_PATHS = ['/etc/machine-id', '/var/lib/dbus/machine-id'] as const;

export function readMachineId(reader: SysrootReader): ComponentRead {
  const log = new ProblemLog();
  for (const path of MACHINE_ID_PATHS) {
    const text = log.readText(reader, path);
    const value = text === null ? null : canonicalMachineId(text);
    if (value !== null) return log.result(value);
  }
  return log.result(null);
}
