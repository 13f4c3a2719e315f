// The single-file sources (SoC serial, machine-id, DMI, NICs) and the platform facts, over an
// in-memory file system.
import { describe, expect, it } from 'vitest';
import { detectContainer } from '../../../../agent/src/hardware/container.ts';
import { readDmiComponents } from '../../../../agent/src/hardware/dmi.ts';
import { readMachineId } from '../../../../agent/src/hardware/machine-id.ts';
import { readNicFacts } from '../../../../agent/src/hardware/nic.ts';
import { readPlatformFacts } from '../../../../agent/src/hardware/platform.ts';
import { readSocSerial } from '../../../../agent/src/hardware/soc.ts';
import { createSysrootReader } from '../../../../agent/src/hardware/sysroot-reader.ts';
import { memoryFileAccess, type MemoryEntry } from '../../../helpers/sysroot.ts';

const at = (tree: Record<string, MemoryEntry>) => createSysrootReader('/', memoryFileAccess(tree));

describe('soc_serial', () => {
  const dt = { '/proc/device-tree': { link: '/sys/firmware/devicetree/base' }, '/sys/firmware/devicetree/base/serial-number': '00000000a1b2c3d4\0' };

  it('cpuinfo Serial first, the device tree otherwise — the same value', () => {
    expect(readSocSerial(at(dt), 'Hardware\t: BCM2835\nSerial\t\t: 00000000a1b2c3d4\n').value).toBe('a1b2c3d4');
    expect(readSocSerial(at(dt), 'processor : 0\n').value).toBe('a1b2c3d4');
    expect(readSocSerial(at(dt), null).value).toBe('a1b2c3d4');
  });

  it('a placeholder Serial line falls through to the device tree', () => {
    expect(readSocSerial(at(dt), 'Serial\t\t: 0000000000000000\n').value).toBe('a1b2c3d4');
  });

  it('/sys/firmware/devicetree/base without the /proc link; nothing on x86', () => {
    expect(readSocSerial(at({ '/sys/firmware/devicetree/base/serial-number': 'c3d9b8674f4b94f6\0' }), null).value).toBe('c3d9b8674f4b94f6');
    expect(readSocSerial(at({}), 'vendor_id : GenuineIntel\n')).toEqual({ value: null, problems: [] });
  });
});

describe('machine_id', () => {
  it('/etc/machine-id, else the D-Bus copy; "uninitialized" is skipped', () => {
    const id = '5f0e8d7c6b5a49384736251403f2e1d0';
    expect(readMachineId(at({ '/etc/machine-id': `${id}\n` })).value).toBe(id);
    expect(readMachineId(at({ '/etc/machine-id': 'uninitialized\n', '/var/lib/dbus/machine-id': `${id}\n` })).value).toBe(id);
    expect(readMachineId(at({ '/etc/machine-id': '\n' })).value).toBeNull();
  });
});

describe('DMI', () => {
  const dmi = (files: Record<string, MemoryEntry>) =>
    at({ '/sys/class/dmi/id': { link: '../../devices/virtual/dmi/id' }, ...Object.fromEntries(Object.entries(files).map(([k, v]) => [`/sys/devices/virtual/dmi/id/${k}`, v])) });

  it('root-only files that cannot be read are problems marked root-only; no values', () => {
    const r = readDmiComponents(dmi({ product_uuid: { error: 'EACCES' }, board_serial: { error: 'EACCES' }, product_serial: 'ABC123\n' }));
    expect(r.dmi_uuid).toEqual({ value: null, problems: [{ path: '/sys/class/dmi/id/product_uuid', failure: 'denied', code: 'EACCES', rootOnly: true }] });
    expect(r.board_serial.value).toBeNull();
    expect(r.product_serial).toEqual({ value: 'abc123', problems: [] });
  });

  it('missing files are simply absent (no DMI on this machine)', () => {
    const r = readDmiComponents(at({}));
    expect(r).toEqual({ dmi_uuid: { value: null, problems: [] }, board_serial: { value: null, problems: [] }, product_serial: { value: null, problems: [] } });
  });
});

describe('NIC facts', () => {
  it('reads address, assignment, type, device, driver, USB and the virtual tree', () => {
    const usbDev = '/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0';
    const nics = readNicFacts(at({
      '/sys/class/net/eth1': { link: '../../devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/net/eth1' },
      [`${usbDev}/net/eth1/address`]: '00:e0:4c:68:00:01\n',
      [`${usbDev}/net/eth1/addr_assign_type`]: '0\n',
      [`${usbDev}/net/eth1/type`]: '1\n',
      [`${usbDev}/net/eth1/device`]: { link: '../../../2-1:1.0' },
      [`${usbDev}/driver`]: { link: '../../../../../../bus/usb/drivers/r8152' },
      [`${usbDev}/subsystem`]: { link: '../../../../../../bus/usb' },
      '/sys/class/net/lo': { link: '../../devices/virtual/net/lo' },
      '/sys/devices/virtual/net/lo/address': '00:00:00:00:00:00\n',
    }));
    expect(nics).toEqual([
      { name: 'eth1', address: '00:e0:4c:68:00:01', addrAssignType: '0', type: '1', hasDevice: true, underVirtual: false, driver: 'r8152', onUsb: true },
      { name: 'lo', address: '00:00:00:00:00:00', addrAssignType: null, type: null, hasDevice: false, underVirtual: true, driver: null, onUsb: false },
    ]);
  });
});

describe('platform facts', () => {
  it('arch: /proc/sys/kernel/arch, else cpuinfo, else this process', () => {
    expect(readPlatformFacts(at({ '/proc/sys/kernel/arch': 'aarch64\n' }), 'vendor_id : x\nflags : lm\n', []).arch).toBe('arm64');
    expect(readPlatformFacts(at({}), 'processor : 0\nFeatures : fp asimd\nCPU architecture: 8\n', []).arch).toBe('arm64');
    expect(readPlatformFacts(at({}), null, []).arch).toBe(process.arch);
  });

  it('virtualization: DMI first, then /sys/hypervisor, device tree, CPU flag with clock source, NIC drivers', () => {
    const dmiQemu = { '/sys/class/dmi/id/sys_vendor': 'QEMU\n', '/sys/devices/system/clocksource/clocksource0/current_clocksource': 'kvm-clock\n' };
    expect(readPlatformFacts(at(dmiQemu), 'flags : lm hypervisor\n', []).virtualization).toBe('qemu');
    expect(readPlatformFacts(at({ '/sys/hypervisor/type': 'xen\n' }), null, []).virtualization).toBe('xen');
    expect(readPlatformFacts(at({ '/proc/device-tree/compatible': 'linux,dummy-virt\0' }), null, []).virtualization).toBe('qemu');
    expect(readPlatformFacts(at({ '/sys/devices/system/clocksource/clocksource0/current_clocksource': 'kvm-clock\n' }), 'flags : lm hypervisor\n', []).virtualization).toBe('kvm');
    expect(readPlatformFacts(at({}), 'flags : lm hypervisor\n', []).virtualization).toBe('unknown');
    const vmxnet = { name: 'ens192', address: '00:50:56:01:02:03', addrAssignType: '0', type: '1', hasDevice: true, underVirtual: false, driver: 'vmxnet3', onUsb: false };
    expect(readPlatformFacts(at({}), 'flags : lm hypervisor\n', [vmxnet]).virtualization).toBe('vmware');
    expect(readPlatformFacts(at({}), 'flags : lm\n', []).virtualization).toBeNull();
  });

  it('container markers', () => {
    expect(detectContainer(at({ '/.dockerenv': '' }))).toBe('docker');
    expect(detectContainer(at({ '/run/.containerenv': '', '/.dockerenv': '' }))).toBe('podman');
    expect(detectContainer(at({ '/run/systemd/container': 'systemd-nspawn\n' }))).toBe('systemd-nspawn');
    expect(detectContainer(at({ '/proc/1/environ': 'PATH=/bin\0container=lxc\0' }))).toBe('lxc');
    expect(detectContainer(at({ '/proc/1/environ': { error: 'EACCES' }, '/proc/1/cgroup': '12:pids:/docker/abc\n' }))).toBe('docker');
    expect(detectContainer(at({ '/proc/1/cgroup': '0::/init.scope\n' }))).toBeNull();
  });
});
