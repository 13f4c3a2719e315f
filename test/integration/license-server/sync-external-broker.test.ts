// Sync through an outside broker (Mosquitto on 127.0.0.1:1883) and the retained revocation list
// on the embedded one: the same service, another transport.
import { randomBytes } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { topics } from '../../../common/sync-messages.ts';
import { activate } from '../../../license-server/src/domain/activation.ts';
import { createLicense, revokeLicense } from '../../../license-server/src/domain/licenses.ts';
import { createHttpLogger } from '../../../license-server/src/http/logger.ts';
import { startSync } from '../../../license-server/src/sync-app.ts';
import { connectTestClient, MOSQUITTO_URL } from '../../helpers/mqtt-device.ts';
import { HTTP_ISSUER, makeServerContext } from './helpers/http-fixture.ts';
import { makeTestDevice } from './helpers/online-fixture.ts';
import { orderMessage, syncFixture } from './helpers/sync-fixture.ts';

describe('sync over Mosquitto (outside broker)', () => {
  it('ingests an order from the device topic and acks on its res topic; publishes the retained head', async () => {
    const { ctx } = await makeServerContext();
    const tenant = `t-${randomBytes(5).toString('hex')}`;
    const deps = await ctx.issuanceDeps();
    const { licenseKey } = await createLicense(deps, { tenant, features: ['pos'], maxDevices: 1, days: 30, actor: 'test' });
    const device = await makeTestDevice(1, { issuer: HTTP_ISSUER });
    await activate(deps, { licenseKey, request: device.request, mode: 'online', actor: 'test' });
    const sync = await startSync(ctx, { mqtt: { kind: 'external', url: MOSQUITTO_URL }, host: '127.0.0.1', shareGroup: `it-${randomBytes(6).toString('hex')}`, persistentSession: false }, createHttpLogger({ level: 'silent', write: () => undefined }));
    onTestFinished(() => sync.stop());

    const client = await connectTestClient(MOSQUITTO_URL, { clientId: device.deviceId, clean: true });
    await client.subscribe([topics.deviceRes(tenant, device.deviceId), topics.revocations(tenant)]);
    const order = orderMessage();
    await client.publish(topics.deviceOrders(tenant, device.deviceId), JSON.stringify(order));
    const ack = await client.waitFor((m) => m.topic.endsWith('/res'), 5_000, 'the ack');
    expect(ack.json()).toEqual({ type: 'ack', v: 1, orderId: order.orderId, status: 'accepted', stockVersion: 1 });
    const list = await client.waitFor((m) => m.topic === topics.revocations(tenant), 5_000, 'the retained revocation list');
    expect(list.retain).toBe(true);
    expect(list.json()).toMatchObject({ type: 'revocations', v: 1 });
    await sync.service.idle();
    const head = await connectTestClient(MOSQUITTO_URL, { clientId: `late-${randomBytes(4).toString('hex')}`, clean: true });
    await head.subscribe(topics.catalogHead(tenant));
    expect((await head.waitFor((m) => m.topic === topics.catalogHead(tenant))).json()).toMatchObject({ version: 1 });
  });
});

describe('revocation list over MQTT (embedded broker)', () => {
  it('is retained per tenant and republished when its version moves', async () => {
    const f = await syncFixture();
    const d = await f.enrol(1);
    const other = await f.enrol(2);
    const client = await f.connect(other);
    await client.subscribe(topics.revocations(other.tenant));
    const first = (await client.waitFor((m) => m.topic === topics.revocations(other.tenant))).json<{ version: number }>();
    await revokeLicense(await f.ctx.deps(), { ref: d.licenseId, actor: 'test' });
    const next = await client.waitFor((m) => m.topic === topics.revocations(other.tenant) && m.json<{ version: number }>().version > first.version, 5_000, 'the new list');
    expect(next.json<{ list: string }>().list.split('.')).toHaveLength(3);
  });
});
