// End to end with the real license server (its embedded aedes broker with device-proof
// authentication, order ingest with acks, catalog versions and the snapshot endpoint) and the
// agent's daemon (`run`, in-process) with sync on: activate online, the vendor puts a product,
// the kiosk sells it through its local API, the order is acked and the stock comes back down.
import { describe, expect, it, onTestFinished } from 'vitest';
import { fixedClock } from '../../../common/clock.ts';
import { createServerContext } from '../../../license-server/src/app.ts';
import { startServer, type RunningServer } from '../../../license-server/src/cli/start.ts';
import { resolveServerConfig, resolveStartConfig } from '../../../license-server/src/config.ts';
import { capturingIO } from '../../helpers/cli.ts';
import { runServer } from '../../helpers/server-cli.ts';
import { makeTempDir } from '../../helpers/tmp.ts';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { agentDevice, ISSUER, startDaemon } from './helpers/online.ts';
import { waitFor } from './helpers/sync-harness.ts';

describe('sync end to end with the real license server', () => {
  it('activate → catalog over the embedded broker → sale via the local API → acked by the server → stock down on both sides', async () => {
    const clock = fixedClock(Date.now());
    const cwd = makeTempDir('kiosk-e2e-server-');
    const run = (args: readonly string[]) => runServer(args, { cwd, env: {}, clock });
    expect((await run(['keys', 'generate', '--issuer', ISSUER])).code).toBe(0);
    const io = capturingIO({}, cwd);
    const ctx = createServerContext(resolveServerConfig({ flags: {}, env: {}, cwd }), { clock }, io);
    const config = resolveStartConfig({ server: ctx.config, flags: { host: '127.0.0.1', port: '0', 'mqtt-port': '0', dev: false } as never, env: {}, cwd });
    const server: RunningServer = await startServer(ctx, { ...config, logLevel: 'silent' } as typeof config, io);
    onTestFinished(async () => {
      await server.stop();
      await ctx.close();
    });
    expect(server.sync, io.err.join('')).not.toBeNull();
    const admin = await run(['admin', 'create-token', '--json']);
    const adminToken: string = admin.json<{ token: string }>().token;
    const vendor = (path: string, body?: unknown) =>
      fetch(new URL(path, server.url), {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    expect((await vendor('/v1/tenants/shop-1/catalog/products', { sku: 'ESP-01', name: 'Espresso', priceMinor: 250, currency: 'EUR', taxRateBp: 700, active: true })).status).toBe(200);
    expect((await vendor('/v1/tenants/shop-1/catalog/products/ESP-01/stock', { level: 10 })).status).toBe(200);

    const lic = await run(['license', 'create', '--tenant', 'shop-1', '--features', 'pos,sync', '--max-devices', '2', '--days', '365', '--json']);
    const licenseKey: string = lic.json<{ licenseKey: string }>().licenseKey;
    const device = agentDevice({ clock, keysFile: join(cwd, '.data', 'server', 'keys', 'jwks.json') });
    const act = await device.run(['activate', '--server', server.url, '--key', licenseKey, '--json']);
    expect(act.code, act.stderr).toBe(0);

    const cfg = join(device.dir, 'agent.json');
    writeFileSync(cfg, JSON.stringify({ checkIntervalMinutes: 60 }));
    const d = await startDaemon(device, ['--config', cfg], { env: { KIOSK_AGENT_SYNC: 'on' } });
    const api = String(d.logs().find((l) => l.msg === 'local API listening')?.url);
    const get = async (path: string) => (await fetch(`${api}${path}`)).json() as Promise<any>;
    await waitFor('connected and catalog in', async () => (await get('/v1/status')).catalog.version >= 2 && (await get('/v1/status')).connection === 'connected', 30_000).catch((err) => {
      console.log(d.stderr());
      throw err;
    });
    expect((await get('/v1/products/ESP-01')).available).toBe(10);

    const sale = await fetch(`${api}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ orderId: 'e2e-order-0001', lines: [{ sku: 'ESP-01', qty: 3 }] }) });
    expect(sale.status).toBe(201);
    await waitFor('acked', async () => (await get('/v1/orders/e2e-order-0001')).sync.state === 'acked', 30_000).catch((err) => {
      console.log(d.stderr());
      throw err;
    });
    const serverCatalog = await (await vendor('/v1/tenants/shop-1/catalog')).json() as any;
    await waitFor('stock version in', async () => (await get('/v1/status')).catalog.version === serverCatalog.version, 30_000);
    expect((await get('/v1/products/ESP-01'))).toMatchObject({ stockLevel: 7, available: 7 });
    expect((await get('/v1/status')).catalog.checksum).toBe(serverCatalog.checksum);
    expect(await d.stop()).toBe(0);
  }, 120_000);
});
