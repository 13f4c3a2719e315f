// `storage_id`: the identity of the disk that holds `/` — the eMMC/SD CID, the NVMe or SATA serial,
// the virtio serial. The root disk is found through /proc/self/mountinfo → /sys/dev/block/MAJ:MIN
// (a partition's parent; device-mapper and md through their slaves). Only when that fails (an
// overlay root in a container, NFS …) the first local disk is used: eMMC/SD, NVMe, SCSI/SATA,
// virtio — never one on USB, so a stick plugged in does not become the device's disk.
import { parseRootMount } from '../domain/fingerprint-mountinfo.ts';
import { canonicalStorageId } from '../domain/fingerprint-values.ts';
import { ProblemLog, type ComponentRead } from './component-read.ts';
import { baseName, parentPath, type SysrootReader } from './sysroot-reader.ts';

const MAX_STACK_DEPTH = 4;

/** Fallback disk name patterns, in order of preference. */
const FALLBACK_DISKS: readonly RegExp[] = [/^mmcblk\d+$/, /^nvme\d+n\d+$/, /^sd[a-z]+$/, /^(?:vd|xvd)[a-z]+$/];

export function readStorageId(reader: SysrootReader): ComponentRead {
  const root = rootDisk(reader);
  if (root !== null) return diskId(reader, root);
  for (const disk of fallbackDisks(reader)) {
    const read = diskId(reader, disk);
    if (read.value !== null) return read;
  }
  return { value: null, problems: [] };
}

/** The virtual sysfs directory of the disk holding `/` (e.g. /sys/devices/…/block/mmcblk0). */
export function rootDisk(reader: SysrootReader): string | null {
  const mountinfo = reader.readText('/proc/self/mountinfo');
  const mount = mountinfo.ok ? parseRootMount(mountinfo.value) : null;
  if (mount === null) return null;
  let dir = reader.resolve(`/sys/dev/block/${mount.major}:${mount.minor}`);
  // btrfs and others report an anonymous device number; the mount source names the partition.
  if (dir === null && mount.source.startsWith('/dev/') && !mount.source.includes('/', 5)) {
    dir = reader.resolve(`/sys/class/block/${mount.source.slice(5)}`);
  }
  return dir === null ? null : diskOf(reader, dir, 0);
}

/** A partition's disk; a device-mapper or md device's first underlying disk. */
function diskOf(reader: SysrootReader, dir: string, depth: number): string | null {
  if (depth > MAX_STACK_DEPTH) return null;
  if (reader.exists(`${dir}/partition`)) return parentPath(dir);
  const slaves = reader.list(`${dir}/slaves`);
  if (slaves.length > 0) {
    const slave = reader.resolve(`${dir}/slaves/${slaves[0]}`);
    return slave === null ? null : diskOf(reader, slave, depth + 1);
  }
  // A loop, zram or ram disk, or a dm/md device without slaves, is no hardware.
  return /^(?:loop|zram|ram|nbd|dm-|md)\d*$/.test(baseName(dir)) ? null : dir;
}

function fallbackDisks(reader: SysrootReader): string[] {
  const names = reader.list('/sys/block');
  const disks: string[] = [];
  for (const pattern of FALLBACK_DISKS) {
    for (const name of names.filter((n) => pattern.test(n))) {
      const dir = reader.resolve(`/sys/block/${name}`);
      if (dir !== null && !isOnUsb(dir)) disks.push(dir);
    }
  }
  return disks;
}

function isOnUsb(devicePath: string): boolean {
  return /\/usb\d+\//.test(devicePath);
}

/** The identity of one disk, by its kind. */
export function diskId(reader: SysrootReader, dir: string): ComponentRead {
  const log = new ProblemLog();
  const name = baseName(dir);
  const first = (...paths: string[]): string | null => {
    for (const path of paths) {
      const text = log.readText(reader, path);
      const value = text === null ? null : canonicalStorageId(text);
      if (value !== null) return value;
    }
    return null;
  };
  if (/^mmcblk\d+$/.test(name)) return log.result(first(`${dir}/device/cid`, `${dir}/device/serial`));
  if (/^nvme\d+n\d+$/.test(name)) {
    const ctrl = /^nvme(\d+)n/.exec(name)?.[1];
    return log.result(first(`${dir}/device/serial`, `/sys/class/nvme/nvme${ctrl}/serial`));
  }
  if (/^(?:vd|xvd)[a-z]+$/.test(name)) return log.result(first(`${dir}/serial`, `${dir}/device/serial`));
  // SCSI, SATA (libata answers VPD page 0x80 with the drive serial), and anything else.
  const vpd = log.take(`${dir}/device/vpd_pg80`, reader.readBytes(`${dir}/device/vpd_pg80`));
  const fromVpd = vpd === null ? null : canonicalStorageId(unitSerialFromVpd(vpd));
  return log.result(fromVpd ?? first(`${dir}/device/serial`, `${dir}/serial`));
}

/**
 * SCSI VPD page 0x80 (Unit Serial Number): byte 1 is the page code 0x80, bytes 2–3 the length,
 * then the serial in ASCII (space-padded). A text-only file (some drivers) is taken as is.
 */
export function unitSerialFromVpd(page: Buffer): string {
  if (page.length >= 4 && page[1] === 0x80) {
    const length = page.readUInt16BE(2);
    return page.subarray(4, 4 + length).toString('latin1');
  }
  return page.toString('latin1');
}
