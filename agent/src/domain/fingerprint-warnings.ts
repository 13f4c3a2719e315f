// What `kiosk-agent fingerprint` tells the installer about the fingerprint it read. Pure; the
// texts name files and components, never a raw value.
import { COMPONENTS, type ComponentName } from '../../../common/fingerprint.ts';

export interface CoverageFacts {
  /** Names of the components that were readable (and not placeholders). */
  readonly components: readonly string[];
  readonly virtualization: string | null;
  readonly container: string | null;
}

/** A file the service can read (it has CAP_DAC_READ_SEARCH) but this process cannot. */
export function unreadableWarning(path: string, rootOnly: boolean): string {
  return `cannot read ${path} (${rootOnly ? 'root-only' : 'permission denied'}): the service reads it with CAP_DAC_READ_SEARCH; run as root to see what the service sees`;
}

/** Any other failure to read a source file (EIO, a symlink loop …): only the errno code. */
export function readErrorWarning(path: string, code: string): string {
  return `cannot read ${path}: ${code}`;
}

const ANCHORS = (Object.keys(COMPONENTS) as ComponentName[]).filter((n) => COMPONENTS[n].anchor);

/** Warnings about how much of the device the fingerprint covers. */
export function coverageWarnings(facts: CoverageFacts): string[] {
  const names = new Set(facts.components);
  const where = describeVirtual(facts);
  if (names.size === 0) {
    return ['no fingerprint component is readable: this device cannot be bound to a license'];
  }
  if ([...names].every((n) => n === 'machine_id')) {
    return [
      `only machine_id is readable (no SoC serial, DMI, disk serial or NIC): ${where ?? 'this looks like a virtual machine or container'}, ` +
        'whose facts every clone shares; activating it needs a license that allows virtual devices',
    ];
  }
  const warnings: string[] = [];
  if (!ANCHORS.some((a) => names.has(a))) {
    warnings.push(`no hard anchor (${ANCHORS.join(', ')}) is readable: the binding rests on the disk, the NICs and the OS`);
  }
  if (where !== null) warnings.push(`${where}: activating it needs a license that allows virtual devices`);
  return warnings;
}

function describeVirtual(facts: CoverageFacts): string | null {
  if (facts.container !== null) return `this runs in a container (${facts.container})`;
  if (facts.virtualization !== null) return `this is a virtual machine (${facts.virtualization})`;
  return null;
}
