// Progress lines of the cross-build: `[step] target what`, on stderr (stdout stays free).
export type Step = 'setup' | 'runtime' | 'addon' | 'bundle' | 'blob' | 'strip' | 'inject' | 'smoke' | 'checksums' | 'kit' | 'debian11';

export function progress(step: Step, target: string, what: string): void {
  process.stderr.write(`[${step}] ${target} ${what}\n`);
}

export function seconds(sinceMs: number): string {
  return `${((Date.now() - sinceMs) / 1000).toFixed(1)} s`;
}

/** A failure the build reports as one line, without a stack. */
export class BuildError extends Error {
  override readonly name = 'BuildError';
}
