// `npm run bench`: runs every benchmark (a static list), prints each figure beside its
// same-run baseline, and rewrites docs/benchmarks.md with the latest results and the machine.
import { writeFileSync } from 'node:fs';
import { fmt, machineLine, type BenchResult } from './harness.ts';
import { fingerprintBench } from './fingerprint.bench.ts';
import { licenseCheckBench } from './license-check.bench.ts';
import { executableBench } from './executable.bench.ts';
import { activationsBench } from './activations.bench.ts';
import { syncBench } from './sync.bench.ts';

const BENCHMARKS: ReadonlyArray<{ id: string; run: () => Promise<BenchResult> }> = [
  { id: 'fingerprint', run: fingerprintBench },
  { id: 'license-check', run: licenseCheckBench },
  { id: 'executable', run: executableBench },
  { id: 'activations', run: activationsBench },
  { id: 'sync', run: syncBench },
];

function render(results: readonly BenchResult[], when: string): string {
  const out: string[] = [
    '# Benchmarks',
    '',
    'Written by `npm run bench`; every figure stands beside a baseline measured in the same run, and',
    'the ratio is what to compare between machines. Latest run:',
    '',
    `- when: ${when}`,
    `- machine: ${machineLine()}`,
    '',
  ];
  for (const r of results) {
    out.push(`## ${r.title}`, '', '| measure | subject | per op p50 / p99 (ms) | ops/s | baseline | baseline ops/s | ratio (subject time / baseline time) |', '|---|---|---|---|---|---|---|');
    for (const row of r.rows) {
      const ratio = row.baselineSample.opsPerSec / row.subjectSample.opsPerSec;
      out.push(
        `| ${row.name} | ${row.subject} | ${fmt(row.subjectSample.p50Ms)} / ${fmt(row.subjectSample.p99Ms)} | ${fmt(row.subjectSample.opsPerSec)} | ${row.baseline} | ${fmt(row.baselineSample.opsPerSec)} | **${fmt(ratio)}×**${row.note ? ` ${row.note}` : ''} |`,
      );
    }
    if (r.extra?.length) out.push('', ...r.extra);
    out.push('');
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const results: BenchResult[] = [];
  for (const b of BENCHMARKS) {
    if (only.length && !only.includes(b.id)) continue;
    process.stderr.write(`bench ${b.id} …\n`);
    const r = await b.run();
    results.push(r);
    for (const row of r.rows) {
      const ratio = row.baselineSample.opsPerSec / row.subjectSample.opsPerSec;
      console.log(`${r.title} · ${row.name}: ${row.subject} ${fmt(row.subjectSample.opsPerSec)}/s, ${fmt(row.subjectSample.p50Ms)} ms p50 vs ${row.baseline} ${fmt(row.baselineSample.opsPerSec)}/s, ${fmt(row.baselineSample.p50Ms)} ms p50 → ratio ${fmt(ratio)}×`);
    }
    for (const line of r.extra ?? []) console.log(`  ${line}`);
  }
  if (!only.length) writeFileSync('docs/benchmarks.md', render(results, new Date().toISOString()));
}

await main();
