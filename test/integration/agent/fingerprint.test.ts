// The fingerprint reader on fixture sysroots (real files, real symlinks): components, platform
// facts, and what the matching rule makes of real-world changes to a device.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprintKey, hashComponent, matchFingerprint } from '../../../common/fingerprint.ts';
import { readDeviceFingerprint, readDeviceFingerprintWith, type DeviceFingerprint } from '../../../agent/src/hardware/read-fingerprint.ts';
import { makeTempDir } from '../../helpers/tmp.ts';
import { copySysroot, denyingFileAccess, fixtureSysroot, linkIn, writeIn, type FixtureName } from '../../helpers/sysroot.ts';

const ISSUER = 'vendor-test';
const key = fingerprintKey(ISSUER);
const h = (name: string, value: string): string => hashComponent(key, name, value);
const read = (sysroot: string): Promise<DeviceFingerprint> => readDeviceFingerprint({ sysroot, issuer: ISSUER });
const readFixture = (name: FixtureName): Promise<DeviceFingerprint> => read(fixtureSysroot(name));

const EXPECTED: Record<FixtureName, { components: string[]; arch: string; virtualization: string | null; container: string | null }> = {
  'rpi4-32bit': { components: ['mac', 'machine_id', 'soc_serial', 'storage_id'], arch: 'arm', virtualization: null, container: null },
  'rpi4-64bit': { components: ['mac', 'machine_id', 'soc_serial', 'storage_id'], arch: 'arm64', virtualization: null, container: null },
  'arm64-generic': { components: ['machine_id', 'soc_serial', 'storage_id'], arch: 'arm64', virtualization: null, container: null },
  'x64-pc': { components: ['board_serial', 'dmi_uuid', 'mac', 'machine_id', 'product_serial', 'storage_id'], arch: 'x64', virtualization: null, container: null },
  'x64-placeholder-dmi': { components: ['mac', 'machine_id', 'storage_id'], arch: 'x64', virtualization: null, container: null },
  'vm-qemu': { components: ['dmi_uuid', 'machine_id'], arch: 'x64', virtualization: 'qemu', container: null },
  container: { components: ['machine_id'], arch: 'x64', virtualization: 'kvm', container: 'docker' },
};

describe('fixtures: components and platform facts', () => {
  for (const [name, expected] of Object.entries(EXPECTED) as [FixtureName, (typeof EXPECTED)[FixtureName]][]) {
    it(name, async () => {
      const fp = await readFixture(name);
      expect(Object.keys(fp.components).sort()).toEqual(expected.components);
      expect(fp.platform).toEqual({ arch: expected.arch, virtualization: expected.virtualization, container: expected.container });
      expect(fp.deviceId).toMatch(/^[0-9a-f]{32}$/);
      for (const hash of Object.values(fp.components)) expect(hash).toMatch(/^[0-9a-f]{32}$/);
    });
  }

  it('hashes the canonical values (serial padding, NUL, case and DMI placeholders handled)', async () => {
    const pc = await readFixture('x64-pc');
    expect(pc.components).toMatchObject({
      dmi_uuid: h('dmi_uuid', '4c4c4544-0042-3510-8052-b7c04f4e3233'),
      board_serial: h('board_serial', '/7b5rn33/cnfcw0012345ab/'),
      storage_id: h('storage_id', 's4ewnf0m812345a'),
      mac: h('mac', 'd8:9e:f3:12:34:56'), // docker0 and lo are not in it
      machine_id: h('machine_id', '5f0e8d7c6b5a49384736251403f2e1d0'),
    });
    const pi = await readFixture('rpi4-32bit');
    expect(pi.components).toMatchObject({
      soc_serial: h('soc_serial', '100000002a5b3c4d'),
      storage_id: h('storage_id', '035344534333324780a1b2c3d40158a5'),
      mac: h('mac', 'dc:a6:32:5b:3c:4d,dc:a6:32:5b:3c:4e'),
    });
    expect((await readFixture('x64-placeholder-dmi')).components.storage_id).toBe(h('storage_id', '50026b7782a1b2c3'));
    expect((await readFixture('arm64-generic')).components.soc_serial).toBe(h('soc_serial', 'c3d9b8674f4b94f6'));
  });

  it('the same fixture gives the same device id every time; another issuer another one', async () => {
    const a = await readFixture('x64-pc');
    expect((await readFixture('x64-pc')).deviceId).toBe(a.deviceId);
    expect((await readDeviceFingerprint({ sysroot: fixtureSysroot('x64-pc'), issuer: 'vendor-other' })).deviceId).not.toBe(a.deviceId);
  });

  it('warns about what is missing, naming no value', async () => {
    expect((await readFixture('x64-pc')).warnings).toEqual([]);
    expect((await readFixture('x64-placeholder-dmi')).warnings).toEqual([expect.stringMatching(/^no hard anchor/)]);
    expect((await readFixture('vm-qemu')).warnings).toEqual([expect.stringMatching(/virtual machine \(qemu\).*allows virtual devices/)]);
    expect((await readFixture('container')).warnings).toEqual([expect.stringMatching(/^only machine_id is readable.*container \(docker\)/)]);
  });
});

describe('the same Pi, 32-bit and 64-bit kernel', () => {
  it('gives the same soc_serial (cpuinfo Serial vs device-tree serial-number) and NICs', async () => {
    const k32 = await readFixture('rpi4-32bit');
    const k64 = await readFixture('rpi4-64bit');
    expect(k64.components.soc_serial).toBe(k32.components.soc_serial);
    expect(k64.components.mac).toBe(k32.components.mac);
    // a new SD card with a fresh OS: still this Pi
    expect(matchFingerprint(k32.components, k64.components).outcome).toBe('match');
  });
});

describe('changes that keep the license', () => {
  it('NIC swap on the PC', async () => {
    const recorded = await readFixture('x64-pc');
    const root = copySysroot('x64-pc');
    writeIn(root, 'sys/devices/pci0000:00/0000:00:1f.6/net/enp0s31f6/address', 'a0:36:9f:01:02:03\n');
    const now = await read(root);
    expect(now.components.mac).not.toBe(recorded.components.mac);
    expect(matchFingerprint(recorded.components, now.components)).toMatchObject({ outcome: 'match', differing: ['mac'] });
  });

  it('OS reinstall (new machine-id)', async () => {
    const recorded = await readFixture('rpi4-32bit');
    const root = copySysroot('rpi4-32bit');
    writeIn(root, 'etc/machine-id', '0123456789abcdef0123456789abcdef\n');
    const now = await read(root);
    expect(matchFingerprint(recorded.components, now.components)).toMatchObject({ outcome: 'match', differing: ['machine_id'] });
  });

  it('an extra USB NIC does not even change the mac component', async () => {
    for (const name of ['rpi4-32bit', 'x64-pc'] as const) {
      const recorded = await readFixture(name);
      const root = copySysroot(name);
      const usb = 'sys/devices/platform/scb/fd500000.pcie/pci0000:00/0000:00:00.0/0000:01:00.0/usb2/2-1/2-1:1.0';
      writeIn(root, `${usb}/net/eth1/address`, '00:e0:4c:36:01:02\n');
      writeIn(root, `${usb}/net/eth1/addr_assign_type`, '0\n');
      writeIn(root, `${usb}/net/eth1/type`, '1\n');
      linkIn(root, `${usb}/net/eth1/device`, '../../../2-1:1.0');
      linkIn(root, `${usb}/driver`, '../../../../../../../../../../bus/usb/drivers/r8152');
      linkIn(root, `${usb}/subsystem`, '../../../../../../../../../../bus/usb');
      linkIn(root, 'sys/class/net/eth1', `../../${usb.slice('sys/'.length)}/net/eth1`);
      const now = await read(root);
      expect(now.components.mac, name).toBe(recorded.components.mac);
      expect(now.deviceId, name).toBe(recorded.deviceId);
    }
  });
});

describe('changes that do not', () => {
  it('the SD card in another Pi (SoC serial and MACs differ, machine-id and card the same)', async () => {
    const recorded = await readFixture('rpi4-32bit');
    const root = copySysroot('rpi4-32bit');
    writeIn(root, 'proc/cpuinfo', readFileSync(join(root, 'proc/cpuinfo'), 'utf8').replace('100000002a5b3c4d', '10000000c0ffee42'));
    writeIn(root, 'sys/firmware/devicetree/base/serial-number', '10000000c0ffee42\0');
    writeIn(root, 'sys/devices/platform/scb/fd580000.ethernet/net/eth0/address', 'dc:a6:32:ff:ee:42\n');
    const now = await read(root);
    expect(now.components.machine_id).toBe(recorded.components.machine_id);
    expect(now.components.storage_id).toBe(recorded.components.storage_id);
    expect(matchFingerprint(recorded.components, now.components)).toMatchObject({ outcome: 'mismatch', anchorMismatch: 'soc_serial' });
  });

  it('the disk image in another PC (DMI uuid differs, machine-id and disk the same)', async () => {
    const recorded = await readFixture('x64-pc');
    const root = copySysroot('x64-pc');
    writeIn(root, 'sys/devices/virtual/dmi/id/product_uuid', '4C4C4544-0051-4710-8033-C4C04F4E3233\n');
    const now = await read(root);
    expect(matchFingerprint(recorded.components, now.components)).toMatchObject({ outcome: 'mismatch', anchorMismatch: 'dmi_uuid' });
  });

  it('two boards with placeholder DMI, cloned from one image: different device ids, no match', async () => {
    const a = await readFixture('x64-placeholder-dmi');
    const root = copySysroot('x64-placeholder-dmi');
    const page = Buffer.concat([Buffer.from([0, 0x80, 0, 20]), Buffer.from('50026B7782D4E5F6    ', 'latin1')]);
    writeIn(root, 'sys/devices/pci0000:00/0000:00:12.0/ata1/host0/target0:0:0/0:0:0:0/vpd_pg80', page);
    writeIn(root, 'sys/devices/pci0000:00/0000:00:13.0/0000:01:00.0/net/enp1s0/address', '00:e0:4c:68:77:01\n');
    writeIn(root, 'sys/devices/pci0000:00/0000:00:13.1/0000:02:00.0/net/enp2s0/address', '00:e0:4c:68:77:02\n');
    const b = await read(root);
    expect(b.components.machine_id).toBe(a.components.machine_id);
    expect(b.deviceId).not.toBe(a.deviceId);
    expect(matchFingerprint(a.components, b.components).outcome).toBe('mismatch');
  });
});

describe('the sysroot boundary', () => {
  it('a symlink escaping the sysroot is not followed (relative or absolute)', async () => {
    const outside = makeTempDir('outside-');
    writeIn(outside, 'machine-id', 'feedfacefeedfacefeedfacefeedface\n');
    writeIn(outside, 'product_uuid', '11111111-2222-3333-4444-555555555555\n');
    const root = copySysroot('x64-pc');
    linkIn(root, 'etc/machine-id', `${'../'.repeat(30)}${outside.slice(1)}/machine-id`);
    linkIn(root, 'sys/devices/virtual/dmi/id/product_uuid', join(outside, 'product_uuid'));
    const fp = await read(root);
    expect(fp.components.machine_id).toBeUndefined();
    expect(fp.components.dmi_uuid).toBeUndefined();
    // the same link targets, taken inside the sysroot, are what gets read
    writeIn(root, join(outside, 'machine-id'), 'abcdefabcdefabcdefabcdefabcdef01\n');
    writeIn(root, join(outside, 'product_uuid'), '66666666-7777-8888-9999-aaaaaaaaaaaa\n');
    const inside = await read(root);
    expect(inside.components.machine_id).toBe(h('machine_id', 'abcdefabcdefabcdefabcdefabcdef01'));
    expect(inside.components.dmi_uuid).toBe(h('dmi_uuid', '66666666-7777-8888-9999-aaaaaaaaaaaa'));
  });

  it('root-only DMI files this process cannot read: warnings, components absent', async () => {
    const root = fixtureSysroot('x64-pc');
    const dmi = join(root, 'sys/devices/virtual/dmi/id');
    const fs = denyingFileAccess(['product_uuid', 'board_serial', 'product_serial'].map((f) => join(dmi, f)));
    const fp = await readDeviceFingerprintWith({ sysroot: root, issuer: ISSUER }, fs);
    expect(Object.keys(fp.components).sort()).toEqual(['mac', 'machine_id', 'storage_id']);
    expect(fp.warnings).toContain(
      'cannot read /sys/class/dmi/id/product_uuid (root-only): the service reads it with CAP_DAC_READ_SEARCH; run as root to see what the service sees',
    );
    expect(fp.warnings.filter((w) => w.includes('(root-only)'))).toHaveLength(3);
    expect(fp.warnings.join('\n')).not.toMatch(/7b5rn33|4c4c4544/i);
    // what the service (which can read them) records still matches: unverifiable at worst, never a mismatch
    const recorded = await readFixture('x64-pc');
    expect(matchFingerprint(recorded.components, fp.components).outcome).toBe('unverifiable');
  });
});
