// Reads the device's fingerprint under a sysroot (DESIGN §4.3). INTERFACE PINNED — the
// implementation is being written.
import { KioskError } from '../../../common/errors.ts';

export interface PlatformFacts {
  /** process.arch-style: "x64", "arm64", "arm". */
  readonly arch: string;
  /** e.g. "kvm", "qemu", "vmware", "hyperv", "xen", "firecracker"; null on bare metal. */
  readonly virtualization: string | null;
  /** e.g. "docker", "podman", "lxc"; null outside a container. */
  readonly container: string | null;
}

export interface DeviceFingerprint {
  readonly deviceId: string;
  /** component name → keyed hash (common/fingerprint.ts); only readable, non-placeholder ones. */
  readonly components: Readonly<Record<string, string>>;
  readonly platform: PlatformFacts;
  /** Human-readable notes, e.g. root-only files this process could not read. Never raw values. */
  readonly warnings: readonly string[];
}

export interface ReadFingerprintOptions {
  readonly sysroot: string;
  readonly issuer: string;
}

export async function readDeviceFingerprint(_options: ReadFingerprintOptions): Promise<DeviceFingerprint> {
  throw new KioskError('INTERNAL', 'not implemented yet');
}
