// Sync tests' collaborators, all real: an aedes broker on loopback (no device auth), a tiny fake
// "server" built with mqtt.js (acks orders after recording them, publishes heads and deltas,
// answers catch-up and serves the HTTP snapshot), and a kiosk: the agent's store in a temp data
// dir, its sync engine and its local API on 127.0.0.1:0, with a stub license.
import { createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Aedes } from 'aedes';
import fastify from 'fastify';
import { connect, type MqttClient } from 'mqtt';
import { onTestFinished } from 'vitest';
import { systemClock } from '../../../../common/clock.ts';
import { catalogChecksum, topics, type CatalogOp, type Product } from '../../../../common/sync-messages.ts';
import { systemScheduler } from '../../../../agent/src/daemon/daemon.ts';
import { createSyncMetrics } from '../../../../agent/src/daemon/sync-metrics.ts';
import type { LicenseMode } from '../../../../agent/src/domain/license-policy.ts';
import { createLocalApi, type LocalApi } from '../../../../agent/src/http/local-api.ts';
import { openAgentStore, type AgentStore } from '../../../../agent/src/store/agent-store.ts';
import { createSyncEngine, type SyncEngine } from '../../../../agent/src/sync/sync-engine.ts';
import { makeTempDir } from '../../../helpers/tmp.ts';

export const waitFor = async (what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

export const uniqueTenant = (): string => `t${randomBytes(6).toString('hex')}`;
/** A device id of its own per kiosk (brokers keep clean: false sessions by client id). */
export const newDeviceId = (): string => randomBytes(16).toString('hex');

// --- broker ----------------------------------------------------------------------------------

export interface TestBroker {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  /** A fresh broker (sessions lost) on the same port. */
  start(): Promise<void>;
}

export async function startAedes(opts: { onConnect?: (clientId: string, password: string) => void } = {}): Promise<TestBroker> {
  let server: Server | null = null;
  let broker: Aedes | null = null;
  let port = 0;
  const sockets = new Set<Socket>();
  const start = async (): Promise<void> => {
    broker = await Aedes.createBroker({
      maxClientsIdLength: 64,
      authenticate(client, _username, password, done) {
        opts.onConnect?.(client.id, password?.toString('utf8') ?? '');
        done(null, true);
      },
    });
    const s = createServer(broker.handle);
    s.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    server = s;
    const address = s.address();
    if (address && typeof address === 'object') port = address.port;
  };
  const stop = async (): Promise<void> => {
    const s = server;
    const b = broker;
    server = null;
    broker = null;
    if (b) await new Promise<void>((r) => b.close(() => r()));
    if (s) {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((r) => s.close(() => r()));
    }
  };
  await start();
  onTestFinished(stop);
  return { get url() { return `mqtt://127.0.0.1:${port}`; }, get port() { return port; }, stop, start } as TestBroker;
}

// --- fake server ------------------------------------------------------------------------------

export interface FakeServer {
  readonly tenant: string;
  readonly apiUrl: string;
  /** orderId → how many times it was received; and the first payloads. */
  readonly received: Map<string, number>;
  readonly orders: Map<string, any>;
  version(): number;
  checksum(): string;
  stock(sku: string): number;
  /** A vendor edit: a new version with these ops; publishes head (retained) and the delta unless told not to. */
  edit(ops: CatalogOp[], opts?: { publishDelta?: boolean }): number;
  /** Publishes the delta of versions from..to (coalesced) on the tenant's delta topic. */
  publishDelta(from: number, to: number): Promise<void>;
  publishRaw(topic: string, payload: string | Buffer, retain?: boolean): Promise<void>;
  catchups: number[];
  snapshots: number;
  /** Changes the server's state without a new version (drift) and republishes the head. */
  tamper(ops: CatalogOp[]): void;
  /** Prunes the delta log: catch-up from before `from − 1` answers catalog.reset. */
  setOldest(from: number): void;
  /** Set to ignore orders (no ack). */
  acking: boolean;
  /** Acks an order only from its n-th receipt on (1: every receipt); earlier ones go unanswered. */
  ackFromReceipt: number;
  stop(): Promise<void>;
}

export async function startFakeServer(opts: { brokerUrl: string; tenant: string; products: Array<{ product: Product; stockLevel: number }>; oldestDeltaFrom?: number }): Promise<FakeServer> {
  const { tenant } = opts;
  const products = new Map(opts.products.map((p) => [p.product.sku, p.product]));
  const stock = new Map(opts.products.map((p) => [p.product.sku, p.stockLevel]));
  // version 1 = the initial catalog
  const log: Array<{ version: number; ops: CatalogOp[] }> = [
    { version: 1, ops: opts.products.flatMap((p): CatalogOp[] => [{ op: 'put', product: p.product }, { op: 'stock', sku: p.product.sku, level: p.stockLevel }]) },
  ];
  const checksumNow = (): string => catalogChecksum([...products.values()].map((p) => ({ product: p, stockLevel: stock.get(p.sku) ?? 0 })));
  const received = new Map<string, number>();
  const orders = new Map<string, any>();
  const acked = new Map<string, number>();
  const catchups: number[] = [];
  let oldest = opts.oldestDeltaFrom ?? 1;

  const app = fastify({ logger: false });
  const state = { snapshots: 0 };
  app.get('/v1/catalog/snapshot', async (request, reply) => {
    if (!String(request.headers.authorization ?? '').startsWith('DeviceProof ')) return reply.code(401).send({});
    state.snapshots += 1;
    return { version: log.length, checksum: checksumNow(), products: [...products.values()].map((p) => ({ product: p, stockLevel: stock.get(p.sku) ?? 0 })) };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const apiUrl = `http://127.0.0.1:${address && typeof address === 'object' ? address.port : 0}`;

  const client: MqttClient = connect(opts.brokerUrl, { clientId: `server-${tenant}`, protocolVersion: 4, clean: true, reconnectPeriod: 200 });
  const pub = (topic: string, payload: string | Buffer, retain = false): Promise<void> =>
    new Promise((resolve) => client.publish(topic, payload, { qos: 1, retain }, () => resolve()));
  const head = (): Promise<void> =>
    pub(topics.catalogHead(tenant), JSON.stringify({ type: 'catalog.head', v: 1, version: log.length, checksum: checksumNow(), oldestDeltaFrom: oldest }), true);
  const deltaMsg = (from: number, to: number): string =>
    JSON.stringify({ type: 'catalog.delta', v: 1, from, to, ops: log.slice(from - 1, to).flatMap((e) => e.ops) });
  const newVersion = (ops: CatalogOp[]): number => {
    for (const op of ops) {
      if (op.op === 'put') products.set(op.product.sku, op.product);
      else if (op.op === 'del') products.delete(op.sku);
      else stock.set(op.sku, op.level);
    }
    log.push({ version: log.length + 1, ops });
    return log.length;
  };

  const server: FakeServer = {
    tenant,
    apiUrl,
    received,
    orders,
    catchups,
    get snapshots() {
      return state.snapshots;
    },
    acking: true,
    ackFromReceipt: 1,
    version: () => log.length,
    tamper(ops) {
      for (const op of ops) {
        if (op.op === 'put') products.set(op.product.sku, op.product);
        else if (op.op === 'del') products.delete(op.sku);
        else stock.set(op.sku, op.level);
      }
      void head();
    },
    setOldest(from) {
      oldest = from;
      void head();
    },
    checksum: checksumNow,
    stock: (sku) => stock.get(sku) ?? 0,
    edit(ops, o = {}) {
      const v = newVersion(ops);
      void head();
      if (o.publishDelta !== false) void pub(topics.catalogDelta(tenant), deltaMsg(v, v));
      return v;
    },
    publishDelta: (from, to) => pub(topics.catalogDelta(tenant), deltaMsg(from, to)),
    publishRaw: (topic, payload, retain) => pub(topic, payload, retain),
    async stop() {
      await client.endAsync(true);
      await app.close();
    },
  };

  client.on('message', (topic, payload) => {
    const parts = topic.split('/');
    const deviceId = parts[4]!;
    const msg = JSON.parse(payload.toString('utf8'));
    if (parts[5] === 'orders') {
      const receipt = (received.get(msg.orderId) ?? 0) + 1;
      received.set(msg.orderId, receipt);
      if (!server.acking || receipt < server.ackFromReceipt) return;
      const seen = acked.get(msg.orderId);
      if (seen !== undefined) {
        void pub(topics.deviceRes(tenant, deviceId), JSON.stringify({ type: 'ack', v: 1, orderId: msg.orderId, status: 'duplicate', stockVersion: seen }));
        return;
      }
      orders.set(msg.orderId, msg);
      let v = log.length;
      if (msg.kind === 'sale') {
        const ops: CatalogOp[] = msg.lines.map((l: any) => ({ op: 'stock', sku: l.sku, level: (stock.get(l.sku) ?? 0) - l.qty }));
        v = newVersion(ops);
        void pub(topics.catalogDelta(tenant), deltaMsg(v, v));
        void head();
      }
      acked.set(msg.orderId, v);
      void pub(topics.deviceRes(tenant, deviceId), JSON.stringify({ type: 'ack', v: 1, orderId: msg.orderId, status: 'accepted', stockVersion: v }));
    } else if (parts[5] === 'req' && msg.type === 'catalog.catchup') {
      catchups.push(msg.since);
      const res = topics.deviceRes(tenant, deviceId);
      if (msg.since < oldest - 1) {
        void pub(res, JSON.stringify({ type: 'catalog.reset', v: 1, version: log.length }));
      } else {
        for (let from = msg.since + 1; from <= log.length; from += 5) void pub(res, deltaMsg(from, Math.min(log.length, from + 4)));
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync([`kiosk/v1/${tenant}/devices/+/orders`, `kiosk/v1/${tenant}/devices/+/req`], { qos: 1 });
  await head();
  onTestFinished(() => server.stop().catch(() => undefined));
  return server;
}

// --- the kiosk -------------------------------------------------------------------------------

export interface TestKiosk {
  readonly dataDir: string;
  readonly deviceId: string;
  readonly store: AgentStore;
  readonly engine: SyncEngine;
  readonly api: LocalApi;
  readonly logs: Array<Record<string, unknown>>;
  setMode(mode: LicenseMode): void;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  get(path: string): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startKiosk(opts: {
  mqttUrl: string | null;
  apiUrl: string | null;
  tenant: string;
  dataDir?: string;
  mode?: LicenseMode;
  ackTimeoutMs?: number;
  windowSize?: number;
  token?: string | null;
  deviceId?: string;
}): Promise<TestKiosk> {
  const deviceId = opts.deviceId ?? newDeviceId();
  const dataDir = opts.dataDir ?? makeTempDir('kiosk-sync-');
  const store = openAgentStore({ dataDir });
  const logs: Array<Record<string, unknown>> = [];
  const logger = {
    debug: () => undefined,
    info: (o: object, msg: string) => void logs.push({ level: 'info', msg, ...o }),
    warn: (o: object, msg: string) => void logs.push({ level: 'warn', msg, ...o }),
    error: (o: object, msg: string) => void logs.push({ level: 'error', msg, ...o }),
  };
  let mode: LicenseMode = opts.mode ?? 'licensed';
  const listeners = new Set<() => void>();
  const metrics = createSyncMetrics(store.sales);
  const engine = createSyncEngine({
    store: store.sales,
    identity: () => ({ tenant: opts.tenant, deviceId }),
    deviceProof: async () => `proof-${randomBytes(8).toString('hex')}`,
    mqttUrl: () => opts.mqttUrl,
    apiUrl: () => opts.apiUrl,
    acceptRevocations: async () => undefined,
    statusFacts: () => ({ mode, reason: null }),
    onLicenseChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    clock: systemClock,
    scheduler: systemScheduler,
    random: Math.random,
    logger,
    counters: metrics.counters,
    windowSize: opts.windowSize ?? 16,
    ackTimeoutMs: opts.ackTimeoutMs ?? 3_000,
    ackedRetentionMs: 24 * 3600_000,
  });
  const api = createLocalApi({
    store: store.sales,
    license: () => ({ mode, reason: null }),
    sync: engine,
    metrics,
    clock: systemClock,
    logger,
    port: 0,
    token: opts.token ?? null,
  });
  await engine.start();
  await api.start();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await api.stop();
    await engine.stop();
    store.close();
  };
  onTestFinished(stop);
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${api.url()}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // metrics and other text
    }
    return { status: res.status, body: parsed };
  };
  return {
    dataDir,
    deviceId,
    store,
    engine,
    api,
    logs,
    setMode(m) {
      mode = m;
      for (const l of listeners) l();
    },
    post: (path, body, headers) => call('POST', path, body, headers),
    get: (path) => call('GET', path),
    stop,
  };
}

export const PRODUCTS: Array<{ product: Product; stockLevel: number }> = [
  { product: { sku: 'ESP-01', name: 'Espresso', priceMinor: 250, currency: 'EUR', taxRateBp: 700, active: true }, stockLevel: 5000 },
  { product: { sku: 'CAP-01', name: 'Cappuccino', priceMinor: 390, currency: 'EUR', taxRateBp: 700, active: true }, stockLevel: 3000 },
  { product: { sku: 'CAKE-1', name: 'Cake', priceMinor: 420, currency: 'EUR', taxRateBp: 1900, active: true }, stockLevel: 40 },
];
