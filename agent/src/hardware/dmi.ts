// DMI/SMBIOS identity (x64 and some arm64 servers) from /sys/class/dmi/id — never dmidecode.
// product_uuid, board_serial, product_serial (and chassis_serial) are root-only (0400) on real
// kernels; the vendor and product strings are world-readable and serve virtualization detection.
import { canonicalSerial, canonicalText, canonicalUuid } from '../domain/fingerprint-values.ts';
import type { DmiVendorStrings } from '../domain/fingerprint-platform.ts';
import { ProblemLog, type ComponentRead } from './component-read.ts';
import type { SysrootReader } from './sysroot-reader.ts';

export const DMI_DIR = '/sys/class/dmi/id';

export interface DmiComponents {
  readonly dmi_uuid: ComponentRead;
  readonly board_serial: ComponentRead;
  readonly product_serial: ComponentRead;
}

export function readDmiComponents(reader: SysrootReader): DmiComponents {
  return {
    dmi_uuid: readRootOnly(reader, 'product_uuid', canonicalUuid),
    board_serial: readRootOnly(reader, 'board_serial', canonicalSerial),
    product_serial: readRootOnly(reader, 'product_serial', canonicalSerial),
  };
}

function readRootOnly(reader: SysrootReader, file: string, canonical: (raw: string) => string | null): ComponentRead {
  const log = new ProblemLog();
  const text = log.readText(reader, `${DMI_DIR}/${file}`, true);
  return log.result(text === null ? null : canonical(text));
}

/** The world-readable vendor strings, canonical lowercase; null where absent or empty. */
export function readDmiVendorStrings(reader: SysrootReader): DmiVendorStrings {
  const read = (file: string): string | null => {
    const r = reader.readText(`${DMI_DIR}/${file}`);
    const value = r.ok ? canonicalText(r.value) : '';
    return value === '' ? null : value;
  };
  return {
    sysVendor: read('sys_vendor'),
    productName: read('product_name'),
    boardVendor: read('board_vendor'),
    biosVendor: read('bios_vendor'),
  };
}
