// Sync over MQTT (docs/sync-protocol.md), each figure beside a baseline measured in the same run:
// (a) server ingest: orders/s committed (synchronous=FULL) and acked, from many light mqtt.js
//     kiosks speaking the device protocol (real device proofs as passwords, distinct orderIds,
//     a bounded in-flight window each) — ZERO loss asserted: every order acked exactly once and
//     present once in the server's database. Two phases: every other kiosk, then all of them; and
//     where the time goes: the server's CPU share, and the ingest domain alone in this process
//     (no MQTT) as a ceiling;
// (c) a price change from the vendor API to 1,000 kiosk connections subscribed to the tenant's
//     catalog delta: latency from the HTTP request to each kiosk's receipt;
//     both beside the broker's raw QoS 1 throughput: an mqtt.js client publishing 100-byte
//     payloads and receiving them back through the SAME embedded broker (bounded window);
// (b) the kiosk's `POST /v1/orders` → 201 on a real agent (`kiosk-agent run`, durable commit,
//     syncing to the server), beside a trivial fastify POST route, both over fetch.
// The license server is the real bin (`license-server start`) in a child process, so it has a
// core of its own; the load generators (mqtt.js clients) run in this process on the other core.
// Bounded in count and time; loopback only. The measures live beside this file: sync-ingest.ts,
// sync-broker.ts (raw QoS 1, fan-out), sync-kiosk.ts; sync-kit.ts holds the devices and tools.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { connectAsync, type MqttClient } from 'mqtt';
import { topics } from '../common/sync-messages.ts';
import { createServerContext } from '../license-server/src/app.ts';
import { resolveServerConfig } from '../license-server/src/config.ts';
import { activate } from '../license-server/src/domain/activation.ts';
import { createApiToken } from '../license-server/src/domain/api-tokens.ts';
import { createLicense } from '../license-server/src/domain/licenses.ts';
import { ingestOrder } from '../license-server/src/domain/order-ingest.ts';
import { generateKey } from '../license-server/src/signing/key-dir.ts';
import { fmt, type BenchResult } from './harness.ts';
import { procCpuMs, spawnListening } from './child-process.ts';
import { fanOut, PRICE_CHANGES, RAW_WINDOW, rawBroker } from './sync-broker.ts';
import { CEILING_CONCURRENCY, CEILING_PER_DEVICE, INGEST_TENANTS, ingestCeiling, ingestRun, KIOSKS_PER_TENANT, WINDOW, type IngestOutcome } from './sync-ingest.ts';
import { kioskOrders } from './sync-kiosk.ts';
import { freePort, ISSUER, makeDevices, proof, type Device } from './sync-kit.ts';

const INGEST_SECONDS = 8;
/** First a phase with every other kiosk (half as many devices, same window each). */
const HALF_SECONDS = 5;
const FANOUT_KIOSKS = 1_000;
const INGEST_GOAL = 3_200;
const FANOUT_P99_GOAL_MS = 500;


export async function syncBench(): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kiosk-bench-sync-'));
  const children: ChildProcess[] = [];
  const clients: MqttClient[] = [];
  try {
    // --- keys, licenses, activated devices (in process, before the server starts)
    const dataDir = join(dir, 'data');
    const keysDir = join(dataDir, 'keys');
    await generateKey(keysDir, { issuer: ISSUER });
    const config = resolveServerConfig({ flags: { 'data-dir': dataDir }, env: {}, cwd: dir });
    const ctx = createServerContext(config, {}, { stdout() {}, stderr() {}, env: {}, cwd: dir });
    process.stderr.write(`  activating ${INGEST_TENANTS * KIOSKS_PER_TENANT + FANOUT_KIOSKS + 1} devices …\n`);
    const deps = await ctx.deps();
    const issuance = await ctx.issuanceDeps();
    const adminToken = (await createApiToken(deps, { name: 'bench', scopes: ['admin'], actor: 'bench' })).token;
    const enrol = async (tenant: string, count: number, first: number): Promise<Device[]> => {
      const { licenseKey } = await createLicense(deps, { tenant, features: ['pos', 'sync'], maxDevices: count, days: 30, actor: 'bench' });
      const devices = await makeDevices(count, first, tenant);
      for (let i = 0; i < devices.length; i += 50) {
        await Promise.all(
          devices.slice(i, i + 50).map(async (d) => {
            d.token = (await activate(issuance, { licenseKey, request: d.request, mode: 'online', actor: 'bench' })).token;
          }),
        );
      }
      return devices;
    };
    const ingestTenants = Array.from({ length: INGEST_TENANTS }, (_, t) => `ingest-${t}`);
    const ingestDevices: Device[] = [];
    for (const [t, tenant] of ingestTenants.entries()) ingestDevices.push(...(await enrol(tenant, KIOSKS_PER_TENANT, t * KIOSKS_PER_TENANT)));
    const fanDevices = await enrol('fan', FANOUT_KIOSKS, 10_000);
    const [probe] = await enrol('probe', 1, 20_000);
    const agentLicense = await createLicense(deps, { tenant: 'kiosk', features: ['pos', 'sync'], maxDevices: 1, days: 30, actor: 'bench' });
    await ctx.close();

    // --- the license server: the real bin, its own process
    const mqttPort = await freePort();
    const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
    writeFileSync(join(dir, 'server.json'), JSON.stringify({ dataDir, port: 0, mqttPort, logLevel: 'error', rateLimit: { activations: { burst: 1000, perMinute: 100_000 } } }));
    const server = await spawnListening(children, [resolve('bin/license-server.mjs'), 'start', '--config', join(dir, 'server.json')], dir);
    const serverPid = children[0]!.pid!;
    const vendor = async (path: string, body: unknown): Promise<void> => {
      const res = await fetch(new URL(path, server), { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    };
    for (const tenant of [...ingestTenants, 'fan', 'kiosk']) {
      await vendor(`/v1/tenants/${tenant}/catalog/products`, { sku: 'ESP-01', name: 'Espresso', priceMinor: 250, currency: 'EUR', taxRateBp: 700, active: true });
      await vendor(`/v1/tenants/${tenant}/catalog/products/ESP-01/stock`, { level: 1_000_000_000 });
    }
    const connect = async (d: Device): Promise<MqttClient> => {
      const client = await connectAsync(mqttUrl, { clientId: d.deviceId, username: d.deviceId, password: await proof(d), protocolVersion: 4, clean: true, reconnectPeriod: 0, keepalive: 60, connectTimeout: 20_000 });
      clients.push(client);
      return client;
    };

    // --- baseline: raw QoS 1 through the same broker
    process.stderr.write('  raw broker QoS 1 …\n');
    const raw = await rawBroker(await connect(probe!));
    process.stderr.write(`    ${Math.round(raw.opsPerSec)} msg/s, p50 ${fmt(raw.p50Ms)} ms, p99 ${fmt(raw.p99Ms)} ms\n`);

    // --- (a) ingest: half the kiosks, then all of them
    const connected = await Promise.all(ingestDevices.map(async (d) => ({ d, client: await connect(d) })));
    const seqs = new Map<string, number>();
    const phase = async (kiosks: typeof connected, label: string, seconds: number): Promise<IngestOutcome & { serverCpuPct: number; selfCpuPct: number }> => {
      process.stderr.write(`  ingest: ${kiosks.length} kiosks × window ${WINDOW}, ${seconds} s …\n`);
      const cpu0 = { server: procCpuMs(serverPid), self: process.cpuUsage() };
      const r = await ingestRun(kiosks, label, seconds, seqs);
      const cpu1 = { server: procCpuMs(serverPid), self: process.cpuUsage(cpu0.self) };
      const serverCpuPct = ((cpu1.server - cpu0.server) / r.elapsedMs) * 100;
      const selfCpuPct = ((cpu1.self.user + cpu1.self.system) / 1000 / r.elapsedMs) * 100;
      process.stderr.write(`    ${Math.round(r.sample.opsPerSec)} orders/s, ack p50 ${fmt(r.sample.p50Ms)} ms, p99 ${fmt(r.sample.p99Ms)} ms; server CPU ${Math.round(serverCpuPct)}%, bench CPU ${Math.round(selfCpuPct)}%\n`);
      return { ...r, serverCpuPct, selfCpuPct };
    };
    const half = await phase(connected.filter((_, i) => i % 2 === 0), 'h', HALF_SECONDS);
    const ingest = await phase(connected, 'f', INGEST_SECONDS);
    const { serverCpuPct, selfCpuPct } = ingest;
    for (const c of clients.splice(0)) await c.endAsync(true).catch(() => undefined);

    // --- (c) price change → 1,000 kiosks
    process.stderr.write(`  fan-out: connecting ${FANOUT_KIOSKS} kiosks …\n`);
    const fanClients: MqttClient[] = [];
    for (let i = 0; i < fanDevices.length; i += 50) {
      fanClients.push(...(await Promise.all(fanDevices.slice(i, i + 50).map(async (d) => {
        const c = await connect(d);
        const [granted] = await c.subscribeAsync(topics.catalogDelta('fan'), { qos: 1 });
        if (granted?.qos !== 1) throw new Error(`delta subscription refused: ${JSON.stringify(granted)}`);
        return c;
      }))));
    }
    const fan = await fanOut(fanClients, (priceMinor) => vendor('/v1/tenants/fan/catalog/products/ESP-01/price', { priceMinor }));
    process.stderr.write(`    p50 ${fmt(fan.sample.p50Ms)} ms, p99 ${fmt(fan.sample.p99Ms)} ms, missed ${fan.missed}\n`);
    for (const c of clients.splice(0)) await c.endAsync(true).catch(() => undefined);

    // --- (b) the kiosk's local API on a real agent
    process.stderr.write('  kiosk POST /v1/orders …\n');
    const posting = await kioskOrders(dir, children, { serverUrl: server, mqttUrl, licenseKey: agentLicense.licenseKey, trustedKeys: join(keysDir, 'jwks.json') });

    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : undefined)));

    // --- zero loss: every order acked once (above) and present once in the server's database
    const db = new Database(join(dataDir, 'server.db'), { readonly: true });
    let stored: { n: number; uniq: number };
    let storedIds: Set<string>;
    try {
      const marks = ingestTenants.map(() => '?').join(', ');
      stored = db.prepare(`SELECT COUNT(*) AS n, COUNT(DISTINCT order_id) AS uniq FROM sync_orders WHERE tenant IN (${marks}) AND status = 'accepted'`).get(...ingestTenants) as { n: number; uniq: number };
      storedIds = new Set((db.prepare(`SELECT order_id AS id FROM sync_orders WHERE tenant IN (${marks})`).all(...ingestTenants) as Array<{ id: string }>).map((r) => r.id));
    } finally {
      db.close();
    }
    process.stderr.write('  in-process ingest ceiling …\n');
    const ceiling = await ingestCeiling(dir, keysDir);
    process.stderr.write(`    ${Math.round(ceiling.concurrent.opsPerSec)} orders/s with ${CEILING_CONCURRENCY} at once, ${Math.round(ceiling.perDevice.opsPerSec)}/s with ${CEILING_PER_DEVICE}, ${Math.round(ceiling.sequential.opsPerSec)}/s one at a time\n`);

    const sent = new Set([...half.sentIds, ...ingest.sentIds]);
    const missing = [...sent].filter((id) => !storedIds.has(id)).length;
    const unacked = half.unacked + ingest.unacked;
    const duplicateAcks = half.duplicateAcks + ingest.duplicateAcks;
    const notAccepted = half.notAccepted + ingest.notAccepted;
    const loss = unacked + duplicateAcks + notAccepted + missing + (stored.n - sent.size) + (stored.n - stored.uniq) + (half.sentIds.size + ingest.sentIds.size - sent.size);
    if (loss !== 0) {
      throw new Error(`sync bench: LOSS — sent ${sent.size}, unacked ${unacked}, acked twice ${duplicateAcks}, not accepted ${notAccepted}, missing in the DB ${missing}, rows ${stored.n} (${stored.uniq} distinct)`);
    }

    const ingestRate = ingest.sample.opsPerSec;
    return {
      title: 'Sync over MQTT (embedded aedes broker, QoS 1)',
      rows: [
        {
          name: `server ingest, ${ingestDevices.length} kiosks × ${WINDOW} in flight (orders acked/s; ack latency)`,
          subject: 'order → durable insert + stock ledger → ack',
          subjectSample: ingest.sample,
          baseline: `raw QoS 1 round trip, 100-byte payloads, ${RAW_WINDOW} in flight, same broker`,
          baselineSample: raw,
        },
        {
          name: `server ingest, every other kiosk: ${Math.ceil(ingestDevices.length / 2)} × ${WINDOW} in flight`,
          subject: 'order → durable insert + stock ledger → ack',
          subjectSample: half.sample,
          baseline: 'raw QoS 1 round trip, same broker',
          baselineSample: raw,
        },
        {
          name: `price change → ${FANOUT_KIOSKS} kiosks (deliveries/s; latency HTTP request → kiosk received)`,
          subject: 'POST …/price → catalog.delta on each connection',
          subjectSample: fan.sample,
          baseline: 'raw QoS 1 round trip, same broker',
          baselineSample: raw,
        },
        {
          name: `ingest ceiling in process, no MQTT, ${CEILING_CONCURRENCY} at once (orders/s; per-order latency)`,
          subject: 'domain ingestOrder (SQLite synchronous=FULL, group commit)',
          subjectSample: ceiling.concurrent,
          baseline: 'raw QoS 1 round trip, same broker',
          baselineSample: raw,
        },
        {
          name: 'kiosk POST /v1/orders → 201, sequential',
          subject: 'kiosk-agent run local API (order + outbox, synchronous=FULL)',
          subjectSample: posting.orders,
          baseline: 'trivial fastify POST → 201 {}',
          baselineSample: posting.trivial,
          note: 'compare the p50/p99 columns',
        },
      ],
      extra: [
        `Ingest: ${Math.round(ingestRate)} orders/s committed and acked with ${ingestDevices.length} kiosks (goal ${INGEST_GOAL}/s: ${ingestRate >= INGEST_GOAL ? 'met' : 'NOT met'}; ${ingest.sentIds.size} orders in ${fmt(ingest.elapsedMs / 1000)} s, ${INGEST_TENANTS} tenants), ${Math.round(half.sample.opsPerSec)}/s with half of them (server CPU ${Math.round(half.serverCpuPct)}% of a core). Zero loss verified over both phases (${sent.size} orders): every order acked exactly once (accepted) and present once in the server's database.`,
        `Where the time goes during ingest: license server process ${Math.round(serverCpuPct)}% of one core, this process (${ingestDevices.length} mqtt.js kiosks) ${Math.round(selfCpuPct)}%; 2 cores in all. Each accepted order is one SQLite transaction (order row + stock ledger + a catalog version) and makes a retained head and a delta for its tenant; the raw broker moves ${Math.round(raw.opsPerSec)} msg/s on the same socket path, so ingest runs at ${fmt((ingestRate / raw.opsPerSec) * 100)}% of the broker's raw rate. The ingest domain alone (in this process, no MQTT, no publishing) commits ${Math.round(ceiling.concurrent.opsPerSec)} orders/s with ${CEILING_CONCURRENCY} in flight, ${Math.round(ceiling.perDevice.opsPerSec)}/s with ${CEILING_PER_DEVICE} (one per kiosk: the server handles a device's orders one after another, so at most one per kiosk is in a group commit) and ${Math.round(ceiling.sequential.opsPerSec)}/s one at a time (one fsync each). ${serverCpuPct >= 90 ? `With ${ingestDevices.length} kiosks the server's core is the limit (${Math.round(serverCpuPct)}% CPU): the broker, decoding, acks and per-order catalog publishing (head + delta) on one event loop cost more than the commit.` : `The server was not CPU-bound (${Math.round(serverCpuPct)}%): the rest of its event loop's time is blocked in fsync (group commit runs on the loop), and a device's orders are handled one after another.`} Load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (other work on the machine shows here).`,
        `Price change fan-out: p50 ${fmt(fan.sample.p50Ms)} ms, p99 ${fmt(fan.sample.p99Ms)} ms over ${PRICE_CHANGES} changes × ${FANOUT_KIOSKS} connections (goal p99 < ${FANOUT_P99_GOAL_MS} ms: ${fan.sample.p99Ms < FANOUT_P99_GOAL_MS ? 'met' : 'NOT met'}); ${fan.missed} deliveries missed. The 1,000 connections share this process's event loop, so the tail includes their own parsing.`,
        `Kiosk order: p50 ${fmt(posting.orders.p50Ms)} ms / p99 ${fmt(posting.orders.p99Ms)} ms (${posting.orders.n} orders) vs a trivial fastify route ${fmt(posting.trivial.p50Ms)} / ${fmt(posting.trivial.p99Ms)} ms; the difference is the agent's transaction (price, license, outbox row) and its fsync.`,
        'The license server is `license-server start` (tsx, log level error) in a child process with its own core; the load generators run in the bench process.',
      ],
    };
  } finally {
    for (const c of clients) c.end(true);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
