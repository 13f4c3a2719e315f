// Canonical forms and the placeholder filter for fingerprint component values (DESIGN §4.3).
// Pure: a raw string read from /proc, /sys or /etc goes in, the canonical value that gets
// hashed comes out — or null when the value is a placeholder and the component counts as absent.
import type { ComponentName } from '../../../common/fingerprint.ts';

/** Firmware and vendor defaults that many boards ship instead of a real serial (lowercased). */
export const PLACEHOLDER_TEXTS: ReadonlySet<string> = new Set([
  'to be filled by o.e.m.',
  'to be filled by oem',
  'o.e.m.',
  'oem',
  'default string',
  'default',
  'system serial number',
  'chassis serial number',
  'base board serial number',
  'board serial number',
  'serial number',
  'not specified',
  'not applicable',
  'not available',
  'not settable',
  'not present',
  'none',
  'n/a',
  'na',
  'unknown',
  'invalid',
  'empty',
  '0123456789',
  '123456789',
  '1234567890',
]);

/** UUIDs that firmware vendors hard-code into every board (AMI's default, in both byte orders). */
export const PLACEHOLDER_UUIDS: ReadonlySet<string> = new Set([
  '03000200-0400-0500-0006-000700080009',
  '00020003-0004-0005-0006-000700080009',
]);

/** Disk serials that virtual disks share across every instance (not per-disk, so no identity). */
const VIRTUAL_DISK_SERIALS: readonly RegExp[] = [
  /^overlayblk$/, // Firecracker-style rootfs
  /^qm\d{5}$/, // QEMU IDE/AHCI default: QM00001, QM00002, …
  /^qemu harddisk$/,
  /^virtual disk$/,
];

/** Trim, drop NUL bytes, collapse whitespace runs to one space, lowercase. */
export function canonicalText(raw: string): string {
  return raw.replace(/\0/g, '').replace(/\s+/g, ' ').trim().toLowerCase();
}

/** Empty, a known default text, or nothing but zeros or nothing but F's once separators are gone. */
export function isPlaceholder(canonical: string): boolean {
  if (canonical === '' || PLACEHOLDER_TEXTS.has(canonical) || PLACEHOLDER_UUIDS.has(canonical)) return true;
  const bare = canonical.replace(/[\s\-:._/]/g, '');
  return bare === '' || /^0+$/.test(bare) || /^f+$/.test(bare);
}

/** A plain serial (board, product): canonical text, or null for a placeholder. */
export function canonicalSerial(raw: string): string | null {
  const value = canonicalText(raw);
  return isPlaceholder(value) ? null : value;
}

/** A UUID as 8-4-4-4-12 lowercase (also from 32 bare hex digits); other shapes stay canonical text. */
export function canonicalUuid(raw: string): string | null {
  const value = canonicalText(raw).replace(/^\{|\}$/g, '');
  if (isPlaceholder(value)) return null;
  const hex = value.replace(/-/g, '');
  if (/^[0-9a-f]{32}$/.test(hex)) {
    const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    return PLACEHOLDER_UUIDS.has(uuid) ? null : uuid;
  }
  return value;
}

/**
 * A SoC serial: from /proc/cpuinfo ("10000000a1b2c3d4") or the device tree (the same digits,
 * NUL-terminated, sometimes without the leading zeros or with "0x"). Hex serials become
 * lowercase hex without "0x" and without leading zeros, so every source agrees.
 */
export function canonicalSocSerial(raw: string): string | null {
  const value = canonicalText(raw);
  if (isPlaceholder(value)) return null;
  const hex = /^(?:0x)?([0-9a-f]+)$/.exec(value);
  if (!hex?.[1]) return value;
  const stripped = hex[1].replace(/^0+/, '');
  return stripped === '' ? null : stripped;
}

/** A disk serial or an eMMC/SD CID: canonical text minus placeholders and shared virtual serials. */
export function canonicalStorageId(raw: string): string | null {
  const value = canonicalSerial(raw);
  if (value === null) return null;
  return VIRTUAL_DISK_SERIALS.some((re) => re.test(value)) ? null : value;
}

/** /etc/machine-id: 32 lowercase hex; "uninitialized" (first boot) and anything else → null. */
export function canonicalMachineId(raw: string): string | null {
  const value = canonicalText(raw);
  if (!/^[0-9a-f]{32}$/.test(value) || isPlaceholder(value)) return null;
  return value;
}

/** A MAC as aa:bb:cc:dd:ee:ff (from ':' or '-' separated, or 12 bare hex digits); null if not one. */
export function canonicalMac(raw: string): string | null {
  const value = canonicalText(raw);
  const bare = /^[0-9a-f]{2}([:-]?)[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$/.test(value) ? value.replace(/[:-]/g, '') : null;
  if (bare === null || bare.length !== 12) return null;
  return bare.match(/../g)!.join(':');
}

/**
 * True for a MAC that names one physical interface: non-zero, unicast (bit 0 of the first octet
 * clear) and universally administered (bit 1 clear; set = random or software-assigned).
 */
export function isUniversalUnicastMac(canonical: string): boolean {
  const first = Number.parseInt(canonical.slice(0, 2), 16);
  if (Number.isNaN(first) || (first & 0x01) !== 0 || (first & 0x02) !== 0) return false;
  return !/^[0:]+$/.test(canonical);
}

/** The canonical value of one component from its raw text, or null when it must be dropped. */
export function canonicalComponentValue(name: ComponentName, raw: string): string | null {
  switch (name) {
    case 'soc_serial':
      return canonicalSocSerial(raw);
    case 'dmi_uuid':
      return canonicalUuid(raw);
    case 'board_serial':
    case 'product_serial':
      return canonicalSerial(raw);
    case 'storage_id':
      return canonicalStorageId(raw);
    case 'machine_id':
      return canonicalMachineId(raw);
    case 'mac': {
      // A list of MACs, "aa:…,bb:…": each canonical, sorted, de-duplicated.
      const macs = raw.split(',').map(canonicalMac);
      if (macs.length === 0 || macs.some((m) => m === null)) return null;
      return [...new Set(macs as string[])].sort().join(',');
    }
  }
}
