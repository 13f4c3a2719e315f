// The local kiosk API over real HTTP on 127.0.0.1 (DESIGN §4.6): guards (Host, CORS, JSON only,
// size), malformed bodies, idempotent POST, trial limit and LICENSE_REQUIRED, voids and refunds.
// Sync is off here (no broker): orders queue in the outbox.
import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TRIAL_MAX_ORDERS_PER_DAY } from '../../../agent/src/domain/trial.ts';
import { PRODUCTS, startKiosk, uniqueTenant, type TestKiosk } from './helpers/sync-harness.ts';

async function kioskWithCatalog(opts: { mode?: 'licensed' | 'trial' | 'unlicensed' | 'grace'; token?: string } = {}): Promise<TestKiosk> {
  const kiosk = await startKiosk({ mqttUrl: null, apiUrl: null, tenant: uniqueTenant(), ...opts });
  kiosk.store.sales.replaceCatalog(
    { version: 1, checksum: (await import('../../../common/sync-messages.ts')).catalogChecksum(PRODUCTS), items: PRODUCTS },
    Date.now(),
  );
  return kiosk;
}

/** A raw HTTP request (any Host header, any body). */
function raw(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // text
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const sale = { orderId: 'order-0001', lines: [{ sku: 'ESP-01', qty: 2 }] };

describe('local API: guards', () => {
  it('listens on 127.0.0.1 only and answers only to its own Host names (DNS rebinding → 421)', async () => {
    const k = await kioskWithCatalog();
    const port = k.api.port();
    expect(k.api.app.server.address()).toMatchObject({ address: '127.0.0.1' });
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      expect((await raw(port, { path: '/v1/status', headers: { host } })).status).toBe(200);
    }
    for (const host of ['evil.example', `evil.example:${port}`, '127.0.0.1', `127.0.0.1:${port + 1}`, `localhost.evil.example:${port}`]) {
      const r = await raw(port, { path: '/v1/status', headers: { host } });
      expect(r.status).toBe(421);
      expect(r.body.error.code).toBe('HOST_NOT_ALLOWED');
    }
  });

  it('no CORS: preflights and foreign Origins are refused, no Access-Control-* header ever', async () => {
    const k = await kioskWithCatalog();
    const port = k.api.port();
    const host = `127.0.0.1:${port}`;
    const pre = await raw(port, { method: 'OPTIONS', path: '/v1/orders', headers: { host, origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(403);
    const cross = await raw(port, { method: 'POST', path: '/v1/orders', headers: { host, origin: 'https://evil.example', 'content-type': 'application/json' }, body: JSON.stringify(sale) });
    expect(cross.status).toBe(403);
    const same = await raw(port, { path: '/v1/status', headers: { host, origin: `http://${host}` } });
    expect(same.status).toBe(200);
    for (const r of [pre, cross, same]) expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    expect(k.store.sales.outboxStats().depth).toBe(0);
  });

  it('JSON bodies only (415), size-limited (413); malformed bodies are 400 with a code and nothing is stored', async () => {
    const k = await kioskWithCatalog();
    const port = k.api.port();
    const host = `127.0.0.1:${port}`;
    const post = (body: string | Buffer, type?: string) =>
      raw(port, { method: 'POST', path: '/v1/orders', headers: { host, ...(type ? { 'content-type': type } : {}) }, body });
    for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await post(JSON.stringify(sale), type);
      expect(r.status, String(type)).toBe(415);
      expect(r.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    const huge = await post(JSON.stringify({ ...sale, pad: 'x'.repeat(200 * 1024) }), 'application/json');
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const bad: Array<string | Buffer> = [
      '{"orderId":"order-0001","lines":[{"sku":"ESP-01","qty":2}',
      'null',
      '[]',
      '"text"',
      randomBytes(64),
      JSON.stringify({ orderId: 42, lines: [] }),
      JSON.stringify({ orderId: 'order-0001', lines: [{ sku: 'ESP-01', qty: '2' }] }),
      JSON.stringify({ orderId: 'order-0001', lines: [{ sku: 'ESP-01', qty: -1 }] }),
      JSON.stringify({ orderId: 'order-0001', lines: [{ sku: 'ESP-01', qty: 1.5 }] }),
      JSON.stringify({ orderId: 'x', lines: [{ sku: 'ESP-01', qty: 1 }] }),
      JSON.stringify({ orderId: 'order-0001', lines: [{ sku: 'ESP-01', qty: 1, unitPriceMinor: 1 }] }),
      JSON.stringify({ orderId: 'order-0001', lines: [{ sku: 'ESP-01', qty: 1 }, { sku: 'ESP-01', qty: 1 }] }),
      JSON.stringify({ orderId: 'order-0001', lines: [{ sku: 'ESP-01', qty: 1 }], extra: true }),
      '{"__proto__":{"polluted":true},"orderId":"order-0001","lines":[]}',
    ];
    for (const body of bad) {
      const r = await post(body, 'application/json');
      expect(r.status, String(body).slice(0, 60)).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_FAILED');
      expect(typeof r.body.error.message).toBe('string');
    }
    const unknownSku = await post(JSON.stringify({ orderId: 'order-0001', lines: [{ sku: 'NOPE', qty: 1 }] }), 'application/json');
    expect(unknownSku.status).toBe(404);
    expect(k.store.sales.outboxStats().depth).toBe(0);
    expect((await raw(port, { path: '/v1/nothing', headers: { host } })).body.error.code).toBe('NOT_FOUND');
    expect(k.store.integrityCheck()).toEqual(['ok']);
  });

  it('an optional bearer token is required on every route when configured', async () => {
    const token = randomBytes(24).toString('hex');
    const k = await kioskWithCatalog({ token });
    const port = k.api.port();
    const host = `127.0.0.1:${port}`;
    expect((await raw(port, { path: '/v1/status', headers: { host } })).status).toBe(401);
    expect((await raw(port, { path: '/metrics', headers: { host, authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await raw(port, { path: '/v1/status', headers: { host, authorization: `Bearer ${token}` } })).status).toBe(200);
  });
});

describe('local API: orders', () => {
  it('idempotent by order id: same body → the same answer (201 then 200), other body → 409; prices from the catalog', async () => {
    const k = await kioskWithCatalog();
    const first = await k.post('/v1/orders', sale);
    expect(first.status).toBe(201);
    expect(first.body.order).toMatchObject({ orderId: 'order-0001', seq: 1, totalMinor: 500, taxMinor: 33, catalogVersion: 1 });
    const again = await k.post('/v1/orders', sale);
    expect(again.status).toBe(200);
    expect(again.body.order).toEqual(first.body.order);
    const other = await k.post('/v1/orders', { ...sale, lines: [{ sku: 'ESP-01', qty: 3 }] });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('ORDER_CONFLICT');
    expect(k.store.sales.outboxStats().depth).toBe(1);
    expect((await k.get('/v1/orders/order-0001')).body.sync).toMatchObject({ state: 'pending', attempts: 0 });
    expect((await k.get('/v1/products/ESP-01')).body).toMatchObject({ stockLevel: 5000, available: 4998 });
  });

  it('voids and refunds are new events referencing the original; limits are enforced', async () => {
    const k = await kioskWithCatalog();
    expect((await k.post('/v1/orders', { orderId: 'sale-0001', lines: [{ sku: 'ESP-01', qty: 3 }, { sku: 'CAKE-1', qty: 1 }] })).status).toBe(201);
    const refund = await k.post('/v1/orders/sale-0001/refund', { orderId: 'refund-001', lines: [{ sku: 'ESP-01', qty: 2 }] });
    expect(refund.status).toBe(201);
    expect(refund.body.order).toMatchObject({ kind: 'refund', refOrderId: 'sale-0001', seq: 2, totalMinor: 500, lines: [{ sku: 'ESP-01', qty: 2, unitPriceMinor: 250 }] });
    expect((await k.post('/v1/orders/sale-0001/refund', { orderId: 'refund-002', lines: [{ sku: 'ESP-01', qty: 2 }] })).body.error.code).toBe('ORDER_CONFLICT');
    expect((await k.post('/v1/orders/sale-0001/void', { orderId: 'void-0001' })).status).toBe(409);
    expect((await k.post('/v1/orders/sale-0002/void', { orderId: 'void-0001' })).status).toBe(404);
    expect((await k.post('/v1/orders', { orderId: 'sale-0002', lines: [{ sku: 'CAP-01', qty: 1 }] })).status).toBe(201);
    const v = await k.post('/v1/orders/sale-0002/void', { orderId: 'void-0002' });
    expect(v.status).toBe(201);
    expect(v.body.order).toMatchObject({ kind: 'void', refOrderId: 'sale-0002', totalMinor: 390 });
    expect((await k.post('/v1/orders/sale-0002/void', { orderId: 'void-0002' })).status).toBe(200);
    expect((await k.post('/v1/orders/sale-0002/void', { orderId: 'void-0003' })).status).toBe(409);
    const seqs = ['sale-0001', 'refund-001', 'sale-0002', 'void-0002'].map((id) => k.store.sales.order(id)?.message.seq);
    expect(seqs).toEqual([1, 2, 3, 4]);
  });

  it(`trial: ${TRIAL_MAX_ORDERS_PER_DAY} orders a day, then TRIAL_LIMIT_REACHED (429); unlicensed: LICENSE_REQUIRED (402), status still works`, async () => {
    const k = await kioskWithCatalog({ mode: 'trial' });
    for (let i = 0; i < TRIAL_MAX_ORDERS_PER_DAY; i++) {
      expect((await k.post('/v1/orders', { orderId: `trial-${String(i).padStart(4, '0')}`, lines: [{ sku: 'ESP-01', qty: 1 }] })).status).toBe(201);
    }
    const over = await k.post('/v1/orders', { orderId: 'trial-over', lines: [{ sku: 'ESP-01', qty: 1 }] });
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('TRIAL_LIMIT_REACHED');
    k.setMode('licensed');
    expect((await k.post('/v1/orders', { orderId: 'trial-over', lines: [{ sku: 'ESP-01', qty: 1 }] })).status).toBe(201);
    k.setMode('unlicensed');
    const refused = await k.post('/v1/orders', { orderId: 'unlicensed-1', lines: [{ sku: 'ESP-01', qty: 1 }] });
    expect(refused.status).toBe(402);
    expect(refused.body.error.code).toBe('LICENSE_REQUIRED');
    const status = await k.get('/v1/status');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ mode: 'unlicensed', connection: 'idle', outbox: { depth: TRIAL_MAX_ORDERS_PER_DAY + 1 } });
  });
});
