// Platform facts for the activation request: architecture, virtualization, container. Pure
// mappings from what the hardware layer reads (DMI vendor strings, clock source, NIC drivers,
// container markers) to short names the license policy and the fleet view use.

/** `uname -m` (also /proc/sys/kernel/arch) → process.arch-style name. */
export function archFromMachine(machine: string): string | null {
  const m = machine.trim().toLowerCase();
  if (m === 'x86_64' || m === 'amd64') return 'x64';
  if (/^i[3-6]86$/.test(m)) return 'ia32';
  if (m === 'aarch64' || m === 'arm64' || m === 'aarch64_be') return 'arm64';
  if (/^arm/.test(m)) return 'arm';
  if (m === 'riscv64') return 'riscv64';
  if (m === 'ppc64le' || m === 'ppc64') return 'ppc64';
  if (m === 's390x') return 's390x';
  return null;
}

/** The world-readable DMI strings (canonical lowercase text, null when absent). */
export interface DmiVendorStrings {
  readonly sysVendor: string | null;
  readonly productName: string | null;
  readonly boardVendor: string | null;
  readonly biosVendor: string | null;
}

const DMI_RULES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bqemu\b/, 'qemu'],
  [/\bkvm\b/, 'kvm'],
  [/vmware/, 'vmware'],
  [/innotek|virtualbox/, 'virtualbox'],
  [/\bxen\b/, 'xen'],
  [/amazon ec2/, 'amazon'],
  [/google compute engine/, 'google'], // not sys_vendor "Google" alone: Chromebooks
  [/parallels/, 'parallels'],
  [/\bbochs\b/, 'bochs'],
  [/openstack/, 'openstack'],
  [/cloud hypervisor/, 'cloud-hypervisor'],
];

/** The hypervisor named by DMI (vendor, product, board or BIOS vendor), or null for real hardware. */
export function virtualizationFromDmi(dmi: DmiVendorStrings): string | null {
  if (dmi.sysVendor === 'microsoft corporation' && dmi.productName === 'virtual machine') return 'hyperv';
  const text = [dmi.sysVendor, dmi.productName, dmi.boardVendor, dmi.biosVendor].filter((s) => s !== null).join(' | ');
  for (const [re, name] of DMI_RULES) if (re.test(text)) return name;
  return null;
}

/** /sys/devices/system/clocksource/clocksource0/current_clocksource → hypervisor, if it names one. */
export function virtualizationFromClocksource(clocksource: string): string | null {
  const cs = clocksource.trim();
  if (cs === 'kvm-clock') return 'kvm';
  if (cs.startsWith('hyperv')) return 'hyperv';
  if (cs === 'xen') return 'xen';
  if (cs === 'vmware-tsc') return 'vmware';
  return null;
}

/** Device tree `compatible` (NUL-separated) of QEMU's ARM "virt" machine. */
export function virtualizationFromDeviceTree(compatible: string): string | null {
  return compatible.split('\0').includes('linux,dummy-virt') ? 'qemu' : null;
}

const NIC_DRIVER_HYPERVISORS: Readonly<Record<string, string>> = {
  vmxnet3: 'vmware',
  vmxnet: 'vmware',
  hv_netvsc: 'hyperv',
  'xen-netfront': 'xen',
  ena: 'amazon',
  gve: 'google',
  virtio_net: 'unknown',
};

/** A paravirtual NIC driver means a hypervisor (virtio alone does not say which). */
export function virtualizationFromNicDrivers(drivers: readonly (string | null)[]): string | null {
  for (const d of drivers) if (d !== null && Object.hasOwn(NIC_DRIVER_HYPERVISORS, d)) return NIC_DRIVER_HYPERVISORS[d]!;
  return null;
}

/** A container manager or hypervisor name as a short token ("docker", "lxc", "xen"). */
export function normalizePlatformName(raw: string): string | null {
  const name = raw.replace(/\0/g, '').trim().toLowerCase().replace(/[^a-z0-9._-]/g, '').slice(0, 64);
  return name === '' ? null : name;
}

/** /proc/1/environ (NUL-separated): `container=lxc` and the like, set by the container manager. */
export function containerFromEnviron(environ: string): string | null {
  for (const entry of environ.split('\0')) {
    if (entry.startsWith('container=')) return normalizePlatformName(entry.slice('container='.length));
  }
  return null;
}

const CGROUP_RULES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\/docker[-/]|\/docker\.service/, 'docker'],
  [/libpod/, 'podman'],
  [/\/lxc(\.payload)?[./]/, 'lxc'],
  [/kubepods/, 'kubernetes'],
  [/containerd/, 'containerd'],
];

/** /proc/1/cgroup paths that only a container's init has (cgroup v1 hosts show them). */
export function containerFromCgroup(text: string): string | null {
  for (const [re, name] of CGROUP_RULES) if (re.test(text)) return name;
  return null;
}
