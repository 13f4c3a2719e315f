// The logs of a run that exercised every endpoint (checked against the route table) are JSON
// lines that never contain a secret: API tokens, license keys (also when they are in a URL),
// license tokens, device proofs, deactivation files, private keys.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { routeTable } from '../../../license-server/src/http/route-table.ts';
import { httpFixture } from './helpers/http-fixture.ts';

/** The long lines of a PEM (its base64 body): any of them in a log is a leak. */
const pemLines = (pem: string): string[] => pem.split('\n').filter((l) => l.length >= 32 && !l.startsWith('-----'));

describe('logs', () => {
  it('hold no secret after every endpoint was called, at trace level', async () => {
    const f = await httpFixture({ logLevel: 'trace' });
    const secrets: string[] = [f.adminToken];
    const readOnly = await f.token(['licenses:read']);
    secrets.push(readOnly);

    const { key, id } = await f.createLicense({ maxDevices: 2 });
    secrets.push(key, key.replace(/-/g, ''), key.toLowerCase());
    const [one, two] = [await f.device(1), await f.device(2)];
    secrets.push(...pemLines(one.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()));
    for (const file of readdirSync(f.ctx.config.keysDir).filter((n) => n.endsWith('.private.pem'))) {
      secrets.push(...pemLines(readFileSync(join(f.ctx.config.keysDir, file), 'utf8')));
    }

    const act1 = (await f.post('/v1/activations', { licenseKey: key, request: one.request }, null)).json();
    const act2 = (await f.post('/v1/activations', { licenseKey: key, request: two.request }, null)).json();
    secrets.push(act1.token, act2.token);
    const proof = await one.proof(act1.token);
    const refreshed = (await f.post('/v1/activations/refresh', { proof }, null)).json();
    secrets.push(proof, refreshed.token);
    await f.post('/v1/activations/refresh', { proof }, null); // a replay: refused, logged
    const proof2 = await one.proof(refreshed.token);
    secrets.push(proof2);
    await f.post('/v1/deactivations', { proof: proof2 }, null);
    const file = await two.deactivationFile(act2.token);
    secrets.push(file);
    await f.post('/v1/deactivation-files', { document: file });

    // sync: catalog, orders, fleet, and the snapshot with a device proof
    const three = await f.device(3);
    const { key: syncKey } = await f.createLicense({ maxDevices: 1 });
    const act3 = (await f.post('/v1/activations', { licenseKey: syncKey, request: three.request }, null)).json();
    const snapshotProof = await three.proof(act3.token);
    secrets.push(syncKey, act3.token, snapshotProof);
    await f.post('/v1/tenants/shop-1/catalog/products', { sku: 'ESP-01', name: 'Espresso', priceMinor: 250, currency: 'EUR', taxRateBp: 700, active: true });
    await f.post('/v1/tenants/shop-1/catalog/products/ESP-01/price', { priceMinor: 260 });
    await f.post('/v1/tenants/shop-1/catalog/products/ESP-01/stock', { delta: 5 });
    await f.get('/v1/tenants/shop-1/catalog');
    await f.get('/v1/tenants/shop-1/catalog/products/ESP-01');
    await f.post('/v1/tenants/shop-1/catalog/products/ESP-01/delete', {});
    await f.get('/v1/tenants/shop-1/orders?limit=5');
    await f.get('/v1/tenants/shop-1/orders/ord-00000001');
    await f.get('/v1/tenants/shop-1/fleet');
    await f.get('/v1/catalog/snapshot', null, { authorization: `DeviceProof ${snapshotProof}` });

    await f.get('/v1/licenses');
    await f.get(`/v1/licenses/${encodeURIComponent(key)}`);
    await f.get(`/v1/licenses/${key.toLowerCase().replace(/-/g, '')}`, readOnly);
    await f.get(`/v1/licenses/${id}/devices`);
    await f.get(`/v1/audit?license=${encodeURIComponent(key)}&limit=5`);
    await f.post(`/v1/licenses/${id}/devices/${one.deviceId}/deactivate`);
    await f.post(`/v1/licenses/${encodeURIComponent(key)}/revoke`);
    await f.get('/v1/revocations', null);
    await f.get('/.well-known/jwks.json', null);
    await f.get('/openapi.json', null);
    // failures: wrong scope, bad token, bad JSON, unknown route with a key in it
    await f.post('/v1/licenses', { tenant: 'x', features: [], maxDevices: 1, days: 1 }, readOnly);
    await f.get('/v1/licenses', `${f.adminToken}x`);
    await f.app.inject({ method: 'POST', url: '/v1/activations', headers: { 'content-type': 'application/json' }, payload: `{"licenseKey":"${key}",` });
    await f.get(`/v1/nothing/${key}?key=${key}`, null);

    const lines = f.logLines.flatMap((chunk) => chunk.split('\n')).filter((l) => l.length > 0);
    const records = lines.map((l) => JSON.parse(l) as { req?: { route?: string; method?: string; url?: string } });
    const called = new Set(records.filter((r) => r.req?.route).map((r) => `${r.req?.method} ${r.req?.route}`));
    for (const route of routeTable(f.app)) expect(called, `${route.method} ${route.url} was not exercised`).toContain(`${route.method} ${route.url}`);
    expect(records.some((r) => r.req?.url?.includes('[redacted]'))).toBe(true);

    const text = lines.join('\n');
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(16);
      expect(text.includes(secret), `a secret (${secret.slice(0, 12)}…) is in the log`).toBe(false);
    }
    // the token and proof signatures alone are secrets' fingerprints too
    for (const jws of [act1.token, refreshed.token, proof, file]) expect(text).not.toContain(jws.split('.')[2]);
  });
});
