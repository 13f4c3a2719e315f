// The sync bench's broker measures: the embedded broker's raw QoS 1 round trip (the baseline),
// and a price change fanned out to many kiosk connections.
import type { MqttClient } from 'mqtt';
import { topics } from '../common/sync-messages.ts';
import type { Sample } from './harness.ts';
import { sampleOf, withTimeout } from './sync-kit.ts';

export const RAW_SECONDS = 3;
const RAW_MAX = 200_000;
export const RAW_WINDOW = 1_000;
export const PRICE_CHANGES = 5;

// --- (baseline) raw QoS 1 -------------------------------------------------------------------------

/** Publishes 100-byte payloads on the probe's own …/req and receives them back (…/#), RAW_WINDOW in flight. */
export async function rawBroker(client: MqttClient): Promise<Sample> {
  const options = client.options;
  const deviceId = String(options.clientId);
  const tenant = 'probe';
  await client.subscribeAsync(`kiosk/v1/${tenant}/devices/${deviceId}/#`, { qos: 1 });
  const topic = topics.deviceReq(tenant, deviceId);
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let next = 0;
  let stop = false;
  const start = performance.now();
  const done = new Promise<void>((resolveDone) => {
    const pump = (): void => {
      while (!stop && sentAt.size < RAW_WINDOW && next < RAW_MAX) {
        const n = next++;
        const payload = Buffer.alloc(100, 0x2e);
        payload.writeUInt32BE(n, 0);
        sentAt.set(n, performance.now());
        client.publish(topic, payload, { qos: 1 });
      }
      if ((stop || next >= RAW_MAX) && sentAt.size === 0) resolveDone();
    };
    client.on('message', (t, payload) => {
      if (t !== topic) return;
      const n = payload.readUInt32BE(0);
      const t0 = sentAt.get(n);
      if (t0 === undefined) return;
      sentAt.delete(n);
      latencies.push(performance.now() - t0);
      if (!stop && performance.now() - start > RAW_SECONDS * 1000) stop = true;
      pump();
    });
    pump();
  });
  await withTimeout(done, RAW_SECONDS * 1000 + 15_000, 'the raw QoS 1 round trips');
  const elapsed = performance.now() - start;
  client.removeAllListeners('message');
  return sampleOf(latencies, latencies.length / (elapsed / 1000));
}

// --- (c) fan-out ---------------------------------------------------------------------------------

export async function fanOut(kiosks: readonly MqttClient[], change: (priceMinor: number) => Promise<void>): Promise<{ sample: Sample; missed: number }> {
  const latencies: number[] = [];
  let missed = 0;
  let busyMs = 0;
  let deliveries = 0;
  for (let round = 0; round <= PRICE_CHANGES; round++) {
    const priceMinor = 300 + round;
    const got = new Set<MqttClient>();
    const times: number[] = [];
    let t0 = 0;
    const all = new Promise<void>((resolveAll) => {
      for (const c of kiosks) {
        c.removeAllListeners('message');
        c.on('message', (_topic, payload) => {
          if (got.has(c)) return;
          const delta = JSON.parse(payload.toString('utf8')) as { ops?: Array<{ op: string; product?: { priceMinor: number } }> };
          if (!delta.ops?.some((op) => op.op === 'put' && op.product?.priceMinor === priceMinor)) return;
          got.add(c);
          times.push(performance.now() - t0);
          if (got.size === kiosks.length) resolveAll();
        });
      }
    });
    t0 = performance.now();
    await change(priceMinor);
    await withTimeout(all, 15_000, 'the price change on every kiosk').catch(() => undefined);
    if (round === 0) continue; // warm-up
    missed += kiosks.length - got.size;
    latencies.push(...times);
    deliveries += times.length;
    busyMs += Math.max(0, ...times);
  }
  for (const c of kiosks) c.removeAllListeners('message');
  return { sample: sampleOf(latencies, deliveries / (busyMs / 1000)), missed };
}
