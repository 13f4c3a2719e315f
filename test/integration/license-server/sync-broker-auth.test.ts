// The embedded broker's device authentication and topic rules (DESIGN §4.5), with real device
// proofs over real MQTT: the session identity comes from the proof, never from a topic.
import { generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { topics } from '../../../common/sync-messages.ts';
import { deactivateDevice } from '../../../license-server/src/domain/deactivation.ts';
import { revokeLicense } from '../../../license-server/src/domain/licenses.ts';
import { orderMessage, syncFixture } from './helpers/sync-fixture.ts';

const SUBACK_FAILURE = 128;

describe('embedded broker: who may connect', () => {
  it('accepts a device with a fresh proof; refuses a proof by another key (a copied token), a replayed proof, a wrong client id', async () => {
    const f = await syncFixture();
    const d = await f.enrol(1);
    const ok = await f.connect(d);
    await ok.end();

    const { privateKey: thief } = await generateKeyPair('ES256', { extractable: true });
    await expect(f.connect(d, { password: await d.proof({ key: thief }) })).rejects.toThrow(/Bad username or password|Not authorized/i);
    const once = await d.proof();
    (await f.connect(d, { password: once })).end();
    await expect(f.connect(d, { password: once })).rejects.toThrow(/Bad username or password|Not authorized/i);
    const other = await f.enrol(2);
    await expect(f.connect(d, { password: await d.proof(), clientId: other.device.deviceId })).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(f.connect(d, { password: 'not-a-proof' })).rejects.toThrow(/Bad username or password|Not authorized/i);
    expect(f.logLines.filter((l) => l.includes('mqtt: connect refused')).length).toBeGreaterThanOrEqual(4);
  });
});

describe('embedded broker: what a session may do', () => {
  it('grants its own topics; refuses another tenant\'s catalog and another device\'s topics', async () => {
    const f = await syncFixture();
    const a = await f.enrol(1, 'shop-1');
    const b = await f.enrol(2, 'shop-1');
    const c = await f.enrol(3, 'shop-2');
    const client = await f.connect(a);
    const own = await client.subscribe([`kiosk/v1/shop-1/catalog/#`, topics.revocations('shop-1'), `kiosk/v1/shop-1/devices/${a.device.deviceId}/#`]);
    expect(own.map((g) => g.qos)).toEqual([1, 1, 1]);
    const foreign = await client.subscribe([
      `kiosk/v1/shop-2/catalog/#`,
      topics.catalogHead('shop-2'),
      topics.revocations('shop-2'),
      topics.deviceRes('shop-1', b.device.deviceId),
      `kiosk/v1/shop-1/devices/+/res`,
      `kiosk/v1/shop-1/devices/#`,
      topics.deviceRes('shop-2', c.device.deviceId),
      'kiosk/#',
      '#',
      '$SYS/#',
    ]);
    expect(foreign.map((g) => g.qos)).toEqual(Array(10).fill(SUBACK_FAILURE));
  });

  it('a publish as another device or tenant closes the connection and reaches no one', async () => {
    const f = await syncFixture();
    const a = await f.enrol(1, 'shop-1');
    const b = await f.enrol(2, 'shop-1');
    for (const topic of [topics.deviceOrders('shop-1', b.device.deviceId), topics.deviceOrders('shop-2', a.device.deviceId), topics.catalogHead('shop-1')]) {
      const client = await f.connect(a);
      client.client.publish(topic, JSON.stringify(orderMessage()), { qos: 1 });
      await client.waitForClose();
    }
    expect(f.sync.counters().ingested).toEqual({});
    expect((await (await f.ctx.storage()).listOrders('shop-1', { limit: 10 })).length).toBe(0);
  });
});

describe('embedded broker: revocation', () => {
  it('drops a live session when the license is revoked; the device reconnects orders-only and uploads what it took', async () => {
    const f = await syncFixture();
    const d = await f.enrol(1);
    const live = await f.connectReady(d);
    await revokeLicense(await f.ctx.deps(), { ref: d.licenseId, actor: 'test' });
    await live.waitForClose(5_000);
    await f.waitForLog(/dropped a live session/);

    const limited = await f.connect(d);
    const granted = await limited.subscribe([`kiosk/v1/${d.tenant}/catalog/#`, topics.deviceRes(d.tenant, d.device.deviceId)]);
    expect(granted.map((g) => g.qos)).toEqual([SUBACK_FAILURE, 1]);
    const order = orderMessage();
    await limited.publish(topics.deviceOrders(d.tenant, d.device.deviceId), JSON.stringify(order));
    const ack = await limited.waitFor((m) => m.topic.endsWith('/res'));
    expect(ack.json()).toMatchObject({ type: 'ack', orderId: order.orderId, status: 'accepted' });
    // no catch-up requests, no status from a limited session
    limited.client.publish(topics.deviceReq(d.tenant, d.device.deviceId), JSON.stringify({ type: 'catalog.catchup', v: 1, since: 0 }), { qos: 1 });
    await limited.waitForClose();
  });

  it('a persistent session that comes back orders-only gets no catalog: neither its old subscriptions nor what was queued', async () => {
    const f = await syncFixture();
    const d = await f.enrol(1);
    const durable = async () => {
      const { connectTestClient } = await import('../../helpers/mqtt-device.ts');
      return connectTestClient(f.sync.mqttUrl, { clientId: d.device.deviceId, username: d.device.deviceId, password: await d.proof(), clean: false });
    };
    const first = await durable();
    expect((await first.subscribe([`kiosk/v1/${d.tenant}/catalog/#`, topics.deviceRes(d.tenant, d.device.deviceId)])).map((g) => g.qos)).toEqual([1, 1]);
    await first.end();
    await revokeLicense(await f.ctx.deps(), { ref: d.licenseId, actor: 'test' });
    await f.sync.pollRevocations();
    // a catalog change while it is away (queued for its session), then it returns orders-only
    await f.sync.service.catalogChanged(d.tenant);
    const put = await f.app.inject({ method: 'POST', url: `/v1/tenants/${d.tenant}/catalog/products`, headers: { authorization: `Bearer ${f.adminToken}` }, payload: { sku: 'ESP-01', name: 'E', priceMinor: 1, currency: 'EUR', taxRateBp: 0, active: true } });
    expect(put.statusCode).toBe(200);
    await f.sync.service.idle();
    const back = await durable();
    const order = orderMessage();
    await back.publish(topics.deviceOrders(d.tenant, d.device.deviceId), JSON.stringify(order));
    await back.waitFor((m) => m.topic.endsWith('/res'));
    await f.sync.service.idle();
    expect(back.received.filter((m) => m.topic.includes('/catalog/'))).toEqual([]);
  });

  it('drops a deactivated device too', async () => {
    const f = await syncFixture();
    const d = await f.enrol(1);
    const live = await f.connectReady(d);
    await deactivateDevice(await f.ctx.deps(), { licenseRef: d.licenseId, deviceId: d.device.deviceId, actor: 'test' });
    await live.waitForClose(5_000);
  });
});

describe('embedded broker: clone alarm', () => {
  it('a second live session of one device id takes over and raises a clone alarm in the fleet view', async () => {
    const f = await syncFixture();
    const d = await f.enrol(1);
    const first = await f.connect(d);
    const second = await f.connect(d);
    await first.waitForClose();
    expect(second.client.connected).toBe(true);
    await f.waitForLog(/clone alarm/);
    const res = await f.app.inject({ method: 'GET', url: `/v1/tenants/${d.tenant}/fleet`, headers: { authorization: `Bearer ${f.adminToken}` } });
    expect(res.statusCode).toBe(200);
    const fleet = res.json<{ devices: Array<{ deviceId: string; cloneAlarms: number }> }>();
    expect(fleet.devices.find((x) => x.deviceId === d.device.deviceId)?.cloneAlarms).toBe(1);
  });
});
