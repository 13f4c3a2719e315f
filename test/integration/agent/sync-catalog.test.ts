// Catalog down over a real broker: duplicate, reordered and gapped deltas, catch-up, reset →
// HTTP snapshot swapped during sales; malformed MQTT payloads dropped with a log line. The
// local checksum ends equal to the server's and the shown stock never counts a sale twice.
import { describe, expect, it } from 'vitest';
import { topics } from '../../../common/sync-messages.ts';
import { PRODUCTS, startAedes, startFakeServer, startKiosk, uniqueTenant, waitFor } from './helpers/sync-harness.ts';

const espresso = (priceMinor: number) => ({ op: 'put' as const, product: { sku: 'ESP-01', name: 'Espresso', priceMinor, currency: 'EUR', taxRateBp: 700, active: true } });

describe('sync: catalog down', () => {
  it('duplicate and out-of-order deltas: applied only when contiguous, gaps caught up; checksum equals the server', async () => {
    const broker = await startAedes();
    const tenant = uniqueTenant();
    const server = await startFakeServer({ brokerUrl: broker.url, tenant, products: PRODUCTS });
    const kiosk = await startKiosk({ mqttUrl: broker.url, apiUrl: server.apiUrl, tenant });
    await waitFor('v1', () => kiosk.store.sales.syncState().catalogVersion === 1);
    // versions 2..6 made silently, then published out of order and twice
    for (let p = 300; p <= 340; p += 10) server.edit([espresso(p)], { publishDelta: false });
    await server.publishDelta(2, 2);
    await server.publishDelta(2, 2); // duplicate
    await server.publishDelta(4, 4); // gap → catch-up since 2
    await server.publishDelta(3, 3);
    await server.publishDelta(2, 3); // overlapping duplicate
    await waitFor('head', () => kiosk.store.sales.syncState().catalogVersion === 6).catch((err) => {
      console.log(JSON.stringify(kiosk.logs, null, 0), server.catchups, kiosk.store.sales.syncState());
      throw err;
    });
    expect(kiosk.store.sales.syncState().catalogChecksum).toBe(server.checksum());
    expect((await kiosk.get('/v1/products/ESP-01')).body.priceMinor).toBe(340);
    expect(server.catchups.length).toBeGreaterThan(0);
    expect(server.snapshots).toBe(0);
  });

  it('a kiosk that sold offline comes back while the catalog moved on: acks, stock deltas and catch-up during sales; shown stock never counts a sale twice', async () => {
    const broker = await startAedes();
    const tenant = uniqueTenant();
    const server = await startFakeServer({ brokerUrl: broker.url, tenant, products: PRODUCTS, oldestDeltaFrom: 1 });
    const kiosk = await startKiosk({ mqttUrl: broker.url, apiUrl: server.apiUrl, tenant });
    await waitFor('v1', () => kiosk.store.sales.syncState().catalogVersion === 1);
    await broker.stop();
    for (let i = 1; i <= 20; i++) expect((await kiosk.post('/v1/orders', { orderId: `offline-${i}-xx`, lines: [{ sku: 'CAKE-1', qty: 1 }] })).status).toBe(201);
    expect((await kiosk.get('/v1/products/CAKE-1')).body.available).toBe(20);
    await broker.start();
    // while the kiosk was away the server moved on and pruned its delta log: catch-up is impossible
    for (let p = 300; p < 400; p += 10) server.edit([espresso(p)], { publishDelta: false });
    server.setOldest(8);
    await waitFor('all acked and caught up', () => kiosk.store.sales.outboxStats().acked === 20 && kiosk.store.sales.syncState().catalogVersion === server.version(), 60_000);
    // sales during and after the swap
    for (let i = 1; i <= 5; i++) expect((await kiosk.post('/v1/orders', { orderId: `online-${i}-xx`, lines: [{ sku: 'CAKE-1', qty: 1 }] })).status).toBe(201);
    await waitFor('acked again', () => kiosk.store.sales.outboxStats().acked === 25 && kiosk.store.sales.syncState().catalogVersion === server.version(), 60_000);
    expect((await kiosk.get('/v1/products/CAKE-1')).body.available).toBe(15);
    expect(server.stock('CAKE-1')).toBe(15);
    expect(kiosk.store.sales.syncState().catalogChecksum).toBe(server.checksum());
  }, 90_000);

  it('catalog.reset → snapshot (verified by checksum) swapped atomically, then newer deltas', async () => {
    const broker = await startAedes();
    const tenant = uniqueTenant();
    const server = await startFakeServer({ brokerUrl: broker.url, tenant, products: PRODUCTS });
    const kiosk = await startKiosk({ mqttUrl: broker.url, apiUrl: server.apiUrl, tenant });
    await waitFor('v1', () => kiosk.store.sales.syncState().catalogVersion === 1);
    for (let p = 300; p < 400; p += 10) server.edit([espresso(p)], { publishDelta: false });
    await server.publishRaw(topics.deviceRes(tenant, kiosk.deviceId), JSON.stringify({ type: 'catalog.reset', v: 1, version: server.version() }));
    await waitFor('snapshot', () => kiosk.store.sales.syncState().catalogVersion === server.version());
    expect(server.snapshots).toBe(1);
    expect(kiosk.store.sales.syncState().catalogChecksum).toBe(server.checksum());
    server.edit([espresso(999)]);
    await waitFor('delta after snapshot', () => kiosk.store.sales.syncState().catalogVersion === server.version());
    expect((await kiosk.get('/v1/products/ESP-01')).body.priceMinor).toBe(999);
  });

  it('drift: at the head version with another checksum → snapshot; afterwards the checksums agree', async () => {
    const broker = await startAedes();
    const tenant = uniqueTenant();
    const server = await startFakeServer({ brokerUrl: broker.url, tenant, products: PRODUCTS });
    const kiosk = await startKiosk({ mqttUrl: broker.url, apiUrl: server.apiUrl, tenant });
    await waitFor('v1', () => kiosk.store.sales.syncState().catalogVersion === 1);
    server.tamper([{ op: 'stock', sku: 'CAKE-1', level: 3 }]);
    await waitFor('snapshot', () => server.snapshots === 1 && kiosk.store.sales.syncState().catalogChecksum === server.checksum());
    expect((await kiosk.get('/v1/products/CAKE-1')).body.stockLevel).toBe(3);
    expect(kiosk.logs.some((l) => l.msg === 'fetching the catalog snapshot' && l.why === 'checksum-mismatch')).toBe(true);
  });

  it('malformed payloads on every subscribed topic are dropped with a log line; the agent keeps syncing', async () => {
    const broker = await startAedes();
    const tenant = uniqueTenant();
    const server = await startFakeServer({ brokerUrl: broker.url, tenant, products: PRODUCTS });
    const kiosk = await startKiosk({ mqttUrl: broker.url, apiUrl: server.apiUrl, tenant });
    await waitFor('v1', () => kiosk.store.sales.syncState().catalogVersion === 1);
    const bad: Array<string | Buffer> = [
      'not json',
      Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37]),
      '{"type":"catalog.delta","v":1,"from":"2","to":2,"ops":[]}',
      '{"type":"catalog.delta","v":1,"from":2,"to":1,"ops":[]}',
      '{"type":"catalog.delta","v":1,"from":2,"to":2,"ops":[{"op":"put","product":{"sku":"X"}}]}',
      '{"type":"ack","v":1,"orderId":"short","status":"accepted","stockVersion":1}',
      '{"type":"no.such.type","v":1}',
      '{"type":"catalog.head","v":2,"version":1}',
      '[1,2,3]',
      '{"type":"catalog.delta","v":1,"from":2,"to":2,"ops":[',
      JSON.stringify({ type: 'catalog.delta', v: 1, from: 2, to: 2, ops: [], pad: 'x'.repeat(300 * 1024) }),
      JSON.stringify({ type: 'order', v: 1 }),
      JSON.stringify({ type: 'catalog.catchup', v: 1, since: 0 }), // valid, but not for the device
    ];
    const targets = [topics.catalogDelta(tenant), topics.deviceRes(tenant, kiosk.deviceId), topics.revocations(tenant)];
    for (const t of targets) for (const p of bad) await server.publishRaw(t, p);
    await waitFor('all dropped', () => kiosk.logs.filter((l) => l.msg === 'sync message dropped').length >= targets.length * bad.length);
    const reasons = new Set(kiosk.logs.filter((l) => l.msg === 'sync message dropped').map((l) => l.reason));
    expect(reasons).toEqual(new Set(['not-json', 'invalid', 'unknown-type', 'no-envelope', 'too-large', 'unexpected-type']));
    // still alive and syncing
    server.edit([espresso(777)]);
    await waitFor('still syncing', () => kiosk.store.sales.syncState().catalogVersion === 2);
    expect((await kiosk.post('/v1/orders', { orderId: 'after-garbage', lines: [{ sku: 'ESP-01', qty: 1 }] })).status).toBe(201);
    await waitFor('acked', () => kiosk.store.sales.order('after-garbage')?.sync?.state === 'acked');
    expect((await kiosk.get('/metrics')).body).toMatch(/kiosk_sync_malformed_messages_total\{reason="not-json"\} [1-9]/);
    expect(kiosk.store.integrityCheck()).toEqual(['ok']);
  });
});
