// The same sync over Mosquitto 2 (127.0.0.1:1883, a unique tenant per test), and the session
// rules on aedes: a fresh device proof on every CONNECT, explicit resubscribe when the broker
// lost the session, the retained status with its will.
import { connect } from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import { topics } from '../../../common/sync-messages.ts';
import { newDeviceId, PRODUCTS, startAedes, startFakeServer, startKiosk, uniqueTenant, waitFor } from './helpers/sync-harness.ts';

const MOSQUITTO = 'mqtt://127.0.0.1:1883';

describe('sync: brokers and sessions', () => {
  it('Mosquitto: catalog down, orders up exactly once, status retained', async () => {
    const tenant = uniqueTenant();
    const server = await startFakeServer({ brokerUrl: MOSQUITTO, tenant, products: PRODUCTS });
    const kiosk = await startKiosk({ mqttUrl: MOSQUITTO, apiUrl: server.apiUrl, tenant });
    onTestFinished(() => server.publishRaw(topics.catalogHead(tenant), '', true)); // clear the retained head
    await waitFor('catalog', () => kiosk.store.sales.syncState().catalogVersion === 1);
    for (let i = 1; i <= 50; i++) expect((await kiosk.post('/v1/orders', { orderId: `mosq-${String(i).padStart(4, '0')}`, lines: [{ sku: 'CAP-01', qty: 1 }] })).status).toBe(201);
    await waitFor('acked', () => kiosk.store.sales.outboxStats().acked === 50);
    expect([...server.received.values()].every((n) => n === 1)).toBe(true);
    await waitFor('caught up', () => kiosk.store.sales.syncState().catalogVersion === server.version());
    expect(kiosk.store.sales.syncState().catalogChecksum).toBe(server.checksum());
    expect((await kiosk.get('/v1/products/CAP-01')).body.available).toBe(2950);
    // the retained status
    const watcher = connect(MOSQUITTO, { protocolVersion: 4, clientId: `watch-${tenant}` });
    onTestFinished(() => watcher.endAsync(true));
    const statuses: any[] = [];
    const DEVICE_ID = kiosk.deviceId;
    watcher.on('message', (_t, p) => p.length && statuses.push(JSON.parse(p.toString())));
    await watcher.subscribeAsync(topics.deviceStatus(tenant, DEVICE_ID), { qos: 1 });
    await waitFor('status', () => statuses.length > 0);
    expect(statuses[0]).toMatchObject({ type: 'status', v: 1, online: true, mode: 'licensed' });
    await kiosk.stop();
    await waitFor('offline status', () => statuses.some((s) => s.online === false));
    await watcher.publishAsync(topics.deviceStatus(tenant, DEVICE_ID), '', { retain: true, qos: 1 });
    // drop the device's persistent session from Mosquitto
    await connect(MOSQUITTO, { protocolVersion: 4, clientId: DEVICE_ID, clean: true }).endAsync();
  });

  it('every CONNECT carries a fresh proof; a broker that lost the session gets the subscriptions again', async () => {
    const passwords: string[] = [];
    const DEVICE_ID = newDeviceId();
    const broker = await startAedes({ onConnect: (id, password) => id === DEVICE_ID && passwords.push(password) });
    const tenant = uniqueTenant();
    const server = await startFakeServer({ brokerUrl: broker.url, tenant, products: PRODUCTS });
    const kiosk = await startKiosk({ mqttUrl: broker.url, apiUrl: server.apiUrl, tenant, deviceId: DEVICE_ID });
    await waitFor('catalog', () => kiosk.store.sales.syncState().catalogVersion === 1);
    for (let round = 0; round < 2; round++) {
      await broker.stop();
      await waitFor('offline', () => kiosk.engine.connection() !== 'connected');
      await broker.start();
      await waitFor('reconnected', () => kiosk.engine.connection() === 'connected', 30_000);
    }
    expect(passwords.length).toBeGreaterThanOrEqual(3);
    expect(new Set(passwords).size).toBe(passwords.length);
    // subscriptions are back (fresh broker, sessionPresent false): a new delta arrives
    const logsConnected = kiosk.logs.filter((l) => l.msg === 'MQTT connected');
    expect(logsConnected.every((l) => l.sessionPresent === false)).toBe(true);
    server.edit([{ op: 'stock', sku: 'ESP-01', level: 7 }]);
    await waitFor('delta after resubscribe', () => kiosk.store.sales.syncState().catalogVersion === 2, 30_000);
  }, 90_000);
});
