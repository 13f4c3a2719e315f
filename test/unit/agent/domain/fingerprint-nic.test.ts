import { describe, expect, it } from 'vitest';
import { macComponentValue, nicExclusion, type NicFacts } from '../../../../agent/src/domain/fingerprint-nic.ts';

const nic = (over: Partial<NicFacts> & { name: string; address: string }): NicFacts => ({
  addrAssignType: '0',
  type: '1',
  hasDevice: true,
  underVirtual: false,
  driver: 'e1000e',
  onUsb: false,
  ...over,
});

const onboard = nic({ name: 'enp0s31f6', address: 'd8:9e:f3:12:34:56' });
const wifi = nic({ name: 'wlp0s20f3', address: '3c:a9:f4:11:22:33', driver: 'iwlwifi' });
const usb = nic({ name: 'enx00e04c680001', address: '00:e0:4c:68:00:01', driver: 'r8152', onUsb: true });

describe('nicExclusion', () => {
  it('a PCI NIC with a permanent universal MAC counts', () => {
    expect(nicExclusion(onboard)).toBeNull();
    expect(nicExclusion(wifi)).toBeNull();
    expect(nicExclusion(usb)).toBeNull();
  });

  it('software interfaces by name', () => {
    for (const name of ['lo', 'veth1a2b3c', 'docker0', 'br0', 'virbr0', 'bond0', 'tun0', 'tap0', 'wg0', 'ifb0', 'dummy0']) {
      expect(nicExclusion(nic({ name, address: 'd8:9e:f3:12:34:56' })), name).toBe('name');
    }
  });

  it('no backing device, or under /sys/devices/virtual', () => {
    expect(nicExclusion(nic({ name: 'eth0', address: 'd8:9e:f3:12:34:56', hasDevice: false }))).toBe('no-device');
    expect(nicExclusion(nic({ name: 'eth0', address: 'd8:9e:f3:12:34:56', underVirtual: true }))).toBe('virtual');
  });

  it('paravirtual drivers, even with a universal MAC', () => {
    for (const driver of ['virtio_net', 'vmxnet3', 'hv_netvsc', 'xen-netfront', 'veth']) {
      expect(nicExclusion(nic({ name: 'eth0', address: '00:50:56:01:02:03', driver })), driver).toBe('driver');
    }
  });

  it('locally administered, multicast or zero MACs', () => {
    for (const address of ['02:fc:00:00:00:01', '52:54:00:12:34:56', '01:00:5e:00:00:01', '00:00:00:00:00:00', 'garbage']) {
      expect(nicExclusion(nic({ name: 'eth0', address })), address).toBe('address');
    }
    expect(nicExclusion(nic({ name: 'eth0', address: null as unknown as string }))).toBe('address');
  });

  it('a MAC that is not permanent (random, stolen, set by user)', () => {
    for (const t of ['1', '2', '3']) expect(nicExclusion(nic({ name: 'eth0', address: 'd8:9e:f3:12:34:56', addrAssignType: t }))).toBe('not-permanent');
  });

  it('non-Ethernet link types', () => {
    expect(nicExclusion(nic({ name: 'ib0', address: 'd8:9e:f3:12:34:56', type: '32' }))).toBe('not-ethernet');
  });
});

describe('macComponentValue', () => {
  it('is the sorted set of physical MACs', () => {
    expect(macComponentValue([wifi, onboard])).toBe('3c:a9:f4:11:22:33,d8:9e:f3:12:34:56');
    expect(macComponentValue([onboard, wifi])).toBe(macComponentValue([wifi, onboard]));
  });

  it('ignores a USB NIC when there is an onboard one (a dongle plugged in changes nothing)', () => {
    expect(macComponentValue([onboard, usb])).toBe(macComponentValue([onboard]));
  });

  it('uses USB NICs only when there is nothing else (a board whose Ethernet is on USB)', () => {
    expect(macComponentValue([usb, nic({ name: 'docker0', address: '02:42:00:00:00:01' })])).toBe('00:e0:4c:68:00:01');
  });

  it('is null without any physical NIC', () => {
    expect(macComponentValue([])).toBeNull();
    expect(macComponentValue([nic({ name: 'eth0', address: '02:fc:00:00:00:01', driver: 'virtio_net' })])).toBeNull();
  });

  it('counts a MAC shared by two interfaces once', () => {
    expect(macComponentValue([onboard, nic({ name: 'eth1', address: 'D8:9E:F3:12:34:56' })])).toBe('d8:9e:f3:12:34:56');
  });
});
