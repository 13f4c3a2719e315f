import { describe, expect, it } from 'vitest';
import {
  canonicalComponentValue,
  canonicalMac,
  canonicalMachineId,
  canonicalSerial,
  canonicalSocSerial,
  canonicalStorageId,
  canonicalText,
  canonicalUuid,
  isPlaceholder,
  isUniversalUnicastMac,
  PLACEHOLDER_TEXTS,
} from '../../../../agent/src/domain/fingerprint-values.ts';

describe('canonicalText', () => {
  it('trims, strips NUL, collapses whitespace and lowercases', () => {
    expect(canonicalText('  S4EWNF0M812345A     \n')).toBe('s4ewnf0m812345a');
    expect(canonicalText('100000002A5B3C4D\0')).toBe('100000002a5b3c4d');
    expect(canonicalText('Samsung  SSD\t970\nEVO')).toBe('samsung ssd 970 evo');
    expect(canonicalText('\0\0')).toBe('');
  });
});

describe('placeholders are dropped', () => {
  const firmwareDefaults = [
    '',
    '   ',
    '\0',
    'To Be Filled By O.E.M.',
    'TO BE FILLED BY O.E.M.',
    'Default string',
    'Default String',
    'System Serial Number',
    'Not Specified',
    'None',
    'N/A',
    '0123456789',
    '123456789',
    'O.E.M.',
    'Chassis Serial Number',
    'Not Applicable',
  ];
  for (const raw of firmwareDefaults) {
    it(`serial ${JSON.stringify(raw)}`, () => {
      expect(canonicalSerial(raw)).toBeNull();
      expect(canonicalComponentValue('board_serial', raw)).toBeNull();
      expect(canonicalComponentValue('product_serial', raw)).toBeNull();
      expect(canonicalComponentValue('storage_id', raw)).toBeNull();
    });
  }

  it('every listed placeholder text is recognised as it is written', () => {
    for (const text of PLACEHOLDER_TEXTS) expect(isPlaceholder(text)).toBe(true);
  });

  it('all zeros or all F, with or without separators', () => {
    for (const raw of ['0', '00000000', '0000000000000000', '00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', 'ffffffff', '00:00:00:00:00:00', '0000 0000']) {
      expect(canonicalSerial(raw), raw).toBeNull();
      expect(canonicalUuid(raw), raw).toBeNull();
    }
    expect(canonicalSocSerial('0000000000000000')).toBeNull();
    expect(canonicalSocSerial('0000000000000000\0')).toBeNull();
  });

  it("AMI's default UUID, in both byte orders and any case", () => {
    expect(canonicalUuid('03000200-0400-0500-0006-000700080009')).toBeNull();
    expect(canonicalUuid('03000200-0400-0500-0006-000700080009\n')).toBeNull();
    expect(canonicalUuid('00020003-0004-0005-0006-000700080009')).toBeNull();
    expect(canonicalUuid('030002000400050000060007000800 09'.replace(' ', ''))).toBeNull();
  });

  it('virtual disk serials shared by every instance', () => {
    for (const raw of ['overlayblk', 'QM00001', 'QM00002', 'QM00013', 'QEMU HARDDISK']) expect(canonicalStorageId(raw), raw).toBeNull();
  });

  it("VirtualBox disk serials are per disk, so they stay", () => {
    expect(canonicalStorageId('VB8a4f2c1e-9d3b7a05')).toBe('vb8a4f2c1e-9d3b7a05');
  });

  it('machine-id: "uninitialized", wrong lengths and all zeros', () => {
    for (const raw of ['uninitialized', 'uninitialized\n', '', '3d1219c7', '0'.repeat(32), 'z'.repeat(32)]) {
      expect(canonicalMachineId(raw), raw).toBeNull();
    }
  });
});

describe('canonical forms', () => {
  it('UUIDs: 8-4-4-4-12 lowercase, also from bare hex or braces', () => {
    expect(canonicalUuid('4C4C4544-0042-3510-8052-B7C04F4E3233\n')).toBe('4c4c4544-0042-3510-8052-b7c04f4e3233');
    expect(canonicalUuid('4C4C454400423510 8052B7C04F4E3233'.replace(' ', ''))).toBe('4c4c4544-0042-3510-8052-b7c04f4e3233');
    expect(canonicalUuid('{4c4c4544-0042-3510-8052-b7c04f4e3233}')).toBe('4c4c4544-0042-3510-8052-b7c04f4e3233');
    expect(canonicalUuid('not-a-uuid-but-unique')).toBe('not-a-uuid-but-unique');
  });

  it('SoC serials: cpuinfo and device-tree forms agree', () => {
    const fromCpuinfo = canonicalSocSerial('100000002a5b3c4d');
    expect(canonicalSocSerial('100000002A5B3C4D\0')).toBe(fromCpuinfo);
    expect(canonicalSocSerial('00000000abcd')).toBe('abcd');
    expect(canonicalSocSerial('abcd')).toBe('abcd');
    expect(canonicalSocSerial('0x0000ABCD')).toBe('abcd');
    expect(canonicalSocSerial('00000000a1b2c3d4\0')).toBe(canonicalSocSerial('a1b2c3d4'));
    // not hex: kept as canonical text (e.g. a vendor's alphanumeric board serial)
    expect(canonicalSocSerial(' JTX-0042 \0')).toBe('jtx-0042');
  });

  it('storage ids: serial padding gone, CID lowercase', () => {
    expect(canonicalStorageId('S4EWNF0M812345A     ')).toBe('s4ewnf0m812345a');
    expect(canonicalStorageId('035344534333324780A1B2C3D40158A5\n')).toBe('035344534333324780a1b2c3d40158a5');
  });

  it('machine-id: 32 lowercase hex', () => {
    expect(canonicalMachineId('5F0E8D7C6B5A49384736251403F2E1D0\n')).toBe('5f0e8d7c6b5a49384736251403f2e1d0');
  });

  it('MACs: aa:bb:cc:dd:ee:ff from any common notation', () => {
    expect(canonicalMac('D8:9E:F3:12:34:56\n')).toBe('d8:9e:f3:12:34:56');
    expect(canonicalMac('d8-9e-f3-12-34-56')).toBe('d8:9e:f3:12:34:56');
    expect(canonicalMac('d89ef3123456')).toBe('d8:9e:f3:12:34:56');
    for (const bad of ['', 'd8:9e:f3:12:34', 'd8:9e-f3:12:34:56', '80:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00', 'zz:9e:f3:12:34:56']) {
      expect(canonicalMac(bad), bad).toBeNull();
    }
  });

  it('MACs that name one physical interface: universal, unicast, non-zero', () => {
    expect(isUniversalUnicastMac('d8:9e:f3:12:34:56')).toBe(true);
    expect(isUniversalUnicastMac('00:e0:4c:68:12:34')).toBe(true);
    expect(isUniversalUnicastMac('02:42:ac:11:00:02')).toBe(false); // locally administered (docker)
    expect(isUniversalUnicastMac('52:54:00:6b:3c:1d')).toBe(false); // QEMU's prefix is locally administered
    expect(isUniversalUnicastMac('01:00:5e:00:00:01')).toBe(false); // multicast
    expect(isUniversalUnicastMac('ff:ff:ff:ff:ff:ff')).toBe(false);
    expect(isUniversalUnicastMac('00:00:00:00:00:00')).toBe(false);
  });

  it('the mac component: sorted, de-duplicated, each canonical', () => {
    expect(canonicalComponentValue('mac', 'DC:A6:32:5B:3C:4E,dc:a6:32:5b:3c:4d,dc-a6-32-5b-3c-4d')).toBe('dc:a6:32:5b:3c:4d,dc:a6:32:5b:3c:4e');
    expect(canonicalComponentValue('mac', '')).toBeNull();
    expect(canonicalComponentValue('mac', 'dc:a6:32:5b:3c:4d,junk')).toBeNull();
  });

  it('every component name has a canonical form', () => {
    expect(canonicalComponentValue('soc_serial', '00000000ABCD')).toBe('abcd');
    expect(canonicalComponentValue('dmi_uuid', '4C4C4544-0042-3510-8052-B7C04F4E3233')).toBe('4c4c4544-0042-3510-8052-b7c04f4e3233');
    expect(canonicalComponentValue('machine_id', '5F0E8D7C6B5A49384736251403F2E1D0')).toBe('5f0e8d7c6b5a49384736251403f2e1d0');
  });
});
