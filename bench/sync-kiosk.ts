// The sync bench's kiosk measure: a real agent (`kiosk-agent run`) taking orders on its local
// API while it syncs to the server, beside a trivial fastify POST route.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnListening } from './child-process.ts';
import { measure, type Sample } from './harness.ts';
import { freePort, poll } from './sync-kit.ts';

export const ORDER_POST_MS = 3_000;

// --- (b) the kiosk's local API -------------------------------------------------------------------

export async function kioskOrders(
  dir: string,
  children: ChildProcess[],
  o: { serverUrl: string; mqttUrl: string; licenseKey: string; trustedKeys: string },
): Promise<{ orders: Sample; trivial: Sample }> {
  const root = join(dir, 'sysroot');
  cpSync(resolve('test/fixtures/sysroots/x64-pc'), root, { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(root, 'run/systemd/timesync'), { recursive: true });
  writeFileSync(join(root, 'run/systemd/timesync/synchronized'), '');
  const agentData = join(dir, 'agent');
  const env = { ...process.env, KIOSK_AGENT_TRUSTED_KEYS: o.trustedKeys };
  const activation = spawn(process.execPath, [resolve('bin/kiosk-agent.mjs'), 'activate', '--server', o.serverUrl, '--key', o.licenseKey, '--sysroot', root, '--data-dir', agentData, '--json'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let activationErr = '';
  activation.stderr?.on('data', (d: Buffer) => void (activationErr += d.toString('utf8')));
  const [code] = (await once(activation, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`kiosk-agent activate exited ${code}: ${activationErr}`);

  const apiPort = await freePort();
  const api = `http://127.0.0.1:${apiPort}`;
  writeFileSync(join(dir, 'agent.json'), JSON.stringify({ logLevel: 'warn', api: { port: apiPort }, sync: { mqttUrl: o.mqttUrl } }));
  const agent = spawn(process.execPath, [resolve('bin/kiosk-agent.mjs'), 'run', '--config', join(dir, 'agent.json'), '--data-dir', agentData, '--sysroot', root], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(agent);
  let agentErr = '';
  agent.stderr?.on('data', (d: Buffer) => void (agentErr = (agentErr + d.toString('utf8')).slice(-4000)));
  await poll('the agent connected with the catalog', async () => {
    if (agent.exitCode !== null) throw new Error(`the agent exited (${agent.exitCode}): ${agentErr}`);
    const s = (await fetch(`${api}/v1/status`).then((r) => r.json(), () => null)) as { connection?: string; catalog?: { version: number } } | null;
    return s?.connection === 'connected' && (s.catalog?.version ?? 0) >= 2;
  }, 30_000);

  const trivialUrl = await spawnListening(children, ['--input-type=module', '-e', TRIVIAL_SERVER], process.cwd());
  let n = 0;
  const post = async (url: string, body: string): Promise<void> => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (res.status !== 201) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  const orderBody = (): string => JSON.stringify({ orderId: `kiosk-order-${++n}`, lines: [{ sku: 'ESP-01', qty: 1 }] });
  const trivial = await measure(() => post(`${trivialUrl}/v1/orders`, orderBody()), { timeMs: ORDER_POST_MS, warmup: 50, maxN: 20_000 });
  const orders = await measure(() => post(`${api}/v1/orders`, orderBody()), { timeMs: ORDER_POST_MS, warmup: 20, maxN: 5_000 });
  return { orders, trivial };
}

const TRIVIAL_SERVER = `
import fastify from 'fastify';
const app = fastify({ logger: false });
app.post('/v1/orders', async (request, reply) => reply.code(201).send({}));
await app.listen({ host: '127.0.0.1', port: 0 });
console.log('listening on http://127.0.0.1:' + app.server.address().port);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;
