// Which symbol versions an ELF file asks for (readelf --dyn-syms): the glibc floor of the
// executable and its addon (research/build-probe.md §7).
import { execFileSync } from 'node:child_process';

export interface SymbolVersionReport {
  /** Newest GLIBC_x.y needed, e.g. "2.28" */
  readonly glibc: string | null;
  /** Newest GLIBCXX_3.4.n needed */
  readonly glibcxx: string | null;
  readonly cxxabi: string | null;
  /** Every undefined symbol that needs a version newer than the limit, if a limit was given. */
  readonly tooNew: readonly string[];
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Undefined (needed) symbols with their versions: [name, "GLIBC", "2.28"]. */
export function neededSymbolVersions(file: string): Array<[string, string, string]> {
  const text = execFileSync('readelf', ['-W', '--dyn-syms', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const out: Array<[string, string, string]> = [];
  for (const line of text.split('\n')) {
    // Num: Value Size Type Bind Vis Ndx Name   — needed symbols have Ndx UND
    const cols = line.trim().split(/\s+/);
    if (cols[6] !== 'UND' || !cols[7]) continue;
    const m = /^(.+?)@+(GLIBC|GLIBCXX|CXXABI)_([0-9.]+)(?:\s|$)/.exec(cols[7]);
    if (m) out.push([m[1]!, m[2]!, m[3]!]);
  }
  return out;
}

export function symbolVersionReport(file: string, limits: { GLIBC?: string; GLIBCXX?: string } = {}): SymbolVersionReport {
  const needed = neededSymbolVersions(file);
  const newest = (lib: string): string | null =>
    needed.filter(([, l]) => l === lib).map(([, , v]) => v).sort(compareVersions).pop() ?? null;
  const tooNew = needed
    .filter(([, lib, v]) => {
      const limit = lib === 'GLIBC' ? limits.GLIBC : lib === 'GLIBCXX' ? limits.GLIBCXX : undefined;
      return limit !== undefined && compareVersions(v, limit) > 0;
    })
    .map(([name, lib, v]) => `${name}@${lib}_${v}`);
  return { glibc: newest('GLIBC'), glibcxx: newest('GLIBCXX'), cxxabi: newest('CXXABI'), tooNew };
}
