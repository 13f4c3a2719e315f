// Which network interfaces make up the `mac` component (DESIGN §4.3: the set of physical NICs —
// backed by a device, universally administered, permanent). Pure: the hardware layer gathers
// NicFacts from /sys/class/net, this decides.
import { canonicalMac, isUniversalUnicastMac } from './fingerprint-values.ts';

export interface NicFacts {
  /** Interface name, e.g. "eth0". */
  readonly name: string;
  /** Contents of `address` (raw), or null when unreadable. */
  readonly address: string | null;
  /** Contents of `addr_assign_type`: "0" permanent, "1" random, "2" stolen, "3" set by user. */
  readonly addrAssignType: string | null;
  /** Contents of `type` (ARPHRD_*): "1" for Ethernet and Wi-Fi. */
  readonly type: string | null;
  /** The interface has a `device` link (a bus device backs it). */
  readonly hasDevice: boolean;
  /** The interface lives under /sys/devices/virtual. */
  readonly underVirtual: boolean;
  /** Driver name (basename of device/driver), e.g. "e1000e", "virtio_net". */
  readonly driver: string | null;
  /** The backing device sits on a USB bus (a dongle, or a board whose only Ethernet is USB). */
  readonly onUsb: boolean;
}

/** Drivers of paravirtual or software NICs: their MACs are made up by a hypervisor or at random. */
export const VIRTUAL_NIC_DRIVERS: ReadonlySet<string> = new Set([
  'virtio_net',
  'vmxnet3',
  'vmxnet',
  'hv_netvsc',
  'xen-netfront',
  'veth',
  'tun',
  'bridge',
  'bonding',
  'dummy',
  'ifb',
  'macvlan',
  'macvtap',
  'ipvlan',
  'vrf',
  'wireguard',
  'ena', // AWS elastic network interfaces move between instances
  'gve', // Google virtual NIC
]);

/** Name prefixes of software interfaces (a physical NIC is never named like these). */
export const VIRTUAL_NIC_PREFIXES: readonly string[] = [
  'lo',
  'veth',
  'docker',
  'br',
  'virbr',
  'bond',
  'tun',
  'tap',
  'wg',
  'ifb',
  'dummy',
  'vnet',
  'vmnet',
  'macvtap',
  'vxlan',
  'cni',
  'flannel',
  'cali',
  'tailscale',
  'zt',
];

export type NicExclusion =
  | 'name'
  | 'no-device'
  | 'virtual'
  | 'driver'
  | 'not-ethernet'
  | 'address'
  | 'not-permanent';

/** Why an interface does not count, or null when it is a physical NIC with a permanent MAC. */
export function nicExclusion(nic: NicFacts): NicExclusion | null {
  if (VIRTUAL_NIC_PREFIXES.some((p) => nic.name.startsWith(p))) return 'name';
  if (!nic.hasDevice) return 'no-device';
  if (nic.underVirtual) return 'virtual';
  if (nic.driver !== null && VIRTUAL_NIC_DRIVERS.has(nic.driver)) return 'driver';
  if (nic.type !== null && nic.type.trim() !== '1') return 'not-ethernet';
  const mac = nic.address === null ? null : canonicalMac(nic.address);
  if (mac === null || !isUniversalUnicastMac(mac)) return 'address';
  if (nic.addrAssignType !== null && nic.addrAssignType.trim() !== '0') return 'not-permanent';
  return null;
}

/**
 * The `mac` component's value: the sorted MACs of the physical NICs that are not on USB, joined
 * by ","; only when there are none, those on USB (a board whose Ethernet is USB-attached). So
 * plugging a USB NIC into a board with onboard NICs does not change the component.
 */
export function macComponentValue(nics: readonly NicFacts[]): string | null {
  const onboard = new Set<string>();
  const usb = new Set<string>();
  for (const nic of nics) {
    if (nicExclusion(nic) !== null) continue;
    const mac = canonicalMac(nic.address ?? '');
    if (mac === null) continue;
    (nic.onUsb ? usb : onboard).add(mac);
  }
  const chosen = onboard.size > 0 ? onboard : usb;
  return chosen.size > 0 ? [...chosen].sort().join(',') : null;
}
