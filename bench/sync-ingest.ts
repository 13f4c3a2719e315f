// The sync bench's ingest measures: kiosks publishing orders over MQTT to the real server with
// a bounded window each, every ack checked (loss, duplicates), and the ingest domain alone in
// process (no MQTT) as a ceiling.
import type { MqttClient } from 'mqtt';
import { join } from 'node:path';
import { topics } from '../common/sync-messages.ts';
import { createServerContext } from '../license-server/src/app.ts';
import { resolveServerConfig } from '../license-server/src/config.ts';
import { DEFAULT_KEEP_VERSIONS } from '../license-server/src/domain/catalog.ts';
import { ingestOrder } from '../license-server/src/domain/order-ingest.ts';
import { measure, type Sample } from './harness.ts';
import { sampleOf, withTimeout, type Device } from './sync-kit.ts';

export const INGEST_TENANTS = 4;
export const KIOSKS_PER_TENANT = 50;
/** Orders in flight per ingest kiosk (the agent's default window is 16). */
export const WINDOW = 16;
export const INGEST_MAX_ORDERS = 100_000;
/** In-process ceiling of the ingest domain: orders, and how many at once. */
export const CEILING_ORDERS = 12_000;
export const CEILING_CONCURRENCY = 1_600;
/** …and one order per ingest kiosk at once: what the server's per-device ordering allows. */
export const CEILING_PER_DEVICE = INGEST_TENANTS * KIOSKS_PER_TENANT;

// --- (a) ingest ----------------------------------------------------------------------------------

export interface IngestOutcome {
  readonly sample: Sample;
  readonly elapsedMs: number;
  readonly sentIds: Set<string>;
  readonly unacked: number;
  readonly duplicateAcks: number;
  readonly notAccepted: number;
}

export async function ingestRun(kiosks: ReadonlyArray<{ d: Device; client: MqttClient }>, label: string, seconds: number, seqs: Map<string, number>): Promise<IngestOutcome> {
  const latencies: number[] = [];
  const sentIds = new Set<string>();
  const acked = new Set<string>();
  let duplicateAcks = 0;
  let notAccepted = 0;
  let total = 0;
  let stop = false;
  const inflightOf = new Map<MqttClient, Map<string, number>>();
  const start = performance.now();
  let lastAckAt = start;
  const allDone: Promise<void>[] = [];
  for (const [k, { d, client }] of kiosks.entries()) {
    const res = topics.deviceRes(d.tenant, d.deviceId);
    const ordersTopic = topics.deviceOrders(d.tenant, d.deviceId);
    await client.subscribeAsync(res, { qos: 1 });
    const inflight = new Map<string, number>();
    inflightOf.set(client, inflight);
    let seq = seqs.get(d.deviceId) ?? 0;
    allDone.push(
      new Promise<void>((resolveDone) => {
        const pump = (): void => {
          while (!stop && inflight.size < WINDOW && total < INGEST_MAX_ORDERS) {
            seq += 1;
            seqs.set(d.deviceId, seq);
            total += 1;
            const orderId = `bench-${label}-${k}-${seq}`;
            const order = {
              type: 'order', v: 1, orderId, seq, kind: 'sale', createdAt: new Date().toISOString(), catalogVersion: 2, currency: 'EUR',
              lines: [{ sku: 'ESP-01', qty: 1, unitPriceMinor: 250, taxMinor: 16 }], totalMinor: 250, taxMinor: 16,
            };
            sentIds.add(orderId);
            inflight.set(orderId, performance.now());
            client.publish(ordersTopic, JSON.stringify(order), { qos: 1 });
          }
          if ((stop || total >= INGEST_MAX_ORDERS) && inflight.size === 0) resolveDone();
        };
        client.on('message', (topic, payload) => {
          if (topic !== res) return;
          const ack = JSON.parse(payload.toString('utf8')) as { type: string; orderId: string; status: string };
          if (ack.type !== 'ack') return;
          const t0 = inflight.get(ack.orderId);
          if (t0 === undefined || acked.has(ack.orderId)) {
            duplicateAcks += 1;
            return;
          }
          inflight.delete(ack.orderId);
          acked.add(ack.orderId);
          if (ack.status !== 'accepted') notAccepted += 1;
          const now = performance.now();
          lastAckAt = now;
          latencies.push(now - t0);
          if (!stop && now - start > seconds * 1000) stop = true;
          pump();
        });
        pump();
      }),
    );
  }
  // bounded: the time of the run plus a drain of what is in flight
  const timer = setTimeout(() => void (stop = true), seconds * 1000 + 100);
  await withTimeout(Promise.all(allDone), seconds * 1000 + 30_000, 'every ingest ack').catch(() => undefined);
  clearTimeout(timer);
  for (const { client } of kiosks) client.removeAllListeners('message');
  const elapsedMs = lastAckAt - start;
  const unacked = [...inflightOf.values()].reduce((n, m) => n + m.size, 0);
  return { sample: sampleOf(latencies, acked.size / (elapsedMs / 1000)), elapsedMs, sentIds, unacked, duplicateAcks, notAccepted };
}

/** ingestOrder alone on a fresh database (same keys): many at once (group commit), then one at a time. */
export async function ingestCeiling(dir: string, keysDir: string): Promise<{ concurrent: Sample; perDevice: Sample; sequential: Sample }> {
  const config = resolveServerConfig({ flags: { 'data-dir': join(dir, 'ceiling'), keys: keysDir }, env: {}, cwd: dir });
  const ctx = createServerContext(config, {}, { stdout() {}, stderr() {}, env: {}, cwd: dir });
  try {
    const deps = { ...(await ctx.issuanceDeps()), catalog: { keepVersions: DEFAULT_KEEP_VERSIONS } };
    let n = 0;
    const one = async (device: number): Promise<void> => {
      n += 1;
      const order = {
        type: 'order' as const, v: 1 as const, orderId: `ceiling-${n}`, seq: n, kind: 'sale' as const, createdAt: new Date().toISOString(), catalogVersion: 1, currency: 'EUR',
        lines: [{ sku: 'ESP-01', qty: 1, unitPriceMinor: 250, taxMinor: 16 }], totalMinor: 250, taxMinor: 16,
      };
      const r = await ingestOrder(deps, { tenant: `ceiling-${device % INGEST_TENANTS}`, deviceId: `d${String(device).padStart(31, '0')}` }, order);
      if (r.ack.status !== 'accepted') throw new Error(`ceiling: ${JSON.stringify(r.ack)}`);
    };
    for (let i = 0; i < 50; i++) await one(i); // warm-up
    const many = async (concurrency: number, count: number): Promise<Sample> => {
      const latencies: number[] = [];
      let next = 0;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async (_, w) => {
          while (next < count) {
            next += 1;
            const t0 = performance.now();
            await one(w % CEILING_PER_DEVICE);
            latencies.push(performance.now() - t0);
          }
        }),
      );
      return sampleOf(latencies, latencies.length / ((performance.now() - start) / 1000));
    };
    const concurrent = await many(CEILING_CONCURRENCY, CEILING_ORDERS);
    const perDevice = await many(CEILING_PER_DEVICE, CEILING_ORDERS / 2);
    let k = 0;
    const sequential = await measure(() => one(k++ % 100), { timeMs: 1000, warmup: 5, maxN: 2_000 });
    return { concurrent, perDevice, sequential };
  } finally {
    await ctx.close();
  }
}
