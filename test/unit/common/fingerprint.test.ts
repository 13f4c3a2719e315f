import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  COMPONENT_NAMES,
  COMPONENTS,
  canonicalComponents,
  componentSpec,
  computeDeviceId,
  fingerprintKey,
  hashComponent,
  hasStrongComponent,
  matchFingerprint,
  type ComponentHashes,
} from '../../../common/fingerprint.ts';

const key = fingerprintKey('vendor-a');
const h = (name: string, value: string): string => hashComponent(key, name, value);

/** An x64 kiosk as recorded at activation: total weight 3+2+2+2+1+1 = 11. */
const x64: ComponentHashes = {
  dmi_uuid: h('dmi_uuid', '4c4c4544-0042-3510-8052-b7c04f4e3233'),
  board_serial: h('board_serial', '/7b5rn33/cnfcw0012345ab/'),
  product_serial: h('product_serial', '7b5rn33'),
  storage_id: h('storage_id', 's4ewnf0m812345a'),
  mac: h('mac', 'd8:9e:f3:12:34:56'),
  machine_id: h('machine_id', '5f0e8d7c6b5a49384736251403f2e1d0'),
};
/** A Raspberry Pi: total weight 3+2+1+1 = 7. */
const pi: ComponentHashes = {
  soc_serial: h('soc_serial', '100000002a5b3c4d'),
  storage_id: h('storage_id', '035344534333324780a1b2c3d40158a5'),
  mac: h('mac', 'dc:a6:32:5b:3c:4d,dc:a6:32:5b:3c:4e'),
  machine_id: h('machine_id', '7c1e9f3a5b2d4e6f8a0b1c2d3e4f5a6b'),
};
const other = (name: string): string => h(name, `another-${name}`);
const withChanges = (base: ComponentHashes, changed: string[], dropped: string[] = []): ComponentHashes =>
  Object.fromEntries(
    Object.entries(base)
      .filter(([n]) => !dropped.includes(n))
      .map(([n, v]) => [n, changed.includes(n) ? other(n) : v]),
  );

describe('catalogue', () => {
  it('names, weights and anchors are the pinned ones', () => {
    expect(COMPONENT_NAMES).toEqual(['soc_serial', 'dmi_uuid', 'board_serial', 'product_serial', 'storage_id', 'mac', 'machine_id']);
    expect(Object.entries(COMPONENTS).filter(([, s]) => s.anchor).map(([n]) => n)).toEqual(['soc_serial', 'dmi_uuid', 'board_serial']);
    expect(COMPONENTS.machine_id.weight).toBe(1);
  });

  it('an unknown component counts with weight 1 and is no anchor', () => {
    expect(componentSpec('tpm_ek')).toEqual({ weight: 1, anchor: false });
    expect(componentSpec('toString')).toEqual({ weight: 1, anchor: false });
    expect(componentSpec('soc_serial')).toEqual({ weight: 3, anchor: true });
  });
});

describe('hashing', () => {
  it('the fingerprint key depends on the issuer only', () => {
    expect(fingerprintKey('vendor-a').equals(fingerprintKey('vendor-a'))).toBe(true);
    expect(fingerprintKey('vendor-a').equals(fingerprintKey('vendor-b'))).toBe(false);
    expect(fingerprintKey('vendor-a')).toHaveLength(32);
  });

  it('a component hash is HMAC-SHA-256 over "fp:v1:name:value", first 128 bits as hex', () => {
    const expected = createHmac('sha256', key).update('fp:v1:mac:aa:bb:cc:dd:ee:ff').digest('hex').slice(0, 32);
    expect(hashComponent(key, 'mac', 'aa:bb:cc:dd:ee:ff')).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{32}$/);
  });

  it('the same value under another name or another issuer hashes differently', () => {
    expect(h('board_serial', 'x1')).not.toBe(h('product_serial', 'x1'));
    expect(hashComponent(fingerprintKey('vendor-b'), 'board_serial', 'x1')).not.toBe(h('board_serial', 'x1'));
  });

  it('the device id is SHA-256 over the sorted [name, hash] list, independent of insertion order', () => {
    const a = { mac: 'a'.repeat(32), dmi_uuid: 'b'.repeat(32) };
    const b = { dmi_uuid: 'b'.repeat(32), mac: 'a'.repeat(32) };
    expect(canonicalComponents(a)).toBe(JSON.stringify([['dmi_uuid', 'b'.repeat(32)], ['mac', 'a'.repeat(32)]]));
    expect(computeDeviceId(a)).toBe(computeDeviceId(b));
    expect(computeDeviceId(a)).toBe(createHash('sha256').update(canonicalComponents(a)).digest('hex').slice(0, 32));
    expect(computeDeviceId({ ...a, mac: 'c'.repeat(32) })).not.toBe(computeDeviceId(a));
  });

  it('hasStrongComponent: anything but machine_id', () => {
    expect(hasStrongComponent({ machine_id: x64.machine_id! })).toBe(false);
    expect(hasStrongComponent({})).toBe(false);
    expect(hasStrongComponent({ machine_id: x64.machine_id!, mac: x64.mac! })).toBe(true);
  });
});

describe('matching rule: worked examples (x64, total weight 11)', () => {
  it('the same device matches in full', () => {
    const m = matchFingerprint(x64, x64);
    expect(m).toMatchObject({ outcome: 'match', score: 11, total: 11, differing: [], unreadable: [], anchorMismatch: null });
  });

  it('NIC swap or a USB dongle change → match', () => {
    const m = matchFingerprint(x64, withChanges(x64, ['mac']));
    expect(m).toMatchObject({ outcome: 'match', score: 10, differing: ['mac'] });
  });

  it('OS reinstall (new machine-id) → match', () => {
    expect(matchFingerprint(x64, withChanges(x64, ['machine_id'])).outcome).toBe('match');
  });

  it('disk replaced and OS reinstalled → match on the board', () => {
    const m = matchFingerprint(x64, withChanges(x64, ['storage_id', 'machine_id']));
    expect(m).toMatchObject({ outcome: 'match', score: 8 });
  });

  it('disk image copied to another unit (only machine-id and disk travel) → mismatch on a hard anchor', () => {
    const m = matchFingerprint(x64, withChanges(x64, ['dmi_uuid', 'board_serial', 'product_serial', 'mac']));
    expect(m.outcome).toBe('mismatch');
    expect(['dmi_uuid', 'board_serial']).toContain(m.anchorMismatch);
  });

  it('motherboard swap → mismatch even though disk and OS are the same', () => {
    const m = matchFingerprint(x64, withChanges(x64, ['dmi_uuid', 'board_serial', 'product_serial']));
    expect(m.outcome).toBe('mismatch');
    expect(m.anchorMismatch).not.toBeNull();
  });

  it('one readable differing anchor decides, however much else matches', () => {
    const m = matchFingerprint(x64, withChanges(x64, ['dmi_uuid']));
    expect(m).toMatchObject({ outcome: 'mismatch', anchorMismatch: 'dmi_uuid', score: 8 });
  });

  it('anchors unreadable (run without root) → unverifiable, not mismatch', () => {
    const m = matchFingerprint(x64, withChanges(x64, [], ['dmi_uuid', 'board_serial', 'product_serial']));
    expect(m).toMatchObject({ outcome: 'unverifiable', score: 4, unreadable: ['board_serial', 'dmi_uuid', 'product_serial'] });
  });

  it('nothing readable now → unverifiable; nothing recorded → unverifiable', () => {
    expect(matchFingerprint(x64, {}).outcome).toBe('unverifiable');
    expect(matchFingerprint({}, x64).outcome).toBe('unverifiable');
  });

  it('unreadable anchors do not excuse readable evidence of another device → mismatch', () => {
    // storage, mac and machine-id all differ; the anchors are unreadable (an unprivileged
    // process on a disk image in another PC): what can be read says "other device"
    const current = withChanges(x64, ['storage_id', 'mac', 'machine_id'], ['dmi_uuid', 'board_serial', 'product_serial']);
    expect(matchFingerprint(x64, current).outcome).toBe('mismatch');
    // the same device read unprivileged: everything readable agrees → unverifiable, not mismatch
    const unprivileged = withChanges(x64, [], ['dmi_uuid', 'board_serial', 'product_serial']);
    expect(matchFingerprint(x64, unprivileged).outcome).toBe('unverifiable');
    // a NIC swap read unprivileged: readable agreement (storage, machine-id) outweighs the new NIC
    expect(matchFingerprint(x64, withChanges(x64, ['mac'], ['dmi_uuid', 'board_serial', 'product_serial'])).outcome).toBe('unverifiable');
    const worse = withChanges(x64, ['storage_id', 'mac', 'machine_id', 'product_serial'], ['dmi_uuid', 'board_serial']);
    // 5 readable weight, all differing; unreadable 5: 0 + 5 is not above half of 11
    expect(matchFingerprint(x64, worse).outcome).toBe('mismatch');
  });
});

describe('matching rule: Raspberry Pi (total weight 7)', () => {
  it('SD card re-flashed on the same Pi → match', () => {
    expect(matchFingerprint(pi, withChanges(pi, ['storage_id', 'machine_id'])).outcome).toBe('match');
  });

  it('SD card moved to another Pi → mismatch on soc_serial', () => {
    const m = matchFingerprint(pi, withChanges(pi, ['soc_serial', 'mac']));
    expect(m).toMatchObject({ outcome: 'mismatch', anchorMismatch: 'soc_serial' });
  });
});

describe('machine_id alone', () => {
  it('is never enough when more was recorded', () => {
    const onlyMachineId = { machine_id: pi.machine_id! };
    expect(matchFingerprint(pi, onlyMachineId).outcome).toBe('unverifiable');
    // machine-id matches, storage and NIC differ, the SoC serial is unreadable: the readable
    // evidence (3 of 4 weight different) says another board
    expect(matchFingerprint(pi, withChanges(pi, ['storage_id', 'mac'], ['soc_serial'])).outcome).toBe('mismatch');
    // only the SD card differs and the SoC serial is unreadable: could still be this Pi
    expect(matchFingerprint(pi, withChanges(pi, ['storage_id'], ['soc_serial'])).outcome).toBe('unverifiable');
    expect(matchFingerprint({ mac: pi.mac!, machine_id: pi.machine_id! }, onlyMachineId).outcome).toBe('unverifiable');
    expect(matchFingerprint({ mac: pi.mac!, machine_id: pi.machine_id! }, { mac: other('mac'), machine_id: pi.machine_id! }).outcome).toBe('mismatch');
  });

  it('is enough when it is all that was recorded (a VM or container under a permissive license)', () => {
    const recorded = { machine_id: pi.machine_id! };
    expect(matchFingerprint(recorded, { machine_id: pi.machine_id!, mac: pi.mac! }).outcome).toBe('match');
    expect(matchFingerprint(recorded, { machine_id: other('machine_id') }).outcome).toBe('mismatch');
  });
});

describe('unknown component names (recorded by a newer agent)', () => {
  it('count with weight 1, never as an anchor', () => {
    const recorded = { soc_serial: pi.soc_serial!, tpm_ek: 'e'.repeat(32) };
    const m = matchFingerprint(recorded, { soc_serial: pi.soc_serial!, tpm_ek: 'f'.repeat(32) });
    expect(m).toMatchObject({ outcome: 'match', total: 4, score: 3, differing: ['tpm_ek'], anchorMismatch: null });
  });

  it('unknown to this agent means unreadable now, not different', () => {
    const m = matchFingerprint({ soc_serial: pi.soc_serial!, tpm_ek: 'e'.repeat(32) }, { soc_serial: pi.soc_serial! });
    expect(m).toMatchObject({ outcome: 'match', unreadable: ['tpm_ek'] });
  });

  it('components read now but not recorded do not count', () => {
    const m = matchFingerprint({ soc_serial: pi.soc_serial! }, { soc_serial: pi.soc_serial!, mac: pi.mac!, future_thing: 'a'.repeat(32) });
    expect(m).toMatchObject({ outcome: 'match', total: 3, score: 3 });
  });

  it('inherited object keys are not components', () => {
    const m = matchFingerprint({ constructor: 'a'.repeat(32) }, {});
    expect(m).toMatchObject({ outcome: 'unverifiable', total: 1, unreadable: ['constructor'] });
  });
});
