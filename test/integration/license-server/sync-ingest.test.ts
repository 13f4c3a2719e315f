// Order ingest over the embedded broker: idempotent by (tenant, orderId), a durable commit
// before the ack, stock debited in the same transaction, malformed payloads dropped with a log
// line while the broker keeps running.
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { topics } from '../../../common/sync-messages.ts';
import type { ServerStorage } from '../../../license-server/src/domain/server-storage.ts';
import { orderMessage, syncFixture } from './helpers/sync-fixture.ts';

describe('order ingest', () => {
  it('accepts an order once: the same order again is a duplicate with the same stockVersion; one row; head and delta on the wire', async () => {
    const f = await syncFixture();
    const d = await f.enrol(1);
    const client = await f.connectReady(d);
    const order = orderMessage();
    const ordersTopic = topics.deviceOrders(d.tenant, d.device.deviceId);
    await client.publish(ordersTopic, JSON.stringify(order));
    const first = (await client.waitFor((m) => m.topic.endsWith('/res'))).json();
    expect(first).toEqual({ type: 'ack', v: 1, orderId: order.orderId, status: 'accepted', stockVersion: 1 });
    const delta = await client.waitFor((m) => m.topic === topics.catalogDelta(d.tenant), 5_000, 'the stock delta');
    expect(delta.json()).toEqual({ type: 'catalog.delta', v: 1, from: 1, to: 1, ops: [{ op: 'stock', sku: 'ESP-01', level: -2 }] });
    await client.waitFor((m) => m.topic === topics.catalogHead(d.tenant) && m.json<{ version: number }>().version === 1, 5_000, 'head 1');

    await client.publish(ordersTopic, JSON.stringify(order));
    const acks = async (): Promise<unknown[]> => {
      await client.waitFor((m) => m.topic.endsWith('/res') && m.json<{ status: string }>().status === 'duplicate');
      return client.received.filter((m) => m.topic.endsWith('/res')).map((m) => m.json());
    };
    expect((await acks())[1]).toEqual({ type: 'ack', v: 1, orderId: order.orderId, status: 'duplicate', stockVersion: 1 });
    const storage = await f.ctx.storage();
    expect(await storage.listOrders(d.tenant, { limit: 10 })).toHaveLength(1);
    expect(await storage.getStockLevel(d.tenant, 'ESP-01')).toBe(-2);
    expect((await storage.getOrder(d.tenant, order.orderId as string))?.oversold).toBe(true);

    // a void credits the stock back
    const voidOrder = orderMessage({ kind: 'void', refOrderId: order.orderId, seq: 2 });
    await client.publish(ordersTopic, JSON.stringify(voidOrder));
    const voidAck = await client.waitFor((m) => m.topic.endsWith('/res') && m.json<{ orderId: string }>().orderId === voidOrder.orderId);
    expect(voidAck.json()).toMatchObject({ status: 'accepted', stockVersion: 2 });
    expect(await storage.getStockLevel(d.tenant, 'ESP-01')).toBe(0);
  });

  it('no ack without a commit: a failing commit sends nothing; the resend is accepted', async () => {
    const f = await syncFixture();
    const d = await f.enrol(1);
    const client = await f.connectReady(d);
    const storage = (await f.ctx.storage()) as ServerStorage & { transaction: ServerStorage['transaction'] };
    const original = storage.transaction;
    let failNext = true;
    storage.transaction = ((fn) =>
      original(async (tx) => {
        const result = await fn(tx);
        if (failNext) {
          failNext = false;
          throw new Error('simulated: the commit failed (disk full)');
        }
        return result;
      })) as ServerStorage['transaction'];
    const order = orderMessage();
    await client.publish(topics.deviceOrders(d.tenant, d.device.deviceId), JSON.stringify(order));
    await f.waitForLog(/simulated: the commit failed/);
    await f.sync.service.idle();
    expect(client.received.filter((m) => m.topic.endsWith('/res'))).toEqual([]);
    expect(await storage.getOrder(d.tenant, order.orderId as string)).toBeUndefined();

    await client.publish(topics.deviceOrders(d.tenant, d.device.deviceId), JSON.stringify(order));
    expect((await client.waitFor((m) => m.topic.endsWith('/res'))).json()).toMatchObject({ status: 'accepted', stockVersion: 1 });
    storage.transaction = original;
  });

  it('drops malformed payloads with a log line and a counter; the broker keeps serving; the database stays intact', async () => {
    const f = await syncFixture();
    const d = await f.enrol(1);
    const client = await f.connectReady(d);
    const topic = topics.deviceOrders(d.tenant, d.device.deviceId);
    const bad: Array<string | Buffer> = [
      JSON.stringify(orderMessage({ seq: 'one', lines: 'x' })), // wrong types
      JSON.stringify(orderMessage({ lines: Array.from({ length: 4000 }, () => ({ sku: 'X'.repeat(60), qty: 1, unitPriceMinor: 1, taxMinor: 0 })) })), // huge (> 256 KiB)
      JSON.stringify(orderMessage()).slice(0, 40), // truncated
      randomBytes(512), // random bytes
      JSON.stringify({ type: 'order.v2', v: 1 }), // unknown type
      JSON.stringify({ type: 'status', v: 1, online: true, at: new Date().toISOString() }), // a known type on the wrong topic
      '[]',
    ];
    for (const payload of bad) await client.publish(topic, payload);
    const good = orderMessage();
    await client.publish(topic, JSON.stringify(good));
    expect((await client.waitFor((m) => m.topic.endsWith('/res'))).json()).toMatchObject({ orderId: good.orderId, status: 'accepted' });
    await f.sync.service.idle();
    const dropped = f.logLines.filter((l) => l.includes('sync: dropped a message'));
    expect(dropped).toHaveLength(bad.length);
    expect(Object.values(f.sync.counters().dropped).reduce((a, b) => a + b, 0)).toBe(bad.length);
    expect(f.sync.counters().dropped).toMatchObject({ invalid: 1, 'too-large': 1, 'not-json': 2, 'unknown-type': 1, 'wrong-topic': 1, 'no-envelope': 1 });
    expect(client.client.connected).toBe(true);

    const storage = await f.ctx.storage();
    expect(await storage.listOrders(d.tenant, { limit: 10 })).toHaveLength(1);
    const file = f.ctx.config.database.kind === 'sqlite' ? f.ctx.config.database.file : '';
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  });

  it('records status messages for the fleet view: online, versions, lag, outbox, seq gaps', async () => {
    const f = await syncFixture();
    const d = await f.enrol(1);
    const client = await f.connectReady(d);
    const status = { type: 'status', v: 1, online: true, at: new Date().toISOString(), mode: 'licensed', catalogVersion: 0, outboxDepth: 3, oldestPendingAgeS: 42, lastError: null };
    await client.publish(topics.deviceStatus(d.tenant, d.device.deviceId), JSON.stringify(status), { retain: true });
    await client.publish(topics.deviceOrders(d.tenant, d.device.deviceId), JSON.stringify(orderMessage({ seq: 3 })));
    await client.waitFor((m) => m.topic.endsWith('/res'));
    await f.sync.service.idle();
    const res = await f.app.inject({ method: 'GET', url: `/v1/tenants/${d.tenant}/fleet`, headers: { authorization: `Bearer ${f.adminToken}` } });
    expect(res.json().devices[0]).toMatchObject({ deviceId: d.device.deviceId, online: true, mode: 'licensed', catalogVersion: 0, catalogLag: 1, outboxDepth: 3, oldestPendingAgeS: 42, orders: 1, maxSeq: 3, missingSeqs: 2, cloneAlarms: 0 });
    const orders = await f.app.inject({ method: 'GET', url: `/v1/tenants/${d.tenant}/orders?device=${d.device.deviceId}`, headers: { authorization: `Bearer ${f.adminToken}` } });
    expect(orders.json().orders).toHaveLength(1);
  });
});
