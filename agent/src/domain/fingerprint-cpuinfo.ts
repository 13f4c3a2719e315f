// /proc/cpuinfo as facts for the fingerprint: the SoC serial line (Raspberry Pi kernels), the
// x86 `hypervisor` flag, and the kernel's architecture. Pure.

export interface CpuinfoFacts {
  /** The `Serial` line's value (raw), or null when the kernel prints none. */
  readonly serial: string | null;
  /** x86 `flags` carry `hypervisor`: running under a hypervisor. */
  readonly hypervisorFlag: boolean;
  /** process.arch-style architecture of the kernel that wrote the text, or null if unclear. */
  readonly arch: string | null;
}

/** The first value of each `key : value` line (keys as printed, without padding). */
export function cpuinfoFields(text: string): ReadonlyMap<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim();
    if (key !== '' && !fields.has(key)) fields.set(key, line.slice(colon + 1).trim());
  }
  return fields;
}

export function parseCpuinfo(text: string): CpuinfoFacts {
  const fields = cpuinfoFields(text);
  const serial = fields.get('Serial');
  const flags = new Set((fields.get('flags') ?? '').split(/\s+/));
  return {
    serial: serial === undefined || serial === '' ? null : serial,
    hypervisorFlag: flags.has('hypervisor'),
    arch: archFromCpuinfoFields(fields),
  };
}

/**
 * x86: `flags` (with `lm` → x64). ARM: `CPU architecture`; a 32-bit kernel names the core
 * "ARMv7 Processor …" and lists `half thumb vfp …` features, an arm64 kernel lists `fp asimd …`.
 * RISC-V: `isa rv64…`.
 */
function archFromCpuinfoFields(fields: ReadonlyMap<string, string>): string | null {
  const flags = fields.get('flags');
  if (flags !== undefined || fields.has('vendor_id')) {
    return (flags ?? '').split(/\s+/).includes('lm') ? 'x64' : 'ia32';
  }
  const isa = fields.get('isa');
  if (isa !== undefined) return /^rv64/.test(isa) ? 'riscv64' : null;
  if (fields.has('CPU architecture') || fields.has('Features')) {
    if (/^ARMv[4-7]/i.test(fields.get('model name') ?? '')) return 'arm';
    const features = new Set((fields.get('Features') ?? '').split(/\s+/));
    if (features.has('asimd') || (features.has('fp') && !features.has('vfp'))) return 'arm64';
    if (features.has('half') || features.has('thumb') || features.has('vfp')) return 'arm';
  }
  return null;
}
