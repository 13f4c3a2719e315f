// What every SyncTransport (the server's ingest and publish side) must do, on a real broker:
// retained messages, QoS 1 delivery with the sender's identity, per-device reply routing,
// ordering per device, and a working path after reconnects. Run by one
// *-transport.contract.test.ts per implementation.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { topics } from '../../common/sync-messages.ts';
import type { InboundMessage, SyncTransport } from '../../license-server/src/domain/sync-transport.ts';
import type { TestMqttClient } from '../helpers/mqtt-device.ts';

export interface TransportHarness {
  readonly transport: SyncTransport;
  /** A device client (MQTT 3.1.1, QoS 1) with whatever credentials the broker wants. */
  device(tenant: string, deviceId: string): Promise<TestMqttClient>;
  /** Cuts the transport's own connection (outside brokers); absent when there is none. */
  cutTransportConnection?(): void;
  dispose(): Promise<void>;
}

const deviceId = (): string => randomBytes(16).toString('hex');
const tenantId = (): string => `t-${randomBytes(5).toString('hex')}`;

/** Collects inbound messages; waits for a count with a bounded timeout. */
function collector(): { handler: (m: InboundMessage) => Promise<void>; messages: InboundMessage[]; waitFor(n: number, filter?: (m: InboundMessage) => boolean): Promise<InboundMessage[]> } {
  const messages: InboundMessage[] = [];
  const waiters = new Set<() => void>();
  return {
    messages,
    async handler(m) {
      messages.push(m);
      for (const w of [...waiters]) w();
    },
    waitFor(n, filter = () => true) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const hits = messages.filter(filter);
          if (hits.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hits);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${n} inbound messages (have ${messages.filter(filter).length})`));
        }, 5_000);
        waiters.add(check);
        check();
      });
    },
  };
}

export function describeSyncTransportContract(name: string, makeHarness: () => Promise<TransportHarness>): void {
  describe(`SyncTransport contract: ${name}`, () => {
    it('publishes retained messages that a device subscribing later receives (retain flag set)', async () => {
      const h = await makeHarness();
      try {
        const tenant = tenantId();
        const head = JSON.stringify({ type: 'catalog.head', v: 1, version: 3, checksum: '0'.repeat(64), oldestDeltaFrom: 1 });
        await h.transport.publish(topics.catalogHead(tenant), head, { retain: true });
        const device = await h.device(tenant, deviceId());
        await device.subscribe(`kiosk/v1/${tenant}/catalog/#`);
        const got = await device.waitFor((m) => m.topic === topics.catalogHead(tenant), 5_000, 'the retained head');
        expect(got.retain).toBe(true);
        expect(got.json()).toMatchObject({ version: 3 });
        // a newer retained message replaces it
        await h.transport.publish(topics.catalogHead(tenant), JSON.stringify({ type: 'catalog.head', v: 1, version: 4, checksum: '0'.repeat(64), oldestDeltaFrom: 1 }), { retain: true });
        const late = await h.device(tenant, deviceId());
        await late.subscribe(topics.catalogHead(tenant));
        expect((await late.waitFor((m) => m.topic === topics.catalogHead(tenant))).json()).toMatchObject({ version: 4 });
      } finally {
        await h.dispose();
      }
    });

    it('delivers device messages at QoS 1 with the tenant and device they came from', async () => {
      const h = await makeHarness();
      try {
        const c = collector();
        await h.transport.consume(c.handler);
        const tenant = tenantId();
        const id = deviceId();
        const device = await h.device(tenant, id);
        await device.publish(topics.deviceOrders(tenant, id), '{"type":"order"}');
        await device.publish(topics.deviceReq(tenant, id), '{"type":"catalog.catchup","v":1,"since":0}');
        await device.publish(topics.deviceStatus(tenant, id), '{"type":"status"}', { retain: true });
        const got = await c.waitFor(3, (m) => m.identity.deviceId === id);
        expect(got.map((m) => [m.kind, m.identity.tenant, m.identity.deviceId])).toEqual([
          ['deviceOrders', tenant, id],
          ['deviceReq', tenant, id],
          ['deviceStatus', tenant, id],
        ]);
        expect(got[0]?.payload.toString()).toBe('{"type":"order"}');
      } finally {
        await h.dispose();
      }
    });

    it('routes a reply to the one device it is for', async () => {
      const h = await makeHarness();
      try {
        const tenant = tenantId();
        const [a, b] = [deviceId(), deviceId()];
        const da = await h.device(tenant, a);
        const db = await h.device(tenant, b);
        await da.subscribe(topics.deviceRes(tenant, a));
        await db.subscribe(topics.deviceRes(tenant, b));
        await h.transport.publish(topics.deviceRes(tenant, a), '{"to":"a"}');
        await h.transport.publish(topics.deviceRes(tenant, b), '{"to":"b"}');
        expect((await da.waitFor((m) => m.topic.endsWith('/res'))).json()).toEqual({ to: 'a' });
        expect((await db.waitFor((m) => m.topic.endsWith('/res'))).json()).toEqual({ to: 'b' });
        expect(da.received.filter((m) => m.topic.endsWith('/res'))).toHaveLength(1);
        expect(db.received.filter((m) => m.topic.endsWith('/res'))).toHaveLength(1);
      } finally {
        await h.dispose();
      }
    });

    it('hands one device\'s messages over in order, one at a time', async () => {
      const h = await makeHarness();
      try {
        const seen: number[] = [];
        let inside = 0;
        let overlapped = false;
        const c = collector();
        const tenant = tenantId();
        await h.transport.consume(async (m) => {
          if (m.identity.tenant !== tenant) return; // an outside broker may hold other tests' retained messages
          inside += 1;
          if (inside > 1) overlapped = true;
          await new Promise((r) => setImmediate(r));
          seen.push(Number(m.payload.toString()));
          inside -= 1;
          await c.handler(m);
        });
        const id = deviceId();
        const device = await h.device(tenant, id);
        const n = 60;
        await Promise.all(Array.from({ length: n }, (_, i) => device.publish(topics.deviceOrders(tenant, id), String(i))));
        await c.waitFor(n);
        expect(seen).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(overlapped).toBe(false);
      } finally {
        await h.dispose();
      }
    });

    it('keeps working when a device reconnects, and when the transport\'s connection is cut', async () => {
      const h = await makeHarness();
      try {
        const c = collector();
        const tenant = tenantId();
        await h.transport.consume((m) => (m.identity.tenant === tenant ? c.handler(m) : Promise.resolve()));
        const id = deviceId();
        const first = await h.device(tenant, id);
        await first.publish(topics.deviceOrders(tenant, id), 'before');
        await c.waitFor(1);
        await first.end();
        const again = await h.device(tenant, id);
        await again.subscribe(topics.deviceRes(tenant, id));
        await again.publish(topics.deviceOrders(tenant, id), 'after-device-reconnect');
        await c.waitFor(2);
        if (h.cutTransportConnection) {
          h.cutTransportConnection();
          // publishing while reconnecting is queued by the client and goes out after the reconnect
          await h.transport.publish(topics.deviceRes(tenant, id), '{"after":"cut"}');
          await again.waitFor((m) => m.topic === topics.deviceRes(tenant, id), 10_000, 'the reply after the cut');
          await again.publish(topics.deviceOrders(tenant, id), 'after-transport-reconnect');
          await c.waitFor(3);
        }
        expect(c.messages.map((m) => m.payload.toString())).toEqual(['before', 'after-device-reconnect', ...(h.cutTransportConnection ? ['after-transport-reconnect'] : [])]);
      } finally {
        await h.dispose();
      }
    });
  });
}
