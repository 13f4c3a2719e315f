// Catalog and stock: vendor edits over HTTP become versions whose head and delta reach the
// devices over MQTT; catch-up pages and reset; the snapshot over HTTP with a device proof, whose
// checksum equals the head's.
import { describe, expect, it } from 'vitest';
import { catalogChecksum, topics, type Product } from '../../../common/sync-messages.ts';
import { revokeLicense } from '../../../license-server/src/domain/licenses.ts';
import { syncFixture, type SyncFixture } from './helpers/sync-fixture.ts';

const product = (sku: string, over: Partial<Product> = {}): Product => ({ sku, name: `Product ${sku}`, priceMinor: 250, currency: 'EUR', taxRateBp: 700, active: true, ...over });

async function vendor(f: SyncFixture, url: string, body?: unknown) {
  const res = await f.app.inject({ method: body === undefined ? 'GET' : 'POST', url, headers: { authorization: `Bearer ${f.adminToken}` }, ...(body === undefined ? {} : { payload: body as Record<string, unknown> }) });
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  return res.json();
}

describe('catalog over MQTT and HTTP', () => {
  it('a vendor edit puts a new head (retained) and its delta on the wire; the snapshot checksum equals the head checksum', async () => {
    const f = await syncFixture();
    const d = await f.enrol(1);
    const client = await f.connectReady(d);
    await vendor(f, `/v1/tenants/${d.tenant}/catalog/products`, product('ESP-01'));
    await vendor(f, `/v1/tenants/${d.tenant}/catalog/products/ESP-01/price`, { priceMinor: 270 });
    await vendor(f, `/v1/tenants/${d.tenant}/catalog/products/ESP-01/stock`, { level: 40 });
    const edited = await vendor(f, `/v1/tenants/${d.tenant}/catalog/products`, product('TEA-01', { priceMinor: 200 }));
    expect(edited.version).toBe(4);
    await vendor(f, `/v1/tenants/${d.tenant}/catalog/products/TEA-01/delete`, {});

    const head = await client.waitFor((m) => m.topic === topics.catalogHead(d.tenant) && m.json<{ version: number }>().version === 5, 5_000, 'head 5');
    const deltas = client.received.filter((m) => m.topic === topics.catalogDelta(d.tenant)).map((m) => m.json<{ from: number; to: number; ops: unknown[] }>());
    // contiguous from 1 to 5 (the server may coalesce)
    expect(deltas[0]?.from).toBe(1);
    deltas.reduce((prev, x) => (expect(x.from).toBe(prev + 1), x.to), 0);
    expect(deltas[deltas.length - 1]?.to).toBe(5);
    expect(deltas.flatMap((x) => x.ops)).toEqual([
      { op: 'put', product: product('ESP-01') },
      { op: 'put', product: product('ESP-01', { priceMinor: 270 }) },
      { op: 'stock', sku: 'ESP-01', level: 40 },
      { op: 'put', product: product('TEA-01', { priceMinor: 200 }) },
      { op: 'del', sku: 'TEA-01' },
    ]);

    const snap = await f.app.inject({ method: 'GET', url: '/v1/catalog/snapshot', headers: { authorization: `DeviceProof ${await d.proof()}` } });
    expect(snap.statusCode, snap.body).toBe(200);
    const body = snap.json<{ version: number; checksum: string; products: Array<{ product: Product; stockLevel: number }> }>();
    expect(body.version).toBe(5);
    expect(body.products).toEqual([{ product: product('ESP-01', { priceMinor: 270 }), stockLevel: 40 }]);
    expect(body.checksum).toBe(head.json<{ checksum: string }>().checksum);
    expect(catalogChecksum(body.products)).toBe(body.checksum);
  });

  it('answers a catch-up with delta pages from since + 1 to the head, or a reset when since is older than the log', async () => {
    const f = await syncFixture({ catalog: { keepVersions: 3 } });
    const d = await f.enrol(1);
    for (let i = 1; i <= 5; i++) await vendor(f, `/v1/tenants/${d.tenant}/catalog/products`, product(`SKU-${i}`));
    const client = await f.connectReady(d);
    const head = (await client.waitFor((m) => m.topic === topics.catalogHead(d.tenant))).json<{ version: number; oldestDeltaFrom: number }>();
    expect(head).toMatchObject({ version: 5, oldestDeltaFrom: 3 });

    const req = topics.deviceReq(d.tenant, d.device.deviceId);
    await client.publish(req, JSON.stringify({ type: 'catalog.catchup', v: 1, since: 2 }));
    const page = (await client.waitFor((m) => m.topic.endsWith('/res'))).json<{ type: string; from: number; to: number; ops: unknown[] }>();
    expect(page).toMatchObject({ type: 'catalog.delta', from: 3, to: 5 });
    expect(page.ops).toHaveLength(3);

    await client.publish(req, JSON.stringify({ type: 'catalog.catchup', v: 1, since: 1 }));
    const reset = await client.waitFor((m) => m.topic.endsWith('/res') && m.json<{ type: string }>().type === 'catalog.reset');
    expect(reset.json()).toEqual({ type: 'catalog.reset', v: 1, version: 5 });

    // pages are whole versions of at most `limit` operations
    await client.publish(req, JSON.stringify({ type: 'catalog.catchup', v: 1, since: 2, limit: 1 }));
    await client.waitFor((m) => m.topic.endsWith('/res') && m.json<{ from?: number }>().from === 5);
    const small = client.received.filter((m) => m.topic.endsWith('/res')).map((m) => m.json<{ from?: number; to?: number }>()).slice(2);
    expect(small.map((p) => [p.from, p.to])).toEqual([[3, 3], [4, 4], [5, 5]]);
  });

  it('the snapshot needs a fresh proof of a usable seat', async () => {
    const f = await syncFixture();
    const d = await f.enrol(1);
    const get = (authorization?: string) => f.app.inject({ method: 'GET', url: '/v1/catalog/snapshot', headers: authorization ? { authorization } : {} });
    expect((await get()).statusCode).toBe(401);
    expect((await get('Bearer x')).statusCode).toBe(401);
    const proof = await d.proof();
    expect((await get(`DeviceProof ${proof}`)).statusCode).toBe(200);
    expect((await get(`DeviceProof ${proof}`)).json().error.code).toBe('UNAUTHORIZED'); // replayed
    await revokeLicense(await f.ctx.deps(), { ref: d.licenseId, actor: 'test' });
    const revoked = await get(`DeviceProof ${await d.proof()}`);
    expect([revoked.statusCode, revoked.json().error.code]).toEqual([403, 'REVOKED']);
  });
});
