import { describe, expect, it } from 'vitest';
import { activationRequestSchema } from '../../../../common/license-token.ts';
import { cpuinfoFields, parseCpuinfo } from '../../../../agent/src/domain/fingerprint-cpuinfo.ts';
import { parseRootMount } from '../../../../agent/src/domain/fingerprint-mountinfo.ts';
import {
  archFromMachine,
  containerFromCgroup,
  containerFromEnviron,
  normalizePlatformName,
  virtualizationFromClocksource,
  virtualizationFromDeviceTree,
  virtualizationFromDmi,
  virtualizationFromNicDrivers,
  type DmiVendorStrings,
} from '../../../../agent/src/domain/fingerprint-platform.ts';
import { buildActivationRequest } from '../../../../agent/src/domain/fingerprint-request.ts';
import { coverageWarnings, unreadableWarning } from '../../../../agent/src/domain/fingerprint-warnings.ts';

const PI32 = 'processor\t: 0\nmodel name\t: ARMv7 Processor rev 3 (v7l)\nFeatures\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm crc32\nCPU architecture: 7\n\nHardware\t: BCM2711\nRevision\t: c03114\nSerial\t\t: 100000002a5b3c4d\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n';
const ARM64 = 'processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\nCPU architecture: 8\n';
const X86_VM = 'processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu vme lm hypervisor avx2\n';
const X86_32 = 'processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme pae sse2\n';

describe('parseCpuinfo', () => {
  it('a Raspberry Pi 32-bit kernel: Serial, arm', () => {
    expect(parseCpuinfo(PI32)).toEqual({ serial: '100000002a5b3c4d', hypervisorFlag: false, arch: 'arm' });
  });

  it('an arm64 kernel without the Pi patch: no Serial', () => {
    expect(parseCpuinfo(ARM64)).toEqual({ serial: null, hypervisorFlag: false, arch: 'arm64' });
  });

  it('x86: the hypervisor flag; lm means x64', () => {
    expect(parseCpuinfo(X86_VM)).toEqual({ serial: null, hypervisorFlag: true, arch: 'x64' });
    expect(parseCpuinfo(X86_32).arch).toBe('ia32');
  });

  it('unknown text: nothing', () => {
    expect(parseCpuinfo('')).toEqual({ serial: null, hypervisorFlag: false, arch: null });
    expect(parseCpuinfo('processor : 0\nisa : rv64imafdc\n').arch).toBe('riscv64');
  });

  it('keeps the first value of a key', () => {
    expect(cpuinfoFields('a : 1\na : 2\nb:3').get('a')).toBe('1');
  });
});

describe('parseRootMount', () => {
  it('the last mount of "/" with its device number and source', () => {
    const text = [
      '21 1 179:2 / / rw,noatime shared:1 - ext4 /dev/root rw',
      '22 21 0:20 / /sys rw shared:2 - sysfs sysfs rw',
      '99 21 259:2 / / rw - btrfs /dev/nvme0n1p2 rw,subvol=/@',
      '100 99 0:5 / /proc rw - proc proc rw',
    ].join('\n');
    expect(parseRootMount(text)).toEqual({ major: 259, minor: 2, fstype: 'btrfs', source: '/dev/nvme0n1p2' });
  });

  it('optional fields before the separator, escaped sources', () => {
    expect(parseRootMount('27 1 254:0 / / rw,relatime shared:1 master:2 - ext4 /dev/my\\040disk rw')).toEqual({ major: 254, minor: 0, fstype: 'ext4', source: '/dev/my disk' });
  });

  it('null without a root mount', () => {
    expect(parseRootMount('')).toBeNull();
    expect(parseRootMount('22 21 0:20 / /sys rw - sysfs sysfs rw')).toBeNull();
  });
});

describe('platform mappings', () => {
  const dmi = (over: Partial<DmiVendorStrings>): DmiVendorStrings => ({ sysVendor: null, productName: null, boardVendor: null, biosVendor: null, ...over });

  it('uname -m names', () => {
    expect(archFromMachine('x86_64\n')).toBe('x64');
    expect(archFromMachine('aarch64')).toBe('arm64');
    expect(archFromMachine('armv7l')).toBe('arm');
    expect(archFromMachine('i686')).toBe('ia32');
    expect(archFromMachine('mips')).toBeNull();
  });

  it('hypervisors from DMI vendor strings', () => {
    expect(virtualizationFromDmi(dmi({ sysVendor: 'qemu', productName: 'standard pc (q35 + ich9, 2009)' }))).toBe('qemu');
    expect(virtualizationFromDmi(dmi({ sysVendor: 'red hat', productName: 'kvm' }))).toBe('kvm');
    expect(virtualizationFromDmi(dmi({ sysVendor: 'vmware, inc.', productName: 'vmware virtual platform' }))).toBe('vmware');
    expect(virtualizationFromDmi(dmi({ sysVendor: 'innotek gmbh', productName: 'virtualbox' }))).toBe('virtualbox');
    expect(virtualizationFromDmi(dmi({ sysVendor: 'microsoft corporation', productName: 'virtual machine' }))).toBe('hyperv');
    expect(virtualizationFromDmi(dmi({ sysVendor: 'xen', productName: 'hvm domu' }))).toBe('xen');
    expect(virtualizationFromDmi(dmi({ sysVendor: 'amazon ec2', productName: 't3.small' }))).toBe('amazon');
    expect(virtualizationFromDmi(dmi({ sysVendor: 'google', productName: 'google compute engine' }))).toBe('google');
  });

  it('real hardware is not a VM (a Surface is Microsoft but no virtual machine)', () => {
    expect(virtualizationFromDmi(dmi({ sysVendor: 'dell inc.', productName: 'optiplex 7080', biosVendor: 'dell inc.' }))).toBeNull();
    expect(virtualizationFromDmi(dmi({ sysVendor: 'microsoft corporation', productName: 'surface pro 7' }))).toBeNull();
    expect(virtualizationFromDmi(dmi({ sysVendor: 'google', productName: 'eve' }))).toBeNull();
    expect(virtualizationFromDmi(dmi({ sysVendor: 'default string', biosVendor: 'american megatrends inc.' }))).toBeNull();
  });

  it('clock source, device tree and NIC driver hints', () => {
    expect(virtualizationFromClocksource('kvm-clock\n')).toBe('kvm');
    expect(virtualizationFromClocksource('hyperv_clocksource_tsc_page')).toBe('hyperv');
    expect(virtualizationFromClocksource('tsc')).toBeNull();
    expect(virtualizationFromDeviceTree('linux,dummy-virt\0')).toBe('qemu');
    expect(virtualizationFromDeviceTree('raspberrypi,4-model-b\0brcm,bcm2711\0')).toBeNull();
    expect(virtualizationFromNicDrivers(['e1000e', 'vmxnet3'])).toBe('vmware');
    expect(virtualizationFromNicDrivers(['virtio_net'])).toBe('unknown');
    expect(virtualizationFromNicDrivers(['e1000e', null])).toBeNull();
  });

  it('container markers', () => {
    expect(containerFromEnviron('PATH=/bin\0container=lxc\0HOME=/')).toBe('lxc');
    expect(containerFromEnviron('PATH=/bin\0HOME=/\0')).toBeNull();
    expect(containerFromCgroup('12:pids:/docker/3f4e5d6c7b8a\n0::/docker/3f4e5d6c7b8a')).toBe('docker');
    expect(containerFromCgroup('0::/kubepods/besteffort/pod1234')).toBe('kubernetes');
    expect(containerFromCgroup('0::/lxc.payload.web1/')).toBe('lxc');
    expect(containerFromCgroup('0::/init.scope')).toBeNull();
    expect(normalizePlatformName('systemd-nspawn\n')).toBe('systemd-nspawn');
    expect(normalizePlatformName('  \0')).toBeNull();
  });
});

describe('warnings', () => {
  it('a root-only file names the file and the capability, never a value', () => {
    expect(unreadableWarning('/sys/class/dmi/id/product_uuid', true)).toBe(
      'cannot read /sys/class/dmi/id/product_uuid (root-only): the service reads it with CAP_DAC_READ_SEARCH; run as root to see what the service sees',
    );
  });

  it('coverage: nothing, only machine_id, no anchor, virtual', () => {
    expect(coverageWarnings({ components: [], virtualization: null, container: null })[0]).toMatch(/no fingerprint component/);
    const onlyMachineId = coverageWarnings({ components: ['machine_id'], virtualization: 'kvm', container: 'docker' });
    expect(onlyMachineId).toHaveLength(1);
    expect(onlyMachineId[0]).toMatch(/only machine_id.*container \(docker\).*allows virtual devices/);
    expect(coverageWarnings({ components: ['storage_id', 'mac', 'machine_id'], virtualization: null, container: null })[0]).toMatch(/no hard anchor/);
    expect(coverageWarnings({ components: ['dmi_uuid', 'machine_id'], virtualization: 'qemu', container: null })).toEqual([
      'this is a virtual machine (qemu): activating it needs a license that allows virtual devices',
    ]);
    expect(coverageWarnings({ components: ['soc_serial', 'machine_id'], virtualization: null, container: null })).toEqual([]);
  });
});

describe('buildActivationRequest', () => {
  it('passes the activation request schema and carries the warnings', () => {
    const doc = buildActivationRequest({
      issuer: 'vendor-a',
      deviceId: 'a'.repeat(32),
      components: { machine_id: 'b'.repeat(32) },
      devicePublicKey: { kty: 'EC', crv: 'P-256', x: 'x'.repeat(43), y: 'y'.repeat(43) },
      jkt: 'j'.repeat(43),
      platform: { arch: 'arm64', virtualization: null, container: null },
      agentVersion: '1.2.3',
      createdAtMs: Date.UTC(2026, 0, 2, 3, 4, 5),
      warnings: ['w1'],
    });
    expect(activationRequestSchema.parse(doc)).toMatchObject({ type: 'kiosk-activation-request', v: 1, createdAt: '2026-01-02T03:04:05.000Z' });
    expect(doc.warnings).toEqual(['w1']);
  });
});
