// Server restarts during ingest: the real agent daemon (`node bin/kiosk-agent.mjs run`, child
// process) takes bursts of orders through its local API while the real license server
// (`node bin/license-server.mjs start`, child process, one data dir and fixed HTTP and MQTT ports
// kept across restarts) is SIGKILLed at random moments and started again, several times.
// Afterwards: every order the kiosk answered 201 is in the server's database exactly once (and
// accepted), every outbox row is acked, seqs on the server are 1..N without gaps, and
// `PRAGMA integrity_check` is ok on both databases. Bounded: polling with timeouts only.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { fixedClock } from '../../common/clock.ts';
import { REPO_ROOT } from '../helpers/cli.ts';
import { runServer } from '../helpers/server-cli.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import { agentDevice, deadServerUrl, ISSUER } from './agent/helpers/online.ts';
import { waitFor } from './agent/helpers/sync-harness.ts';

const RESTARTS = 6;
const BURST = 40;

interface Child {
  readonly proc: ChildProcess;
  readonly stderr: () => string;
}

const exited = (c: ChildProcess): Promise<void> => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', () => r())));

describe('sync: license server restarts during ingest', () => {
  it(`${RESTARTS} SIGKILLs of the server during order bursts: every 201 on the server exactly once, outbox all acked, both databases intact`, async () => {
    const clock = fixedClock(Date.now());
    const cwd = makeTempDir('kiosk-restart-server-');
    const run = (args: readonly string[]) => runServer(args, { cwd, env: {}, clock });
    const keys = await run(['keys', 'generate', '--issuer', ISSUER]);
    expect(keys.code, keys.stderr).toBe(0);
    const httpPort = Number(new URL(await deadServerUrl()).port);
    const mqttPort = Number(new URL(await deadServerUrl()).port);
    const serverUrl = `http://127.0.0.1:${httpPort}`;
    const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;

    let server: Child | null = null;
    const children = new Set<ChildProcess>();
    onTestFinished(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await Promise.all([...children].map(exited));
    });
    const startServerChild = async (): Promise<void> => {
      const proc = spawn(process.execPath, [resolve(REPO_ROOT, 'bin', 'license-server.mjs'), 'start', '--host', '127.0.0.1', '--port', String(httpPort), '--mqtt-port', String(mqttPort)], {
        cwd,
        env: { ...process.env, LICENSE_SERVER_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(proc);
      let out = '';
      let err = '';
      proc.stdout?.on('data', (d: Buffer) => void (out += d.toString('utf8')));
      proc.stderr?.on('data', (d: Buffer) => void (err = (err + d.toString('utf8')).slice(-8000)));
      server = { proc, stderr: () => err };
      await waitFor('the license server listening', () => {
        if (proc.exitCode !== null) throw new Error(`license server exited (${proc.exitCode}): ${err}`);
        return out.includes('listening on');
      }, 30_000);
      // sync starts before HTTP listens: a broker that could not bind says so by now
      expect(err, 'the embedded broker must be up').not.toMatch(/sync is OFF/);
    };
    const killServer = async (signal: NodeJS.Signals): Promise<void> => {
      const s = server as Child | null;
      server = null;
      if (!s) return;
      s.proc.kill(signal);
      await exited(s.proc);
    };

    await startServerChild();
    const admin = await run(['admin', 'create-token', '--json']);
    expect(admin.code, admin.stderr).toBe(0);
    const adminToken = admin.json<{ token: string }>().token;
    const vendor = async (path: string, body: unknown): Promise<number> =>
      (await fetch(new URL(path, serverUrl), { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).status;
    expect(await vendor('/v1/tenants/shop-1/catalog/products', { sku: 'ESP-01', name: 'Espresso', priceMinor: 250, currency: 'EUR', taxRateBp: 700, active: true })).toBe(200);
    expect(await vendor('/v1/tenants/shop-1/catalog/products/ESP-01/stock', { level: 1_000_000 })).toBe(200);
    const lic = await run(['license', 'create', '--tenant', 'shop-1', '--features', 'pos,sync', '--max-devices', '2', '--days', '365', '--json']);
    expect(lic.code, lic.stderr).toBe(0);

    const device = agentDevice({ clock, keysFile: join(cwd, '.data', 'server', 'keys', 'jwks.json') });
    const act = await device.run(['activate', '--server', serverUrl, '--key', lic.json<{ licenseKey: string }>().licenseKey, '--json']);
    expect(act.code, act.stderr).toBe(0);

    const apiPort = Number(new URL(await deadServerUrl()).port);
    const api = `http://127.0.0.1:${apiPort}`;
    const config = join(device.dir, 'restart.json');
    writeFileSync(config, JSON.stringify({ logLevel: 'warn', api: { port: apiPort }, sync: { mqttUrl, ackTimeoutSeconds: 5 } }));
    let agentErr = '';
    const agent = spawn(process.execPath, [resolve(REPO_ROOT, 'bin', 'kiosk-agent.mjs'), 'run', '--config', config, '--data-dir', device.dataDir, '--sysroot', device.root], {
      cwd: device.dir,
      env: { ...process.env, KIOSK_AGENT_TRUSTED_KEYS: device.env.KIOSK_AGENT_TRUSTED_KEYS },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.add(agent);
    agent.stderr?.on('data', (d: Buffer) => void (agentErr = (agentErr + d.toString('utf8')).slice(-8000)));
    const status = async (): Promise<any> => (await fetch(`${api}/v1/status`)).json();
    const diagnose = (err: unknown): never => {
      console.log(`agent stderr:\n${agentErr}\nserver stderr:\n${(server as Child | null)?.stderr() ?? '(down)'}`);
      throw err;
    };
    await waitFor('the local API up', async () => {
      if (agent.exitCode !== null) throw new Error(`agent exited (${agent.exitCode}): ${agentErr}`);
      return fetch(`${api}/v1/status`).then((r) => r.ok, () => false);
    }, 30_000).catch(diagnose);
    await waitFor('connected with the catalog', async () => {
      const s = await status();
      return s.connection === 'connected' && s.catalog.version >= 2;
    }, 30_000).catch(diagnose);

    const got201 = new Set<string>();
    const other: string[] = [];
    const depthAtKill: number[] = [];
    let killedConnected = 0;
    let n = 0;
    const post = async (orderId: string): Promise<void> => {
      const res = await fetch(`${api}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ orderId, lines: [{ sku: 'ESP-01', qty: 1 }] }) });
      if (res.status === 201) got201.add(orderId);
      else other.push(`${orderId}: ${res.status} ${await res.text()}`);
    };
    for (let round = 0; round < RESTARTS; round++) {
      // a burst, four at a time, while the server dies under it and comes back
      const ids = Array.from({ length: BURST }, () => `restart-${String(++n).padStart(5, '0')}`);
      const burst = (async () => {
        for (let i = 0; i < ids.length; i += 4) {
          await Promise.all(ids.slice(i, i + 4).map(post));
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      await new Promise((r) => setTimeout(r, 30 + Math.floor(Math.random() * 250)));
      const before = await status();
      depthAtKill.push(before.outbox.depth);
      if (before.connection === 'connected') killedConnected += 1;
      await killServer('SIGKILL');
      await startServerChild();
      await burst;
      // the next kill should find the kiosk connected and uploading again
      await waitFor('reconnected', async () => (await status()).connection === 'connected', 90_000).catch(diagnose);
    }
    expect(other).toEqual([]);
    expect(got201.size).toBe(RESTARTS * BURST);

    await waitFor('the outbox drained', async () => (await status()).outbox.depth === 0, 120_000).catch(diagnose);
    agent.kill('SIGTERM');
    await exited(agent);
    await killServer('SIGTERM');

    const db = new Database(join(cwd, '.data', 'server', 'server.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const rows = db.prepare(`SELECT order_id AS id, COUNT(*) AS n, MIN(status) AS status, MIN(seq) AS seq FROM sync_orders WHERE tenant = 'shop-1' GROUP BY order_id`).all() as Array<{ id: string; n: number; status: string; seq: number }>;
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const id of got201) {
        expect(byId.get(id)?.n, id).toBe(1);
        expect(byId.get(id)?.status, id).toBe('accepted');
      }
      expect(rows.length).toBe(got201.size);
      const seqs = rows.map((r) => r.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    } finally {
      db.close();
    }
    device.withStore((store) => {
      expect(store.integrityCheck()).toEqual(['ok']);
      const states = store.db.prepare('SELECT state, COUNT(*) AS n FROM outbox GROUP BY state').all() as Array<{ state: string; n: number }>;
      expect(states).toEqual([{ state: 'acked', n: got201.size }]);
      for (const id of got201) expect(store.sales.order(id)?.sync?.state, id).toBe('acked');
      const resent = store.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE attempts > 1').get() as { n: number };
      console.log(`server restarts: ${RESTARTS} SIGKILLs, ${got201.size} orders got 201, outbox depth at each kill ${depthAtKill.join(', ')} (${killedConnected} kills with the kiosk connected), ${resent.n} orders sent more than once`);
    });
    // the kills did land during ingest: orders were waiting for their ack when the server died
    expect(depthAtKill.some((d) => d > 0)).toBe(true);
    expect(killedConnected).toBeGreaterThan(0);
  }, 240_000);
});
