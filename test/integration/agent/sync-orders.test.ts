// Orders up over a real broker (aedes in the test) to a fake server that acks after recording:
// exactly once, in seq order, through days offline, restarts and lost acks.
import { describe, expect, it } from 'vitest';
import { PRODUCTS, startAedes, startFakeServer, startKiosk, uniqueTenant, waitFor } from './helpers/sync-harness.ts';

const sale = (i: number, qty = 1) => ({ orderId: `order-${String(i).padStart(6, '0')}`, lines: [{ sku: 'ESP-01', qty }] });

describe('sync: orders up', () => {
  it('catalog arrives, a sale gets 201 and is acked; the ack moves the stock into the level without counting it twice', async () => {
    const broker = await startAedes();
    const tenant = uniqueTenant();
    const server = await startFakeServer({ brokerUrl: broker.url, tenant, products: PRODUCTS });
    const kiosk = await startKiosk({ mqttUrl: broker.url, apiUrl: server.apiUrl, tenant });
    await waitFor('catalog v1', () => kiosk.store.sales.syncState().catalogVersion === 1);
    expect(kiosk.store.sales.syncState().catalogChecksum).toBe(server.checksum());

    const r = await kiosk.post('/v1/orders', { orderId: 'order-abc-1', lines: [{ sku: 'ESP-01', qty: 2 }] });
    expect(r.status).toBe(201);
    expect(r.body.order).toMatchObject({ kind: 'sale', seq: 1, catalogVersion: 1, currency: 'EUR', totalMinor: 500, taxMinor: 33, lines: [{ sku: 'ESP-01', qty: 2, unitPriceMinor: 250, taxMinor: 33 }] });
    // shown stock never counts the sale twice: before the ack, after the ack, after the stock delta
    const seen: number[] = [];
    await waitFor('acked', async () => {
      seen.push((await kiosk.get('/v1/products/ESP-01')).body.available);
      return kiosk.store.sales.order('order-abc-1')?.sync?.state === 'acked' && kiosk.store.sales.syncState().catalogVersion === 2;
    });
    seen.push((await kiosk.get('/v1/products/ESP-01')).body.available);
    expect(new Set(seen)).toEqual(new Set([4998]));
    expect(server.received.get('order-abc-1')).toBe(1);
    expect(kiosk.store.sales.syncState().catalogChecksum).toBe(server.checksum());
    const o = await kiosk.get('/v1/orders/order-abc-1');
    expect(o.body.sync).toMatchObject({ state: 'acked', stockVersion: 2 });
    const status = await kiosk.get('/v1/status');
    expect(status.body).toMatchObject({ mode: 'licensed', connection: 'connected', catalog: { version: 2, lag: 0 }, outbox: { depth: 0 } });
    const metrics = await kiosk.get('/metrics');
    expect(metrics.body).toContain('kiosk_orders_sent_total 1');
    expect(metrics.body).toContain('kiosk_order_acks_total{status="accepted"} 1');
  });

  it('offline for days: 1,000 orders through the local API with the broker down; back up → each reaches the server exactly once (seq 1..1000, none missing)', async () => {
    const broker = await startAedes();
    const tenant = uniqueTenant();
    const server = await startFakeServer({ brokerUrl: broker.url, tenant, products: PRODUCTS });
    const kiosk = await startKiosk({ mqttUrl: broker.url, apiUrl: server.apiUrl, tenant, windowSize: 16 });
    await waitFor('catalog', () => kiosk.store.sales.syncState().catalogVersion === 1);
    await broker.stop();
    await waitFor('offline', () => kiosk.engine.connection() !== 'connected');
    for (let i = 1; i <= 1000; i++) {
      const r = await kiosk.post('/v1/orders', sale(i));
      expect(r.status).toBe(201);
    }
    expect((await kiosk.get('/v1/status')).body.outbox.depth).toBe(1000);
    expect((await kiosk.get('/v1/products/ESP-01')).body.available).toBe(4000);
    await broker.start(); // a fresh broker: the session is gone, the kiosk must subscribe again
    await waitFor('all acked', () => kiosk.store.sales.outboxStats().acked === 1000, 120_000);
    expect(server.received.size).toBe(1000);
    expect([...server.received.values()].every((n) => n === 1)).toBe(true);
    // Arrival order is not part of the contract (docs/sync-protocol.md §4: a row whose ack did
    // not come back in time is resent later); completeness and exactly-once are.
    const seqs = [...server.orders.values()].map((o) => o.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    await waitFor('stock caught up', () => kiosk.store.sales.syncState().catalogVersion === server.version(), 60_000);
    expect((await kiosk.get('/v1/products/ESP-01')).body.available).toBe(4000);
    expect(kiosk.store.sales.syncState().catalogChecksum).toBe(server.checksum());
    expect(kiosk.store.integrityCheck()).toEqual(['ok']);
  }, 180_000);

  it('no ack in time → pending again and resent with the same orderId; the duplicate ack settles it once', async () => {
    const broker = await startAedes();
    const tenant = uniqueTenant();
    const server = await startFakeServer({ brokerUrl: broker.url, tenant, products: PRODUCTS });
    // the first receipt goes unanswered; the resend (same orderId) is acked — decided by the
    // server as it receives, not by this test polling, so a loaded machine cannot let a third
    // unanswered send (and a longer backoff) slip in
    server.ackFromReceipt = 2;
    const kiosk = await startKiosk({ mqttUrl: broker.url, apiUrl: server.apiUrl, tenant, ackTimeoutMs: 500 });
    await waitFor('catalog', () => kiosk.store.sales.syncState().catalogVersion === 1);
    expect((await kiosk.post('/v1/orders', sale(1))).status).toBe(201);
    // resent after the ack timeout and a backoff of at most 5 s (the first retry's ceiling)
    await waitFor('acked', () => kiosk.store.sales.order('order-000001')?.sync?.state === 'acked', 30_000);
    expect(server.received.get('order-000001')).toBeGreaterThanOrEqual(2);
    expect(server.orders.size).toBe(1);
    expect(kiosk.logs.some((l) => l.msg === 'order not acked in time; sending again later' && l.orderId === 'order-000001')).toBe(true);
  }, 90_000);

  it('in-flight rows are pending again at start-up and are sent again', async () => {
    const broker = await startAedes();
    const tenant = uniqueTenant();
    const server = await startFakeServer({ brokerUrl: broker.url, tenant, products: PRODUCTS });
    server.acking = false;
    const first = await startKiosk({ mqttUrl: broker.url, apiUrl: server.apiUrl, tenant, ackTimeoutMs: 60_000 });
    await waitFor('catalog', () => first.store.sales.syncState().catalogVersion === 1);
    for (let i = 1; i <= 3; i++) expect((await first.post('/v1/orders', sale(i))).status).toBe(201);
    await waitFor('in flight', () => first.store.sales.outboxStats().inflight === 3);
    await first.stop();
    server.acking = true;
    const second = await startKiosk({ mqttUrl: broker.url, apiUrl: server.apiUrl, tenant, dataDir: first.dataDir });
    expect(second.logs).toContainEqual(expect.objectContaining({ msg: 'in-flight orders are pending again', orders: 3 }));
    await waitFor('acked', () => second.store.sales.outboxStats().acked === 3, 30_000);
    expect(server.orders.size).toBe(3);
  });
});
