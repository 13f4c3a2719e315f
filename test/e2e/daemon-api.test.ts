// The daemon's local API through the built executables (DESIGN §4.6, docs/building.md): the
// repo's license server runs in this process (its HTTP API and embedded MQTT broker on free
// loopback ports, signing with the run's vendor keys); the executable activates online, the
// vendor puts a product through the vendor API, and `kiosk-agent run` (sync on, the local API on
// a free port through KIOSK_AGENT_API_PORT=0) gets it over the broker as a real kiosk does. Then
// an order through the local API: 201 after the commit, readable by id, still there after a
// kill -9 and a restart, idempotent, acked by the server. Once per way of running: x64 natively
// as a non-root user with the unit's ambient capability, arm64 under qemu, x64 on Debian 11's libc.
//
// Every executable run here is spawned asynchronously: the license server answers from this
// process's event loop, which spawnSync would block.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createServerContext, type ServerContext } from '../../license-server/src/app.ts';
import { startServer, type RunningServer } from '../../license-server/src/cli/start.ts';
import { resolveServerConfig, resolveStartConfig } from '../../license-server/src/config.ts';
import { capturingIO, toResult, type CliResult } from '../helpers/cli.ts';
import { runServer } from '../helpers/server-cli.ts';
import { copySysroot } from '../helpers/sysroot.ts';
import { makeTempDir, makeTempDirManual } from '../helpers/tmp.ts';
import { e2eEnv } from './helpers/env.ts';
import { baseEnv, debian11Runner, exeCommand, nativeRunner, NOBODY, qemuRunner, type AsUser, type Runner } from './helpers/run-exe.ts';

const env = e2eEnv();

function runAsync(runner: Runner, args: readonly string[], asUser?: AsUser): Promise<CliResult> {
  const [cmd, argv] = exeCommand(runner, env.executables.test[runner.arch], args, asUser ? { asUser } : {});
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, argv, { cwd: '/', env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise(toResult(code ?? (signal ? 128 : -1), out, err));
    });
  });
}

interface Daemon {
  readonly url: string;
  readonly child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
}

/** `kiosk-agent run`, until its "daemon started" line; the API's URL from its "local API listening" line. */
async function startDaemon(runner: Runner, args: readonly string[], extraEnv: Record<string, string>, asUser?: AsUser): Promise<Daemon> {
  const [cmd, argv] = exeCommand(runner, env.executables.test[runner.arch], ['run', ...args], asUser ? { asUser } : {});
  const child = spawn(cmd, argv, { cwd: '/', env: { ...baseEnv(), ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let url = '';
  child.stdout!.on('data', (b: Buffer) => (stderr += `[stdout] ${b.toString()}`));
  const exited = new Promise<number | null>((resolvePromise) => child.on('exit', (code) => resolvePromise(code)));
  await new Promise<void>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "daemon started" within 60 s:\n${stderr}`));
    }, 60_000);
    child.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      const line = stderr.split('\n').find((l) => l.includes('"msg":"local API listening"'));
      if (line) url = (JSON.parse(line) as { url: string }).url;
      if (url && stderr.includes('"msg":"daemon started"')) {
        clearTimeout(timer);
        resolvePromise();
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`run ended (${signal ?? `exit ${code}`}) before it started:\n${stderr}`));
    });
  });
  return { url, child, stderr: () => stderr, exited };
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs: number, logs: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A GET with a Host header of our choosing (fetch always sends the URL's own). */
function getWithHost(url: string, host: string): Promise<{ status: number; body: any }> {
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      let text = '';
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    req.end();
  });
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid, gid);
}

interface VendorServer {
  readonly url: string;
  /** The server's CLI against its database. */
  cli(args: readonly string[]): Promise<CliResult>;
  /** A POST to the vendor API with an admin token. */
  post(path: string, body: unknown): Promise<Response>;
}

/**
 * The repo's license server in this process, its own database, the run's vendor keys, the HTTP
 * API and the embedded broker on free loopback ports; one per test (a broker keeps a device's
 * session by its id, and every test's device is the same fixture). Stopped when the test ends.
 */
async function startVendorServer(): Promise<VendorServer> {
  const tmp = makeTempDirManual('e2e-daemon-server-');
  const dir = tmp.dir;
  const serverArgs = ['--data-dir', join(dir, 'server'), '--keys', env.vendorKeysDir];
  const io = capturingIO({}, dir);
  const ctx: ServerContext = createServerContext(resolveServerConfig({ flags: { 'data-dir': join(dir, 'server'), keys: env.vendorKeysDir }, env: {}, cwd: dir }), {}, io);
  const config = resolveStartConfig({ server: ctx.config, flags: { host: '127.0.0.1', port: '0', 'mqtt-port': '0', dev: false } as never, env: {}, cwd: dir });
  const server: RunningServer = await startServer(ctx, { ...config, logLevel: 'silent' } as typeof config, io);
  onTestFinished(async () => {
    await server.stop();
    await ctx.close();
    tmp.remove();
  });
  expect(server.sync, io.err.join('')).not.toBeNull();
  const cli = (args: readonly string[]) => runServer([...args, ...serverArgs]);
  const admin = await cli(['admin', 'create-token', '--json']);
  expect(admin.code, admin.stderr).toBe(0);
  const token = admin.json<{ token: string }>().token;
  return {
    url: server.url,
    cli,
    post: (path, body) =>
      fetch(new URL(path, server.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
  };
}

const runners: Array<{ runner: Runner; asUser?: AsUser }> = [
  { runner: nativeRunner, asUser: { ...NOBODY, ambientCaps: ['dac_read_search'] } },
  { runner: qemuRunner(env.crossSysroot) },
];
if (env.debian11.x64.ok) runners.push({ runner: debian11Runner('x64', env.debian11.x64.root, env.debian11.x64.glibc) });

describe.each(runners)('kiosk-agent run and its local API, $runner.name', ({ runner, asUser }) => {
  it(`activated online, gets the vendor's product over the broker, takes an order (201 after the commit, durable, idempotent, acked)${asUser ? '; as a non-root user' : ''}`, async () => {
    const server = await startVendorServer();
    const tenant = 'shop-1';
    const sku = `SKU-${runner.arch.toUpperCase()}-1`;
    expect((await server.post(`/v1/tenants/${tenant}/catalog/products`, { sku, name: 'Espresso', priceMinor: 250, currency: 'EUR', taxRateBp: 700, active: true })).status).toBe(200);
    expect((await server.post(`/v1/tenants/${tenant}/catalog/products/${sku}/stock`, { level: 10 })).status).toBe(200);
    const lic = await server.cli(['license', 'create', '--tenant', tenant, '--features', 'sales,sync', '--max-devices', '2', '--days', '365', '--json']);
    expect(lic.code, lic.stderr).toBe(0);

    const dir = makeTempDir('e2e-daemon-');
    chmodSync(dir, 0o755);
    const sysroot = copySysroot('x64-pc');
    chmodSync(join(sysroot, '..'), 0o755);
    const dataDir = join(dir, 'data');
    const device = ['--sysroot', sysroot, '--data-dir', dataDir];
    const act = await runAsync(runner, ['activate', '--server', server.url, '--key', lic.json<{ licenseKey: string }>().licenseKey, '--json', ...device]);
    expect(act.code, act.stderr).toBe(0);
    if (asUser) {
      // hand the data dir to the service user, as install.sh (chown) and systemd (StateDirectory=) do
      rmSync(join(dataDir, 'native'), { recursive: true, force: true });
      chownTree(dataDir, asUser.uid, asUser.gid);
    }
    const daemonEnv = { KIOSK_AGENT_SYNC: 'on', KIOSK_AGENT_API_PORT: '0' };
    let d = await startDaemon(runner, device, daemonEnv, asUser);
    try {
      const get = async (path: string): Promise<any> => (await fetch(`${d.url}${path}`)).json();
      const status = await get('/v1/status');
      expect(status).toMatchObject({ mode: 'licensed', reason: null });
      expect((await getWithHost(`${d.url}/v1/status`, 'attacker.example:80')).status).toBe(421); // DNS-rebinding guard

      await waitFor('the catalog over the broker', async () => (await get(`/v1/products/${sku}`)).available === 10, 60_000, d.stderr);
      expect((await get('/v1/catalog')).products.map((p: { sku: string }) => p.sku)).toEqual([sku]);

      const orderId = `e2e-${runner.arch}-${Date.now()}`;
      const post = () =>
        fetch(`${d.url}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ orderId, lines: [{ sku, qty: 3 }] }) });
      const placed = await post();
      expect(placed.status).toBe(201);
      const created = (await placed.json()) as { order: { orderId: string } };
      expect(created.order).toMatchObject({ orderId });
      // 201 only after the durable commit: kill -9 at once, restart, the order is there
      d.child.kill('SIGKILL');
      await d.exited;
      d = await startDaemon(runner, device, daemonEnv, asUser);
      expect((await get(`/v1/orders/${orderId}`)).order).toEqual(created.order);
      const again = await post();
      expect(again.status).toBe(200); // idempotent: the same order, not a second one
      expect(((await again.json()) as { order: unknown }).order).toEqual(created.order);
      await waitFor('the server\'s ack', async () => (await get(`/v1/orders/${orderId}`)).sync.state === 'acked', 60_000, d.stderr);
      await waitFor('the stock back down', async () => (await get(`/v1/products/${sku}`)).available === 7, 60_000, d.stderr);
      expect((await get('/v1/status')).outbox).toMatchObject({ pending: 0, inflight: 0 });

      d.child.kill('SIGTERM');
      expect(await d.exited).toBe(0);
      if (asUser) {
        const [hash] = readdirSync(join(dataDir, 'native'));
        expect(statSync(join(dataDir, 'native', hash!, 'better_sqlite3.node')).uid).toBe(asUser.uid);
      }
    } finally {
      d.child.kill('SIGKILL');
    }
  }, 240_000);
});
