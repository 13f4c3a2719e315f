// kill -9 chaos: the real bin (`node bin/kiosk-agent.mjs run`), activated against the real
// license server, syncing through an aedes broker to the fake server. Bursts of concurrent
// orders through the local API, SIGKILL at random moments (≥ 20 times), restart each time.
// Afterwards: every order that got 201 reached the server exactly once (idempotent ingest by
// orderId; resends are allowed and counted), seqs are 1..N without gaps, and no order that did
// not get 201 is half-there (it is absent everywhere, or whole in the store and on the server).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../common/clock.ts';
import { REPO_ROOT } from '../../helpers/cli.ts';
import { agentDevice, deadServerUrl, startRealServer } from './helpers/online.ts';
import { PRODUCTS, startAedes, startFakeServer, waitFor } from './helpers/sync-harness.ts';

const KILLS = 20;

describe('sync: kill -9 chaos', () => {
  it(`${KILLS} SIGKILLs during order bursts: 201 ⇒ on the server exactly once; no 201 ⇒ never half-there`, async () => {
    const clock = fixedClock(Date.now());
    const realServer = await startRealServer(clock);
    const device = agentDevice({ clock, keysFile: realServer.keysFile });
    const lic = await realServer.createLicense();
    const act = await device.run(['activate', '--server', realServer.url, '--key', lic.key, '--json']);
    expect(act.code, act.stderr).toBe(0);
    const broker = await startAedes();
    const fake = await startFakeServer({ brokerUrl: broker.url, tenant: 'shop-1', products: PRODUCTS });
    const port = Number(new URL(await deadServerUrl()).port);
    const config = join(device.dir, 'chaos.json');
    writeFileSync(config, JSON.stringify({ logLevel: 'warn', api: { port }, sync: { mqttUrl: broker.url, ackTimeoutSeconds: 5 } }));
    const api = `http://127.0.0.1:${port}`;

    let child: ChildProcess | null = null;
    const start = async (): Promise<void> => {
      child = spawn(process.execPath, [resolve(REPO_ROOT, 'bin', 'kiosk-agent.mjs'), 'run', '--config', config, '--data-dir', device.dataDir, '--sysroot', device.root], {
        cwd: device.dir,
        env: { ...process.env, KIOSK_AGENT_TRUSTED_KEYS: device.env.KIOSK_AGENT_TRUSTED_KEYS },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr?.resume();
      await waitFor('local API up', async () => {
        try {
          return (await fetch(`${api}/v1/status`)).ok;
        } catch {
          return false;
        }
      }, 30_000);
    };
    const kill = async (): Promise<void> => {
      const c = child as ChildProcess | null;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    };

    await start();
    await waitFor('catalog', async () => ((await (await fetch(`${api}/v1/status`)).json()) as any).catalog.version >= 1, 30_000);
    const got201 = new Set<string>();
    const unknown = new Set<string>();
    let n = 0;
    for (let round = 0; round < KILLS; round++) {
      if (round > 0) await start();
      const burst = Array.from({ length: 25 }, () => `chaos-${String(++n).padStart(5, '0')}`);
      const posts = burst.map(async (orderId, i) => {
        await new Promise((r) => setTimeout(r, i * 3));
        try {
          const res = await fetch(`${api}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ orderId, lines: [{ sku: 'ESP-01', qty: 1 }] }) });
          if (res.status === 201) got201.add(orderId);
          else unknown.add(orderId);
        } catch {
          unknown.add(orderId);
        }
      });
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 400)));
      await kill();
      await Promise.all(posts);
    }
    await start();
    await waitFor('outbox drained', async () => ((await (await fetch(`${api}/v1/status`)).json()) as any).outbox.depth === 0, 120_000);
    await kill();

    expect(got201.size).toBeGreaterThan(0);
    for (const id of got201) expect(fake.orders.has(id), id).toBe(true);
    const seqs = [...fake.orders.values()].map((o) => o.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    device.withStore((store) => {
      expect(store.integrityCheck()).toEqual(['ok']);
      const orphans = store.db.prepare(
        `SELECT (SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM outbox b WHERE b.order_id = o.order_id))
              + (SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.order_id)) AS n`,
      ).get() as { n: number };
      expect(orphans.n).toBe(0);
      for (const id of unknown) {
        const local = store.sales.order(id);
        if (local === null) expect(fake.orders.has(id), id).toBe(false);
        else {
          expect(fake.orders.get(id)?.lines).toEqual(local.message.lines);
          expect(local.sync?.state).toBe('acked');
        }
      }
      for (const id of got201) expect(store.sales.order(id)?.sync?.state).toBe('acked');
    });
    console.log(`chaos: ${KILLS} kills, ${got201.size} orders got 201, ${unknown.size} without an answer, ${fake.orders.size} on the server, ${[...fake.received.values()].filter((c) => c > 1).length} resent`);
  }, 300_000);
});
