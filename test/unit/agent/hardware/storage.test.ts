import { describe, expect, it } from 'vitest';
import { readStorageId, rootDisk, unitSerialFromVpd } from '../../../../agent/src/hardware/storage.ts';
import { createSysrootReader } from '../../../../agent/src/hardware/sysroot-reader.ts';
import { memoryFileAccess, type MemoryEntry } from '../../../helpers/sysroot.ts';

const NVME = '/sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0';
const SATA = '/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0';
const USB = '/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0';

const vpd = (serial: string): Buffer => Buffer.concat([Buffer.from([0, 0x80, 0, serial.length]), Buffer.from(serial, 'latin1')]);

function machine(extra: Record<string, MemoryEntry>, mountinfo: string) {
  return createSysrootReader('/', memoryFileAccess({
    '/proc/self/mountinfo': mountinfo,
    // NVMe disk with two partitions
    [`${NVME}/serial`]: 'S4EWNF0M812345A     \n',
    [`${NVME}/nvme0n1/device`]: { link: '../../nvme0' },
    [`${NVME}/nvme0n1/nvme0n1p2/partition`]: '2\n',
    '/sys/block/nvme0n1': { link: `../devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1` },
    '/sys/dev/block/259:2': { link: '../../devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1/nvme0n1p2' },
    '/sys/class/block/nvme0n1p2': { link: '../../devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1/nvme0n1p2' },
    // SATA disk
    [`${SATA}/vpd_pg80`]: vpd('WD-WCC4N1234567      '),
    [`${SATA}/block/sda/device`]: { link: '../../../0:0:0:0' },
    [`${SATA}/block/sda/sda1/partition`]: '1\n',
    '/sys/block/sda': { link: '../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda' },
    '/sys/dev/block/8:1': { link: '../../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1' },
    // a USB stick (SCSI via usb-storage)
    [`${USB}/vpd_pg80`]: vpd('4C530001231122334455'),
    [`${USB}/block/sdb/device`]: { link: '../../../6:0:0:0' },
    '/sys/block/sdb': { link: '../devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb' },
    ...extra,
  }));
}

const ROOT_ON = (devno: string, source = '/dev/x') => `26 1 ${devno} / / rw,relatime shared:1 - ext4 ${source} rw\n27 26 0:5 / /proc rw - proc proc rw`;

describe('storage_id', () => {
  it('is the disk holding /: the partition in mountinfo → its disk', () => {
    expect(rootDisk(machine({}, ROOT_ON('8:1')))).toBe(`${SATA}/block/sda`);
    expect(readStorageId(machine({}, ROOT_ON('8:1')))).toEqual({ value: 'wd-wcc4n1234567', problems: [] });
    expect(readStorageId(machine({}, ROOT_ON('259:2'))).value).toBe('s4ewnf0m812345a');
  });

  it('finds the partition by the mount source when the device number is anonymous (btrfs)', () => {
    expect(readStorageId(machine({}, ROOT_ON('0:33', '/dev/nvme0n1p2'))).value).toBe('s4ewnf0m812345a');
  });

  it('follows device-mapper slaves (LVM, LUKS) to the disk', () => {
    const r = machine({
      '/sys/devices/virtual/block/dm-0/slaves/sda1': { link: '../../../../pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1' },
      '/sys/dev/block/254:0': { link: '../../devices/virtual/block/dm-0' },
    }, ROOT_ON('254:0', '/dev/mapper/vg-root'));
    expect(readStorageId(r).value).toBe('wd-wcc4n1234567');
  });

  it('falls back to the first local disk when / is no block device (overlay), never a USB one', () => {
    const r = machine({}, '612 540 0:52 / / rw - overlay overlay rw,lowerdir=/a');
    // nvme comes before sd*; sdb (USB) never counts
    expect(readStorageId(r).value).toBe('s4ewnf0m812345a');
    const onlyUsb = createSysrootReader('/', memoryFileAccess({
      '/proc/self/mountinfo': '612 540 0:52 / / rw - overlay overlay rw',
      [`${USB}/vpd_pg80`]: vpd('4C530001231122334455'),
      '/sys/block/sdb': { link: '../devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb' },
    }));
    expect(readStorageId(onlyUsb).value).toBeNull();
  });

  it('a root disk with a placeholder serial gives no component (no fallback to another disk)', () => {
    const r = machine({ [`${SATA}/vpd_pg80`]: vpd('QM00001') }, ROOT_ON('8:1'));
    expect(readStorageId(r)).toEqual({ value: null, problems: [] });
  });

  it('a loop or zram root is no disk', () => {
    const r = machine({ '/sys/dev/block/7:0': { link: '../../devices/virtual/block/loop0' }, '/sys/devices/virtual/block/loop0/dev': '7:0' }, ROOT_ON('7:0'));
    expect(rootDisk(r)).toBeNull();
  });

  it('an unreadable serial is reported as a problem, never with a value', () => {
    const r = machine({ [`${SATA}/vpd_pg80`]: { error: 'EACCES' }, [`${SATA}/serial`]: { error: 'EIO' } }, ROOT_ON('8:1'));
    const read = readStorageId(r);
    expect(read.value).toBeNull();
    expect(read.problems).toEqual([
      { path: `${SATA}/block/sda/device/vpd_pg80`, failure: 'denied', code: 'EACCES', rootOnly: false },
      { path: `${SATA}/block/sda/device/serial`, failure: 'error', code: 'EIO', rootOnly: false },
    ]);
  });
});

describe('unitSerialFromVpd', () => {
  it('takes the serial after the 4-byte page header', () => {
    expect(unitSerialFromVpd(vpd('50026B7782A1B2C3    '))).toBe('50026B7782A1B2C3    ');
    expect(unitSerialFromVpd(Buffer.concat([vpd('ABC'), Buffer.from('trailing')]))).toBe('ABC');
  });

  it('takes a text-only page as it is', () => {
    expect(unitSerialFromVpd(Buffer.from('S123\n'))).toBe('S123\n');
  });
});
