// The single executable (linux-x64, release flavour, built here through the cross-build with a
// throw-away key set; cached steps make that quick): start-to-exit of `license status` against
// the same bundle run by plain node (the packed Node 24 the executable is made of), and against
// that runtime's bare start (`node -e 0`). The SQLite addon is unpacked on first use: "warm"
// runs find it in the data dir, "cold" runs unpack it every time. Then the artifact sizes (raw,
// gzip, xz) beside the stripped runtime's, with the issue's goals: executable ≤ 1.0× plain node
// on the same bundle; kit tarball ≤ stripped runtime gzip + 3 MB.
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogChecksum, type Product } from '../common/sync-messages.ts';
import { parseTrustedKeySetText } from '../common/trusted-keys.ts';
import { openAgentStore } from '../agent/src/store/agent-store.ts';
import { buildExecutables } from '../scripts/cross-build/build.ts';
import { defaultCacheDir } from '../scripts/cross-build/lib/cache.ts';
import { fmt, measure, type BenchResult, type Sample } from './harness.ts';

const MB = 1e6;

function throwAwayKeySet(dir: string): string {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { x, y } = publicKey.export({ format: 'jwk' });
  const file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify({ issuer: 'urn:kiosk:vendor:bench', keys: [{ kty: 'EC', crv: 'P-256', x, y, kid: 'bench', alg: 'ES256', use: 'sig' }] }));
  return file;
}

/**
 * Runs per subject, and how many of them were aborted (SIGABRT) at exit: better-sqlite3 12.x on
 * Node 24 can hit `Assertion failed: (env) != nullptr` in RemoveEnvironmentCleanupHook when a
 * Statement is finalized by the GC during teardown. Counted and reported, not hidden; any other
 * failure stops the bench.
 */
const exits = new Map<string, { runs: number; aborted: number }>();

function runOnce(subject: string, cmd: string, args: readonly string[]): void {
  const r = spawnSync(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: 'ignore' });
  const tally = exits.get(subject) ?? { runs: 0, aborted: 0 };
  exits.set(subject, tally);
  tally.runs += 1;
  if (r.signal === 'SIGABRT') tally.aborted += 1;
  else if (r.status !== 0 && r.status !== 3) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}`);
}

/** A data dir with an empty database, so `license status` opens the store (and loads the addon). */
function dataDirWithDatabase(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'agent.db'), '');
  return dir;
}

function compressedSize(cmd: string, args: readonly string[], file: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, [...args, '-c', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let n = 0;
    child.stdout.on('data', (b: Buffer) => (n += b.length));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise(n) : reject(new Error(`${cmd} exited ${code}`))));
  });
}

async function sizes(file: string): Promise<{ raw: number; gzip: number; xz: number }> {
  const raw = statSync(file).size;
  const [gzip, xz] = await Promise.all([compressedSize('gzip', ['-6', '-n'], file), compressedSize('xz', ['-9', '-T1'], file)]);
  return { raw, gzip, xz };
}

const CATALOG_PRODUCTS = 50_000;
const RSS_RUNS = 3;

/** A data dir whose store holds a catalog of `n` products, swapped in as the sync engine swaps a snapshot. */
function dataDirWithCatalog(dir: string, n: number): void {
  const items: Array<{ product: Product; stockLevel: number }> = [];
  for (let i = 0; i < n; i++) {
    const sku = `SKU-${String(i).padStart(6, '0')}`;
    items.push({ product: { sku, name: `Product ${i} (bench catalog)`, priceMinor: 100 + (i % 5000), currency: 'EUR', taxRateBp: 700, active: true }, stockLevel: i % 100 });
  }
  const store = openAgentStore({ dataDir: dir });
  try {
    store.sales.replaceCatalog({ version: 1, checksum: catalogChecksum(items), items }, Date.now());
  } finally {
    store.close();
  }
}

function vmHwmKb(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(m[1]);
}

/**
 * Starts `run` (sync off, the API on a free port), waits for the API, GETs /v1/catalog (all
 * `expected` products), reads the process's VmHWM, stops it with SIGTERM. Bounded: 60 s.
 */
async function peakRssOfRun(subject: string, cmd: string, args: readonly string[], expected: number): Promise<number | null> {
  // a run the better-sqlite3 finalizer aborts (see `exits`) is counted and run again, up to 4 times; then null (no figure)
  for (let attempt = 1; ; attempt++) {
    const tally = exits.get(subject) ?? { runs: 0, aborted: 0 };
    exits.set(subject, tally);
    tally.runs += 1;
    const r = await peakRssOnce(cmd, args, expected);
    if (typeof r === 'number') return r;
    tally.aborted += 1;
    if (attempt >= 4) return null;
  }
}

function peakRssOnce(cmd: string, args: readonly string[], expected: number): Promise<number | { aborted: true; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, [...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', KIOSK_AGENT_SYNC: 'off', KIOSK_AGENT_API_PORT: '0', KIOSK_AGENT_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let asked = false;
    let peakKb = 0;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`run did not serve the catalog within 60 s:\n${stderr}`));
    }, 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGABRT') resolvePromise({ aborted: true, stderr });
      else if (peakKb > 0 && code === 0) resolvePromise(peakKb);
      else reject(new Error(`run ended with ${code} (peak ${peakKb} kB):\n${stderr}`));
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      const line = stderr.split('\n').find((l) => l.includes('"msg":"local API listening"'));
      if (!line || asked) return;
      asked = true;
      const { url } = JSON.parse(line) as { url: string };
      void (async () => {
        try {
          const catalog = (await (await fetch(`${url}/v1/catalog`)).json()) as { products: unknown[] };
          if (catalog.products.length !== expected) throw new Error(`GET /v1/catalog: ${catalog.products.length} products, expected ${expected}`);
          peakKb = vmHwmKb(child.pid!);
        } catch (err) {
          stderr += `${String(err)}\n`;
        }
        child.kill('SIGTERM');
      })();
    });
  });
}

/** VmHWM of the runtime itself, holding nothing: `node -e` reading its own status. */
function bareNodeHwmKb(node: string): number {
  const r = spawnSync(node, ['-e', "process.stdout.write(/^VmHWM:\\s+(\\d+)/m.exec(require('fs').readFileSync('/proc/self/status','utf8'))[1])"], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node -e exited ${r.status}: ${r.stderr}`);
  return Number(r.stdout);
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function executableBench(): Promise<BenchResult> {
  exits.clear();
  const work = mkdtempSync(join(tmpdir(), 'kiosk-bench-exe-'));
  try {
    const keys = throwAwayKeySet(work);
    const outDir = join(work, 'dist');
    const built = await buildExecutables({
      flavour: 'release',
      arches: ['x64'],
      trustedKeys: parseTrustedKeySetText(readFileSync(keys, 'utf8'), keys),
      outDir,
      workDir: join(work, 'work'),
      cacheDir: defaultCacheDir(),
      version: '0.0.0-bench',
      kit: true,
    });
    const t = built.targets[0]!;
    const node24 = built.hostRuntime.node;
    // plain node runs the very bundle that is inside the executable, with the addon beside it
    const bundleDir = join(work, 'plain');
    mkdirSync(bundleDir);
    const bundle = join(bundleDir, 'kiosk-agent.cjs');
    copyFileSync(t.bundle, bundle);
    copyFileSync(t.addon.file, join(bundleDir, 'better_sqlite3.node'));

    const seaData = dataDirWithDatabase(join(work, 'sea-data'));
    const plainData = dataDirWithDatabase(join(work, 'plain-data'));
    const sea = (dataDir: string) => () => runOnce('SEA `license status`', t.executable, ['license', 'status', '--data-dir', dataDir]);
    const plain = (dataDir: string) => () => runOnce('plain node `license status`', node24, [bundle, 'license', 'status', '--data-dir', dataDir]);
    const opts = { timeMs: 4000, warmup: 3, maxN: 60 };

    // warm: the addon is unpacked already (the warm-up runs did it)
    const seaWarm = await measure(sea(seaData), opts);
    const plainWarm = await measure(plain(plainData), opts);
    // cold: unpacked on every run (the rm is part of each timed run for both)
    const cold = (fn: () => void, dataDir: string) => () => {
      rmSync(join(dataDir, 'native'), { recursive: true, force: true });
      fn();
    };
    const seaCold = await measure(cold(sea(seaData), seaData), opts);
    const plainCold = await measure(cold(plain(plainData), plainData), opts);
    const bare = await measure(() => runOnce('`node -e 0`', node24, ['-e', '0']), opts);
    const seaVersion = await measure(() => runOnce('SEA `--version`', t.executable, ['--version']), opts);

    // peak RSS of the daemon with a 50,000-product catalog in its store, after serving GET /v1/catalog
    const seaRunData = join(work, 'sea-run-data');
    const plainRunData = join(work, 'plain-run-data');
    dataDirWithCatalog(seaRunData, CATALOG_PRODUCTS);
    dataDirWithCatalog(plainRunData, CATALOG_PRODUCTS);
    const seaRss: Array<number | null> = [];
    const plainRss: Array<number | null> = [];
    const bareRss: number[] = [];
    for (let i = 0; i < RSS_RUNS; i++) {
      seaRss.push(await peakRssOfRun('SEA `run` + GET /v1/catalog', t.executable, ['run', '--data-dir', seaRunData], CATALOG_PRODUCTS));
      plainRss.push(await peakRssOfRun('plain node `run` + GET /v1/catalog', node24, [bundle, 'run', '--data-dir', plainRunData], CATALOG_PRODUCTS));
      bareRss.push(bareNodeHwmKb(node24));
    }
    const measured = (xs: ReadonlyArray<number | null>): number | null => {
      const ok = xs.filter((x): x is number => x !== null);
      return ok.length === 0 ? null : median(ok) / 1024;
    };
    const [seaPeak, plainPeak, barePeak] = [measured(seaRss), measured(plainRss), median(bareRss) / 1024];
    const mib = (x: number | null) => (x === null ? 'aborted every time' : fmt(x));
    const times = (x: number | null, base: number | null) => (x === null || base === null ? '–' : fmt(x / base));

    const exe = await sizes(t.executable);
    const kitRaw = statSync(t.kit!).size; // already gzip: compressing it again says nothing
    const runtime = await sizes(t.strippedRuntime);
    const row = (name: string, s: { raw: number; gzip: number; xz: number }) =>
      `| ${name} | ${(s.raw / MB).toFixed(1)} | ${(s.gzip / MB).toFixed(1)} | ${(s.xz / MB).toFixed(1)} |`;
    const kitGoal = runtime.gzip + 3 * MB;
    const ratio = (a: Sample, b: Sample) => fmt(a.p50Ms / b.p50Ms);
    return {
      title: 'Single executable (linux-x64): start-to-exit and size',
      rows: [
        {
          name: '`license status`, addon cache warm',
          subject: 'kiosk-agent-linux-x64 (SEA)',
          subjectSample: seaWarm,
          baseline: `node ${built.hostRuntime.version} running the same bundle`,
          baselineSample: plainWarm,
          note: '(goal ≤ 1.0)',
        },
        {
          name: '`license status`, addon unpacked every run (cold)',
          subject: 'kiosk-agent-linux-x64 (SEA)',
          subjectSample: seaCold,
          baseline: `node ${built.hostRuntime.version} running the same bundle, addon copied beside it`,
          baselineSample: plainCold,
        },
        {
          name: 'process start and exit',
          subject: 'kiosk-agent-linux-x64 --version',
          subjectSample: seaVersion,
          baseline: `node ${built.hostRuntime.version} -e 0`,
          baselineSample: bare,
        },
      ],
      extra: [
        `Aborted (SIGABRT, \`Assertion failed: (env) != nullptr\` from a better-sqlite3 Statement finalized by the GC; at exit or while serving): ${[...exits].map(([k, v]) => `${k} ${v.aborted} of ${v.runs}`).join('; ')}.`,
        `Start-to-exit p50: SEA warm ${fmt(seaWarm.p50Ms)} ms, cold ${fmt(seaCold.p50Ms)} ms; plain node warm ${fmt(plainWarm.p50Ms)} ms, cold ${fmt(plainCold.p50Ms)} ms; bare \`node -e 0\` ${fmt(bare.p50Ms)} ms. SEA warm / \`node -e 0\`: ${ratio(seaWarm, bare)}×.`,
        '',
        '| artifact (MB) | raw | gzip -6 | xz -9 |',
        '|---|---|---|---|',
        row('stripped Node runtime (baseline)', runtime),
        row('kiosk-agent-linux-x64', exe),
        `| kit tarball (kiosk-agent-…-linux-x64.tar.gz, gzip -6) | – | ${(kitRaw / MB).toFixed(1)} | – |`,
        '',
        `Executable raw / stripped runtime raw: ${fmt(exe.raw / runtime.raw)}× (+${((exe.raw - runtime.raw) / MB).toFixed(1)} MB: the bundle and the addon). ` +
          `Kit tarball ${(kitRaw / MB).toFixed(1)} MB vs goal ≤ stripped runtime gzip + 3 MB = ${(kitGoal / MB).toFixed(1)} MB: ${kitRaw <= kitGoal ? 'met' : 'NOT met'}.`,
        '',
        `Peak RSS (VmHWM, median of ${RSS_RUNS}) of \`run\` (sync off, trial, local API on a free port) with ${CATALOG_PRODUCTS.toLocaleString('en')} products in its store (swapped in as a snapshot), after serving \`GET /v1/catalog\` (all of them):`,
        '',
        '| process | peak RSS (MiB) | × bare node |',
        '|---|---|---|',
        `| kiosk-agent-linux-x64 run (SEA) | ${mib(seaPeak)} | ${times(seaPeak, barePeak)} |`,
        `| node ${built.hostRuntime.version} running the same bundle (\`run\`) | ${mib(plainPeak)} | ${times(plainPeak, barePeak)} |`,
        `| node ${built.hostRuntime.version} -e (holding nothing) | ${fmt(barePeak)} | 1.00 |`,
        '',
        `SEA / plain node on the same bundle: ${times(seaPeak, plainPeak)}×; samples (kB, "null": aborted on every attempt): SEA ${seaRss.map((x) => x ?? 'null').join(', ')}; plain ${plainRss.map((x) => x ?? 'null').join(', ')}; bare ${bareRss.join(', ')}.`,
        'Built by the cross-build (release flavour, a throw-away key set), x64 only: qemu-user timings of the arm64 one would say nothing about a device.',
      ],
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
