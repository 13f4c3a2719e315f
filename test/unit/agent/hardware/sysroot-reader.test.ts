import { describe, expect, it } from 'vitest';
import { baseName, createSysrootReader, MAX_READ_BYTES, parentPath } from '../../../../agent/src/hardware/sysroot-reader.ts';
import { memoryFileAccess } from '../../../helpers/sysroot.ts';

const ROOT = '/fx';

describe('createSysrootReader', () => {
  it('reads a plain file under the sysroot', () => {
    const fs = memoryFileAccess({ '/fx/etc/machine-id': 'abc\n' });
    const r = createSysrootReader(ROOT, fs);
    expect(r.readText('/etc/machine-id')).toEqual({ ok: true, value: 'abc\n' });
    expect(fs.reads).toEqual(['/fx/etc/machine-id']);
  });

  it('follows relative links within the sysroot', () => {
    const fs = memoryFileAccess({
      '/fx/sys/class/net/eth0': { link: '../../devices/pci0000:00/0000:00:1f.6/net/eth0' },
      '/fx/sys/devices/pci0000:00/0000:00:1f.6/net/eth0/address': 'd8:9e:f3:12:34:56\n',
      '/fx/sys/devices/pci0000:00/0000:00:1f.6/net/eth0/device': { link: '../../../0000:00:1f.6' },
      '/fx/sys/devices/pci0000:00/0000:00:1f.6/driver': { link: '../../../bus/pci/drivers/e1000e' },
    });
    const r = createSysrootReader(ROOT, fs);
    expect(r.readText('/sys/class/net/eth0/address')).toEqual({ ok: true, value: 'd8:9e:f3:12:34:56\n' });
    expect(r.resolve('/sys/class/net/eth0')).toBe('/sys/devices/pci0000:00/0000:00:1f.6/net/eth0');
    expect(r.resolve('/sys/class/net/eth0/device')).toBe('/sys/devices/pci0000:00/0000:00:1f.6');
    expect(r.readLink('/sys/class/net/eth0/device/driver')).toBe('../../../bus/pci/drivers/e1000e');
    // the driver target does not exist in the fixture: the link text is still there, resolving fails
    expect(r.resolve('/sys/class/net/eth0/device/driver')).toBeNull();
    expect(r.readLink('/sys/class/net/eth0/address')).toBeNull();
  });

  it('re-roots absolute link targets under the sysroot', () => {
    const fs = memoryFileAccess({
      '/fx/proc/device-tree': { link: '/sys/firmware/devicetree/base' },
      '/fx/sys/firmware/devicetree/base/serial-number': '10000000abcd\0',
      '/sys/firmware/devicetree/base/serial-number': 'the host, never read',
    });
    const r = createSysrootReader(ROOT, fs);
    expect(r.readText('/proc/device-tree/serial-number')).toEqual({ ok: true, value: '10000000abcd\0' });
    expect(fs.reads).toEqual(['/fx/sys/firmware/devicetree/base/serial-number']);
  });

  it('never climbs out of the sysroot through ".."', () => {
    const fs = memoryFileAccess({
      '/fx/etc/machine-id': { link: '../../../../../secret/machine-id' },
      '/fx/secret/machine-id': 'inside\n',
      '/secret/machine-id': 'outside\n',
    });
    const r = createSysrootReader(ROOT, fs);
    expect(r.readText('/etc/machine-id')).toEqual({ ok: true, value: 'inside\n' });
    expect(r.readText('/../../secret/machine-id')).toEqual({ ok: true, value: 'inside\n' });
    expect(fs.reads.every((p) => p.startsWith('/fx/'))).toBe(true);
  });

  it('a link that leads nowhere inside the sysroot is absent, even when the host has the file', () => {
    const fs = memoryFileAccess({
      '/fx/etc/machine-id': { link: '/etc/real-machine-id' },
      '/etc/real-machine-id': 'host\n',
    });
    const r = createSysrootReader(ROOT, fs);
    expect(r.readText('/etc/machine-id')).toMatchObject({ ok: false, failure: 'absent' });
    expect(fs.reads).toEqual([]);
  });

  it('link loops end as an error, not a hang', () => {
    const fs = memoryFileAccess({ '/fx/a': { link: 'b' }, '/fx/b': { link: 'a' }, '/fx/self': { link: '/self' } });
    const r = createSysrootReader(ROOT, fs);
    expect(r.readText('/a')).toEqual({ ok: false, failure: 'error', code: 'ELOOP' });
    expect(r.readText('/self/x')).toEqual({ ok: false, failure: 'error', code: 'ELOOP' });
  });

  it('classifies failures: absent, denied, other errors', () => {
    const fs = memoryFileAccess({
      '/fx/sys/class/dmi/id/product_uuid': { error: 'EACCES' },
      '/fx/sys/block/sda/device/vpd_pg80': { error: 'EIO' },
      '/fx/etc/hostname': 'kiosk\n',
    });
    const r = createSysrootReader(ROOT, fs);
    expect(r.readText('/sys/class/dmi/id/product_uuid')).toEqual({ ok: false, failure: 'denied', code: 'EACCES' });
    expect(r.readText('/sys/block/sda/device/vpd_pg80')).toEqual({ ok: false, failure: 'error', code: 'EIO' });
    expect(r.readText('/etc/machine-id')).toEqual({ ok: false, failure: 'absent', code: 'ENOENT' });
    expect(r.readText('/etc/hostname/x')).toEqual({ ok: false, failure: 'absent', code: 'ENOTDIR' });
  });

  it('reads only regular files (no FIFO or device behind a link)', () => {
    const fs = memoryFileAccess({ '/fx/etc/machine-id': { link: '/dev/fifo' }, '/fx/dev/fifo': { fifo: true }, '/fx/etc/dir/x': 'x' });
    const r = createSysrootReader(ROOT, fs);
    expect(r.readText('/etc/machine-id')).toMatchObject({ ok: false, failure: 'absent', code: 'ENOTREG' });
    expect(r.readText('/etc/dir')).toMatchObject({ ok: false, code: 'EISDIR' });
    expect(fs.reads).toEqual([]);
  });

  it('caps the bytes read', () => {
    const fs = memoryFileAccess({ '/fx/proc/cpuinfo': 'x'.repeat(MAX_READ_BYTES + 10) });
    const r = createSysrootReader(ROOT, fs).readBytes('/proc/cpuinfo');
    expect(r.ok && r.value.length).toBe(MAX_READ_BYTES);
  });

  it('lists directories sorted, through links; nothing for what is not a directory', () => {
    const fs = memoryFileAccess({
      '/fx/sys/class/net/wlan0': { link: '../../devices/virtual/net/wlan0' },
      '/fx/sys/class/net/eth0': { link: '../../devices/virtual/net/eth0' },
      '/fx/sys/devices/virtual/net/eth0/address': 'x',
      '/fx/sys/devices/virtual/net/wlan0/address': 'y',
      '/fx/sys/block': { link: 'class/net' },
    });
    const r = createSysrootReader(ROOT, fs);
    expect(r.list('/sys/class/net')).toEqual(['eth0', 'wlan0']);
    expect(r.list('/sys/block')).toEqual(['eth0', 'wlan0']);
    expect(r.list('/sys/class/net/eth0/address')).toEqual([]);
    expect(r.list('/nope')).toEqual([]);
    expect(r.exists('/sys/class/net/eth0/address')).toBe(true);
    expect(r.exists('/sys/class/net/eth1')).toBe(false);
  });

  it('works with "/" as the sysroot', () => {
    const fs = memoryFileAccess({ '/proc/self': { link: '4242' }, '/proc/4242/mountinfo': 'm' });
    expect(createSysrootReader('/', fs).readText('/proc/self/mountinfo')).toEqual({ ok: true, value: 'm' });
  });

  it('path helpers', () => {
    expect(baseName('../../../../bus/pci/drivers/e1000e')).toBe('e1000e');
    expect(baseName('/')).toBe('');
    expect(parentPath('/sys/devices/x/block/sda/sda1')).toBe('/sys/devices/x/block/sda');
  });
});
