// Online activations over HTTP on loopback: successful activations per second (2xx only; 429s
// and other statuses reported apart), and p99 latency at a fixed offered rate — beside a
// trivial fastify route (GET → {}) and a bare ES256 signature measured in the same run.
// Every request is a distinct device taking a free seat: N requests with distinct device keys
// are made up front. Two seat layouts: many small licenses (8 devices on a license of 10 seats,
// as shops hold them), and one license of N seats filling up (as the brief asks; activation
// reads only the seats sharing a component hash with the request, so it should not slow as it
// fills). The server is the real bin (`license-server start`) in a child process with the rate
// limit relaxed through its config file, first as it ships (seat and signature on its
// activation thread), then with `activationThread: false`. autocannon runs in a worker thread
// of this process (the main thread only waits); the server's two threads and the load
// generator share the machine's two cores. A phase's rate is its 2xx count over the time from
// its start to its last response. Bounded in time and count. Where the time goes is measured in
// this process: the domain `activate` alone (small licenses, and a license already holding
// many seats), the signature, and a SQLite commit with synchronous=FULL vs NORMAL on the same
// disk.
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { calculateJwkThumbprint } from 'jose';
import { computeDeviceId, fingerprintKey, hashComponent } from '../common/fingerprint.ts';
import { createServerContext } from '../license-server/src/app.ts';
import { resolveServerConfig } from '../license-server/src/config.ts';
import { activate } from '../license-server/src/domain/activation.ts';
import { createLicense } from '../license-server/src/domain/licenses.ts';
import { generateKey } from '../license-server/src/signing/key-dir.ts';
import { measure, type BenchResult, type Sample } from './harness.ts';
import { spawnListening } from './child-process.ts';

const ISSUER = 'urn:kiosk:vendor:bench-activations';
/** The max phase: this many runs back to back, the median reported (the machine's speed drifts). */
const MAX_RUNS = 3;
const MAX_RUN_SECONDS = 5;
/** A warm-up run first, not counted: the server's JIT and its seat thread settle. */
const WARMUP_SECONDS = 2;
/** Requests made up front for the small licenses: for the max runs (they may use them all) … */
const MAX_PHASE_REQUESTS = 68_000;
/** … the fixed-rate phase … */
const RATE_RESERVE = 10_000;
/** … and the max phase of the server without its activation thread. */
const UNTHREADED_REQUESTS = 24_000;
const MAX_REQUESTS = MAX_PHASE_REQUESTS + RATE_RESERVE + UNTHREADED_REQUESTS;
/** Requests for the one big license, filling up during its phase. */
const BIG_LICENSE_REQUESTS = 36_000;
/** Requests for the in-process breakdown. */
const BREAKDOWN_REQUESTS = 3_200;
/** Small licenses: this many devices each (of SMALL_SEATS seats). */
const DEVICES_PER_SMALL_LICENSE = 8;
const SMALL_SEATS = 10;
const PHASE_SECONDS = 8;
const CONNECTIONS = 32;
const TARGET_PER_SECOND = 3000;

interface AutocannonResult {
  duration: number;
  /** From the phase's start to its last response (ms). */
  elapsedMs: number;
  /** Request bodies used (sent, answered or not). */
  sent: number;
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats: Record<string, { count: number }>;
}
/** Where autocannon is loaded from: the worker is plain JavaScript, not compiled by tsx. */
type Autocannon = { readonly path: string };

const perSec = (r: AutocannonResult): number => r['2xx'] / (r.elapsedMs / 1000);

export async function activationsBench(): Promise<BenchResult> {
  const autocannon: Autocannon = { path: createRequire(import.meta.url).resolve('autocannon') };
  const dir = mkdtempSync(join(tmpdir(), 'kiosk-bench-act-'));
  const children: ChildProcess[] = [];
  try {
    const dataDir = join(dir, 'data');
    const keysDir = join(dataDir, 'keys');
    await generateKey(keysDir, { issuer: ISSUER });
    const config = resolveServerConfig({ flags: { 'data-dir': dataDir }, env: {}, cwd: dir });
    const ctx = createServerContext(config, {}, { stdout() {}, stderr() {}, env: {}, cwd: dir });
    process.stderr.write(`  making ${MAX_REQUESTS} activation requests (distinct device keys) and the licenses …\n`);
    const domain = await ctx.deps();
    const bigLicense = await createLicense(domain, { tenant: 'bench', features: ['pos'], maxDevices: BIG_LICENSE_REQUESTS, days: 30, actor: 'bench' });
    const smallKeys: string[] = [];
    for (let i = 0; i < Math.ceil(MAX_REQUESTS / DEVICES_PER_SMALL_LICENSE); i++) {
      smallKeys.push((await createLicense(domain, { tenant: 'bench', features: ['pos'], maxDevices: SMALL_SEATS, days: 30, actor: 'bench' })).licenseKey);
    }
    await ctx.close();
    const requests = await makeRequests(MAX_REQUESTS, 0);
    /** Request i for the small licenses goes to license floor(i / DEVICES_PER_SMALL_LICENSE): never more than 8 on one. */
    const smallBodies = (from: number, count: number): string[] =>
      requests.slice(from, from + count).map((r, j) => JSON.stringify({ licenseKey: smallKeys[Math.floor((from + j) / DEVICES_PER_SMALL_LICENSE)], request: r }));

    // --- the trivial fastify route, in its own process like the server
    const trivial = await spawnListening(children, ['--input-type=module', '-e', TRIVIAL_SERVER], process.cwd());
    const trivialMax = await load(autocannon, { url: `${trivial}/`, connections: CONNECTIONS, duration: PHASE_SECONDS });

    // --- the license server: the real bin, rate limit relaxed, info logs discarded by level
    const serverSettings = { dataDir, port: 0, mqttPort: 0, logLevel: 'warn', rateLimit: { activations: { burst: 1_000_000, perMinute: 100_000_000 } } };
    writeFileSync(join(dir, 'server.json'), JSON.stringify(serverSettings));
    const server = await spawnListening(children, [resolve('bin/license-server.mjs'), 'start', '--config', join(dir, 'server.json')], dir);

    // --- max throughput, small licenses: MAX_RUNS runs on fresh devices, the median one reported
    const warmup = await load(autocannon, { url: `${server}/v1/activations`, connections: CONNECTIONS, duration: WARMUP_SECONDS, bodies: smallBodies(0, 10_000) });
    let used = Math.ceil(warmup.sent / DEVICES_PER_SMALL_LICENSE) * DEVICES_PER_SMALL_LICENSE;
    const maxRuns: AutocannonResult[] = [];
    for (let run = 0; run < MAX_RUNS; run++) {
      const count = Math.floor((MAX_PHASE_REQUESTS - used) / (MAX_RUNS - run));
      const r = await load(autocannon, { url: `${server}/v1/activations`, connections: CONNECTIONS, duration: MAX_RUN_SECONDS, bodies: smallBodies(used, count) });
      maxRuns.push(r);
      used = Math.ceil((used + r.sent) / DEVICES_PER_SMALL_LICENSE) * DEVICES_PER_SMALL_LICENSE;
    }
    const byRate = [...maxRuns].sort((a, b) => perSec(a) - perSec(b));
    const activationsMax = byRate[Math.floor(byRate.length / 2)] as AutocannonResult;

    // --- p99 at a fixed offered rate: half the measured maximum (at least 50/s), fresh devices
    const rate = Math.max(50, Math.floor((activationsMax['2xx'] / (activationsMax.elapsedMs / 1000)) * 0.5));
    const rateCount = Math.max(1, Math.min(RATE_RESERVE, MAX_PHASE_REQUESTS + RATE_RESERVE - used, rate * 5));
    const activationsAtRate = await load(autocannon, { url: `${server}/v1/activations`, connections: CONNECTIONS, overallRate: rate, duration: 5, bodies: smallBodies(used, rateCount) });
    used = Math.ceil((used + rateCount) / DEVICES_PER_SMALL_LICENSE) * DEVICES_PER_SMALL_LICENSE;
    const trivialAtRate = await load(autocannon, { url: `${trivial}/`, connections: CONNECTIONS, overallRate: rate, duration: 5 });

    // --- one license filling up (fresh devices)
    const bigBodies = (await makeRequests(BIG_LICENSE_REQUESTS, MAX_REQUESTS)).map((r) => JSON.stringify({ licenseKey: bigLicense.licenseKey, request: r }));
    const bigMax = await load(autocannon, { url: `${server}/v1/activations`, connections: CONNECTIONS, duration: PHASE_SECONDS, bodies: bigBodies });
    await stopAll(children);

    // --- the same server with its activation thread off: everything on the main thread
    writeFileSync(join(dir, 'server.json'), JSON.stringify({ ...serverSettings, activationThread: false }));
    const unthreaded = await spawnListening(children, [resolve('bin/license-server.mjs'), 'start', '--config', join(dir, 'server.json')], dir);
    const unthreadedMax = await load(autocannon, { url: `${unthreaded}/v1/activations`, connections: CONNECTIONS, duration: PHASE_SECONDS, bodies: smallBodies(used, Math.min(UNTHREADED_REQUESTS, MAX_REQUESTS - used)) });
    await stopAll(children);

    // --- a bare ES256 signature, and where an activation's time goes (this process, sequential)
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const input = Buffer.from('x'.repeat(600));
    const bareSign = await measure(() => sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' }), { timeMs: 1500, warmup: 200 });
    const breakdown = await timeBreakdown(dir, keysDir, await makeRequests(BREAKDOWN_REQUESTS, MAX_REQUESTS + BIG_LICENSE_REQUESTS));

    const sample = (r: AutocannonResult, opsPerSec: number): Sample => ({ opsPerSec, p50Ms: r.latency.p50, p99Ms: r.latency.p99, n: r.requests.total });
    const statuses = (r: AutocannonResult): string =>
      Object.entries(r.statusCodeStats).map(([s, v]) => `${s}: ${v.count}`).join(', ') + (r.errors ? `, socket errors: ${r.errors}` : '') + (r.timeouts ? `, timeouts: ${r.timeouts}` : '');
    const achieved = perSec(activationsMax);
    return {
      title: 'Online activations over HTTP',
      rows: [
        {
          name: `max throughput, ${CONNECTIONS} connections (2xx/s)`,
          subject: `POST /v1/activations (new device, free seat; ${DEVICES_PER_SMALL_LICENSE} per license)`,
          subjectSample: sample(activationsMax, achieved),
          baseline: 'trivial fastify GET → {}',
          baselineSample: sample(trivialMax, perSec(trivialMax)),
        },
        {
          name: `max throughput, ${CONNECTIONS} connections (2xx/s)`,
          subject: 'POST /v1/activations, seat and signature on the activation thread (default)',
          subjectSample: sample(activationsMax, achieved),
          baseline: 'the same, activationThread false (all on the main thread)',
          baselineSample: sample(unthreadedMax, perSec(unthreadedMax)),
        },
        {
          name: 'max throughput vs one signature',
          subject: 'POST /v1/activations',
          subjectSample: sample(activationsMax, achieved),
          baseline: 'crypto.sign ES256 (bare)',
          baselineSample: bareSign,
        },
        {
          name: `max throughput, one license filling up to ${bigMax['2xx']} seats`,
          subject: 'POST /v1/activations (new device, free seat)',
          subjectSample: sample(bigMax, perSec(bigMax)),
          baseline: 'trivial fastify GET → {}',
          baselineSample: sample(trivialMax, perSec(trivialMax)),
        },
        {
          name: `latency at a fixed ${rate}/s offered`,
          subject: 'POST /v1/activations',
          subjectSample: sample(activationsAtRate, perSec(activationsAtRate)),
          baseline: `trivial fastify GET at ${rate}/s`,
          baselineSample: sample(trivialAtRate, perSec(trivialAtRate)),
          note: 'compare the p99 columns',
        },
        {
          name: 'one activation, in process, no HTTP',
          subject: `domain activate, ${DEVICES_PER_SMALL_LICENSE} per license (SQLite synchronous=FULL)`,
          subjectSample: breakdown.activate,
          baseline: 'crypto.sign ES256 (bare)',
          baselineSample: bareSign,
        },
        {
          name: `one activation on a license holding ${breakdown.heldSeats} seats`,
          subject: 'domain activate',
          subjectSample: breakdown.activateCrowded,
          baseline: `domain activate, ${DEVICES_PER_SMALL_LICENSE} per license`,
          baselineSample: breakdown.activate,
        },
        {
          name: 'one SQLite write commit, same disk',
          subject: 'synchronous=FULL (as the server)',
          subjectSample: breakdown.commitFull,
          baseline: 'synchronous=NORMAL',
          baselineSample: breakdown.commitNormal,
        },
      ],
      extra: [
        `Activations: ${Math.round(achieved)}/s successful with small licenses (the median of ${MAX_RUNS} runs of ${MAX_RUN_SECONDS} s: ${maxRuns.map((r) => Math.round(perSec(r))).join(', ')}/s), ${Math.round(perSec(bigMax))}/s on one license filling up, against a target of ${TARGET_PER_SECOND}/s (${achieved >= TARGET_PER_SECOND ? 'met' : 'NOT met'}). Statuses at max load: ${statuses(activationsMax)}; one big license: ${statuses(bigMax)}; at the fixed rate: ${statuses(activationsAtRate)}.`,
        `Requests: made up front, each a distinct device with its own key: ${MAX_REQUESTS} for ${Math.ceil(MAX_REQUESTS / DEVICES_PER_SMALL_LICENSE)} licenses of ${SMALL_SEATS} seats (the max, fixed-rate and unthreaded phases), ${BIG_LICENSE_REQUESTS} for one license of as many seats; ${MAX_RUNS} runs of ${MAX_RUN_SECONDS} s at max load on small licenses after a ${WARMUP_SECONDS} s warm-up, ${PHASE_SECONDS} s for the big license and for the unthreaded server, 5 s at the fixed rate. The server is \`license-server start\` (tsx) with logLevel warn and the rate limit relaxed by its config file; autocannon runs in a worker thread of the bench process. Without its activation thread the same server made ${Math.round(perSec(unthreadedMax))}/s (${statuses(unthreadedMax)}).`,
        `Where the time goes (sequential, in process): activate ${fmtMs(1000 / breakdown.activate.opsPerSec)} ms mean (${fmtMs(breakdown.activate.p50Ms)} p50), of which a durable commit is ${fmtMs(1000 / breakdown.commitFull.opsPerSec)} ms mean (synchronous=FULL; ${fmtMs(1000 / breakdown.commitNormal.opsPerSec)} ms with NORMAL) and a bare ES256 signature ${fmtMs(1000 / bareSign.opsPerSec)} ms. Sequential activations pay one fsync each; under concurrent load the SQLite storage commits the transactions that queued meanwhile together (group commit: one fsync per batch, on the event loop). On a license already holding ${breakdown.heldSeats} seats one activation takes ${fmtMs(1000 / breakdown.activateCrowded.opsPerSec)} ms: activate reads only the seats sharing a component hash with the request (the seat index), not every seat of the license.`,
      ],
    };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
  children.length = 0;
}

const TRIVIAL_SERVER = `
import fastify from 'fastify';
const app = fastify({ logger: false });
app.get('/', async () => ({}));
await app.listen({ host: '127.0.0.1', port: 0 });
console.log('listening on http://127.0.0.1:' + app.server.address().port);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;


/**
 * One autocannon phase, run in a worker thread so that the load generator has a core of its
 * own; with bodies, each request takes the next body once (never repeated).
 */
async function load(autocannon: Autocannon, o: { url: string; connections: number; duration: number; overallRate?: number; bodies?: readonly string[] }): Promise<AutocannonResult> {
  const worker = new Worker(LOAD_WORKER, { eval: true, workerData: { autocannonPath: autocannon.path, ...o } });
  try {
    const [result] = (await once(worker, 'message')) as [AutocannonResult];
    return result;
  } finally {
    await worker.terminate();
  }
}

const LOAD_WORKER = `
const { parentPort, workerData: o } = require('node:worker_threads');
const autocannon = require(o.autocannonPath);
let next = 0;
const bodies = o.bodies;
const opts = {
  url: o.url,
  connections: o.connections,
  duration: o.duration,
  ...(o.overallRate ? { overallRate: o.overallRate } : {}),
  ...(bodies
    ? {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        amount: bodies.length,
        requests: [{ setupRequest: (req) => ({ ...req, method: 'POST', body: bodies[next++ % bodies.length] }) }],
      }
    : {}),
};
const run = autocannon(opts);
// autocannon's own duration is counted in whole seconds when amount ends a run: time the phase
// here, from the start to the last response.
const started = performance.now();
let last = started;
run.on('response', () => { last = performance.now(); });
// amount overrides duration in autocannon: bound the phase in time ourselves.
const timer = setTimeout(() => run.stop(), o.duration * 1000);
run.then((result) => {
  clearTimeout(timer);
  // off the main thread autocannon hands back raw histograms for a parent to aggregate
  const out = JSON.parse(JSON.stringify(autocannon.aggregateResult([result], opts)));
  out.elapsedMs = last - started;
  out.sent = next;
  parentPort.postMessage(out);
}, (err) => { throw err; });
`;

/** n activation requests of devices first, first + 1, …: distinct hardware, distinct device keys. */
async function makeRequests(n: number, first: number): Promise<unknown[]> {
  const key = fingerprintKey(ISSUER);
  const out: unknown[] = [];
  for (let i = first; i < first + n; i++) {
    const components = Object.fromEntries(
      Object.entries({ dmi_uuid: `4c4c4544-0000-1000-8000-${String(i).padStart(12, '0')}`, board_serial: `B-${i}`, storage_id: `D-${i}`, mac: `02:00:00:${hex2(i >> 16)}:${hex2(i >> 8)}:${hex2(i)}`, machine_id: `m-${i}` }).map(([name, v]) => [name, hashComponent(key, name, v)]),
    );
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { x, y } = publicKey.export({ format: 'jwk' });
    const devicePublicKey = { kty: 'EC' as const, crv: 'P-256' as const, x: x ?? '', y: y ?? '' };
    out.push({
      type: 'kiosk-activation-request',
      v: 1,
      issuer: ISSUER,
      deviceId: computeDeviceId(components),
      components,
      devicePublicKey,
      jkt: await calculateJwkThumbprint(devicePublicKey, 'sha256'),
      platform: { arch: 'x64', virtualization: null, container: null },
      agentVersion: '0.1.0-bench',
    });
  }
  return out;
}

const hex2 = (n: number): string => (n & 0xff).toString(16).padStart(2, '0');
const fmtMs = (ms: number): string => (ms >= 10 ? ms.toFixed(1) : ms.toPrecision(2));

/** The domain alone (no HTTP), and one durable commit with FULL vs NORMAL, on the bench's disk. */
async function timeBreakdown(dir: string, keysDir: string, requests: readonly unknown[]): Promise<{ activate: Sample; activateCrowded: Sample; heldSeats: number; commitFull: Sample; commitNormal: Sample }> {
  const dataDir = join(dir, 'breakdown');
  const config = resolveServerConfig({ flags: { 'data-dir': dataDir, keys: keysDir }, env: {}, cwd: dir });
  const ctx = createServerContext(config, {}, { stdout() {}, stderr() {}, env: {}, cwd: dir });
  try {
    const deps = await ctx.issuanceDeps();
    const small: string[] = [];
    for (let k = 0; k < 250; k++) small.push((await createLicense(deps, { tenant: 'bench', features: [], maxDevices: SMALL_SEATS, days: 30, actor: 'bench' })).licenseKey);
    let i = 0;
    const next = (): unknown => requests[i++];
    const one = await measure(() => activate(deps, { licenseKey: small[Math.floor(i / DEVICES_PER_SMALL_LICENSE)] ?? '', request: next(), mode: 'online', actor: 'bench' }), { timeMs: 1500, warmup: 16, maxN: 250 * DEVICES_PER_SMALL_LICENSE - 16 });
    const big = await createLicense(deps, { tenant: 'bench', features: [], maxDevices: 10_000, days: 30, actor: 'bench' });
    const heldSeats = 1000;
    for (let k = 0; k < heldSeats; k++) await activate(deps, { licenseKey: big.licenseKey, request: next(), mode: 'online', actor: 'bench' });
    const crowded = await measure(() => activate(deps, { licenseKey: big.licenseKey, request: next(), mode: 'online', actor: 'bench' }), { timeMs: 1000, warmup: 2, maxN: 50 });
    const commit = (synchronous: 'FULL' | 'NORMAL'): Promise<Sample> => {
      const db = new Database(join(dir, `commit-${synchronous}.db`));
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${synchronous}`);
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      const value = 'x'.repeat(1200); // about one activation's rows
      return measure(() => {
        db.exec('BEGIN IMMEDIATE');
        insert.run(value);
        db.exec('COMMIT');
      }, { timeMs: 1500, warmup: 20 }).finally(() => db.close());
    };
    return { activate: one, activateCrowded: crowded, heldSeats, commitFull: await commit('FULL'), commitNormal: await commit('NORMAL') };
  } finally {
    await ctx.close();
  }
}
