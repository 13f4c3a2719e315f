// Benchmark harness: every figure is printed beside a baseline measured in the same run, as a
// ratio, so the machine's speed cancels out. Results go to docs/benchmarks.md with the machine.
import { cpus, totalmem } from 'node:os';

export interface Sample {
  /** operations per second */
  readonly opsPerSec: number;
  /** per-operation latency percentiles in milliseconds */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly n: number;
}

export interface BenchRow {
  readonly name: string;
  readonly subject: string;
  readonly subjectSample: Sample;
  readonly baseline: string;
  readonly baselineSample: Sample;
  /** What the ratio means, e.g. "time ours / time baseline (lower is better)". */
  readonly note?: string;
}

export interface BenchResult {
  readonly title: string;
  readonly rows: readonly BenchRow[];
  readonly extra?: readonly string[];
}

/** Runs fn repeatedly for about `timeMs` after `warmup` calls; bounded in count and time. */
export async function measure(fn: () => unknown | Promise<unknown>, opts: { timeMs?: number; warmup?: number; maxN?: number } = {}): Promise<Sample> {
  const timeMs = opts.timeMs ?? 1500;
  const maxN = opts.maxN ?? 1_000_000;
  for (let i = 0; i < (opts.warmup ?? 20); i++) await fn();
  const durations: number[] = [];
  const start = performance.now();
  while (performance.now() - start < timeMs && durations.length < maxN) {
    const t0 = performance.now();
    await fn();
    durations.push(performance.now() - t0);
  }
  const total = durations.reduce((a, b) => a + b, 0);
  durations.sort((a, b) => a - b);
  const pct = (p: number) => durations[Math.min(durations.length - 1, Math.floor((p / 100) * durations.length))] ?? 0;
  return { opsPerSec: durations.length / (total / 1000), p50Ms: pct(50), p99Ms: pct(99), n: durations.length };
}

export function machineLine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}-${process.arch}`;
}

export function fmt(n: number, digits = 3): string {
  if (n >= 100) return n.toFixed(0);
  if (n >= 10) return n.toFixed(1);
  return n.toPrecision(digits);
}
