// Facts about each network interface from /sys/class/net (never `ip`, never os.networkInterfaces,
// which lists only interfaces that have an address). The choice of NICs is domain/fingerprint-nic.ts.
import { macComponentValue, type NicFacts } from '../domain/fingerprint-nic.ts';
import type { ComponentRead } from './component-read.ts';
import { baseName, type SysrootReader } from './sysroot-reader.ts';

export const NET_CLASS_DIR = '/sys/class/net';

export function readNicFacts(reader: SysrootReader): NicFacts[] {
  return reader.list(NET_CLASS_DIR).map((name) => readOne(reader, name));
}

function readOne(reader: SysrootReader, name: string): NicFacts {
  const dir = `${NET_CLASS_DIR}/${name}`;
  const text = (file: string): string | null => {
    const r = reader.readText(`${dir}/${file}`);
    return r.ok ? r.value.trim() : null;
  };
  const resolved = reader.resolve(dir) ?? '';
  const deviceLink = reader.readLink(`${dir}/device`);
  const device = deviceLink === null ? null : reader.resolve(`${dir}/device`);
  const driverLink = deviceLink === null ? null : reader.readLink(`${dir}/device/driver`);
  const subsystemLink = deviceLink === null ? null : reader.readLink(`${dir}/device/subsystem`);
  return {
    name,
    address: text('address'),
    addrAssignType: text('addr_assign_type'),
    type: text('type'),
    hasDevice: deviceLink !== null,
    underVirtual: resolved.startsWith('/sys/devices/virtual/'),
    driver: driverLink === null ? null : baseName(driverLink),
    onUsb: (subsystemLink !== null && baseName(subsystemLink) === 'usb') || (device !== null && /\/usb\d+\//.test(device)),
  };
}

export function readMac(nics: readonly NicFacts[]): ComponentRead {
  return { value: macComponentValue(nics), problems: [] };
}
