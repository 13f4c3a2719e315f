// Reads the device's fingerprint under a sysroot (DESIGN §4.3): every component from files
// (fs only — no child process, no dmidecode), canonicalised, placeholders dropped, then hashed
// with the issuer's fingerprint key (common/fingerprint.ts). Raw values stay in this function:
// the result carries hashes, platform facts and warnings that name files, never values.
import { computeDeviceId, fingerprintKey, hashComponent, type ComponentName } from '../../../common/fingerprint.ts';
import { coverageWarnings, readErrorWarning, unreadableWarning } from '../domain/fingerprint-warnings.ts';
import type { ComponentRead } from './component-read.ts';
import { readDmiComponents } from './dmi.ts';
import { readMachineId } from './machine-id.ts';
import { readMac, readNicFacts } from './nic.ts';
import { readPlatformFacts } from './platform.ts';
import { readSocSerial } from './soc.ts';
import { readStorageId } from './storage.ts';
import { createSysrootReader, nodeFileAccess, type FileAccess } from './sysroot-reader.ts';

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

export async function readDeviceFingerprint(options: ReadFingerprintOptions): Promise<DeviceFingerprint> {
  return readDeviceFingerprintWith(options, nodeFileAccess);
}

/** The same, over an injected file system (tests simulate EACCES on root-only files with it). */
export async function readDeviceFingerprintWith(options: ReadFingerprintOptions, fs: FileAccess): Promise<DeviceFingerprint> {
  const reader = createSysrootReader(options.sysroot, fs);
  const cpuinfoRead = reader.readText('/proc/cpuinfo');
  const cpuinfo = cpuinfoRead.ok ? cpuinfoRead.value : null;
  const nics = readNicFacts(reader);

  const reads: Record<ComponentName, ComponentRead> = {
    soc_serial: readSocSerial(reader, cpuinfo),
    ...readDmiComponents(reader),
    storage_id: readStorageId(reader),
    mac: readMac(nics),
    machine_id: readMachineId(reader),
  };

  const key = fingerprintKey(options.issuer);
  const components: Record<string, string> = {};
  const warnings: string[] = [];
  for (const name of Object.keys(reads).sort() as ComponentName[]) {
    const read = reads[name];
    if (read.value !== null) components[name] = hashComponent(key, name, read.value);
    for (const p of read.problems) {
      const text = p.failure === 'denied' ? unreadableWarning(p.path, p.rootOnly) : readErrorWarning(p.path, p.code);
      if (!warnings.includes(text)) warnings.push(text);
    }
  }

  const platform = readPlatformFacts(reader, cpuinfo, nics);
  warnings.push(...coverageWarnings({ components: Object.keys(components), ...platform }));
  return { deviceId: computeDeviceId(components), components, platform, warnings };
}
