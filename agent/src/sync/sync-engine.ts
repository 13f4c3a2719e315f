// The MQTT sync client (DESIGN §4.5, docs/sync-protocol.md): a daemon service. MQTT 3.1.1
// (protocolVersion 4), QoS 1 only, clean: false, keepalive 30 s. Client id = username = the
// device id of record; password = a device proof made fresh for every connection attempt (a new
// mqtt.js client per attempt, its own reconnect disabled: our backoff 1 s · 2^n ≤ 60 s with
// jitter). When the broker answers sessionPresent: false the device subscribes again
// explicitly. Incoming messages are handled one at a time through mqtt.js's handleMessage, so the
// PUBACK of a delta goes out after its SQLite commit; every payload goes through
// decodeSyncMessage and anything else is logged, counted and dropped. Nothing is published
// before our own "ready" (CONNACK + subscriptions), so mqtt.js never replays a store of ours.
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Clock } from '../../../common/clock.ts';
import { decodeSyncMessage, parseTopic, topics, type SyncMessage } from '../../../common/sync-messages.ts';
import type { ServiceLogger as DaemonLogger, Service as DaemonService, Scheduler, TimerHandle } from '../domain/sync-runtime.ts';
import type { RandomUnit } from '../domain/backoff.ts';
import type { ConnectionState, SyncCounters, SyncStorePort, SyncView } from '../domain/sales-types.ts';
import { brokerUrlAllowed, catalogCheckDelayMs, reconnectDelayMs } from '../domain/sync-plan.ts';
import { createCatalogSync, type CatalogSync } from './catalog-sync.ts';
import { createOrderSender, type OrderSender } from './order-sender.ts';
import { httpSnapshotFetcher, type SnapshotFetcher } from './snapshot-fetch.ts';
import { createStatusReporter, type StatusFacts, type StatusReporter } from './status-reporter.ts';

export const KEEPALIVE_S = 30;
export const CONNECT_TIMEOUT_MS = 10_000;

export interface SyncIdentity {
  readonly tenant: string;
  readonly deviceId: string;
}

export interface SyncEngineDeps {
  readonly store: SyncStorePort;
  readonly identity: () => SyncIdentity | null;
  readonly deviceProof: () => Promise<string | null>;
  readonly mqttUrl: () => string | null;
  readonly apiUrl: () => string | null;
  /** A verified-and-stored revocation list and the license re-evaluated (daemon wiring). */
  readonly acceptRevocations: (message: { version: number; list: string }) => Promise<void>;
  readonly statusFacts: () => StatusFacts;
  /** Registers a listener for license changes; returns the unsubscribe. */
  readonly onLicenseChange: (listener: () => void) => () => void;
  readonly fetchSnapshot?: SnapshotFetcher;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly random: RandomUnit;
  readonly logger: DaemonLogger;
  readonly counters: SyncCounters;
  readonly windowSize: number;
  readonly ackTimeoutMs: number;
  readonly ackedRetentionMs: number;
}

export interface SyncEngine extends DaemonService, SyncView {
  readonly catalog: CatalogSync;
}

export function createSyncEngine(deps: SyncEngineDeps): SyncEngine {
  const { store, clock, logger, scheduler } = deps;
  let state: ConnectionState = 'idle';
  let client: MqttClient | null = null;
  let session: { identity: SyncIdentity; ready: boolean } | null = null;
  let failures = 0;
  let reconnect: TimerHandle | null = null;
  let periodic: TimerHandle | null = null;
  let stopping = false;
  let unsubscribe: (() => void) | null = null;
  let connecting: Promise<void> | null = null;

  const publish = (topic: string, payload: string, retain = false): boolean => {
    if (!client || !session?.ready || stopping) return false;
    client.publish(topic, payload, { qos: 1, retain }, (err) => {
      if (err) logger.debug({ topic, detail: err.message }, 'publish not confirmed');
    });
    return true;
  };
  const onChange = (): void => status.changed();

  const sender: OrderSender = createOrderSender({
    store, clock, scheduler, random: deps.random, logger, counters: deps.counters,
    window: deps.windowSize, ackTimeoutMs: deps.ackTimeoutMs,
    publish: (payload) => session !== null && publish(topics.deviceOrders(session.identity.tenant, session.identity.deviceId), payload),
    onChange,
  });
  const catalog: CatalogSync = createCatalogSync({
    store, clock, scheduler, random: deps.random, logger, counters: deps.counters,
    fetchSnapshot: deps.fetchSnapshot ?? httpSnapshotFetcher,
    apiUrl: deps.apiUrl, deviceProof: deps.deviceProof,
    requestCatchup: (since) =>
      session !== null && publish(topics.deviceReq(session.identity.tenant, session.identity.deviceId), JSON.stringify({ type: 'catalog.catchup', v: 1, since })),
    onChange,
  });
  const status: StatusReporter = createStatusReporter({
    store, clock, scheduler, logger, facts: deps.statusFacts,
    publish: (payload) => session !== null && publish(topics.deviceStatus(session.identity.tenant, session.identity.deviceId), payload, true),
    prune: () => {
      const pruned = store.pruneAcked(clock.nowMs() - deps.ackedRetentionMs);
      if (pruned > 0) logger.info({ pruned }, 'acked orders pruned');
    },
  });

  function handle(topic: string, payload: Buffer): Promise<void> | void {
    const s = session;
    const parsedTopic = parseTopic(topic);
    const decoded = decodeSyncMessage(payload);
    if (!decoded.ok) return drop(topic, decoded.reason, decoded.detail);
    const m: SyncMessage = decoded.message;
    if (!s || !parsedTopic || parsedTopic.tenant !== s.identity.tenant) return drop(topic, 'foreign-topic', m.type);
    if ('deviceId' in parsedTopic && parsedTopic.deviceId !== s.identity.deviceId) return drop(topic, 'foreign-topic', m.type);
    const kind = parsedTopic.kind;
    if (kind === 'catalogHead' && m.type === 'catalog.head') return catalog.onHead(m);
    if ((kind === 'catalogDelta' || kind === 'deviceRes') && m.type === 'catalog.delta') return catalog.onDelta(m);
    if (kind === 'deviceRes' && m.type === 'catalog.reset') return catalog.onReset(m.version);
    if (kind === 'deviceRes' && m.type === 'ack') return sender.onAck(m);
    if (kind === 'revocations' && m.type === 'revocations') return deps.acceptRevocations(m);
    return drop(topic, 'unexpected-type', m.type);
  }

  function drop(topic: string, reason: string, detail: string): void {
    deps.counters.malformedMessage(reason);
    logger.warn({ topic: topic.slice(0, 200), reason, detail: detail.slice(0, 200) }, 'sync message dropped');
  }

  function scheduleReconnect(): void {
    if (stopping || reconnect) return;
    failures += 1;
    const delay = reconnectDelayMs(failures, deps.random);
    state = 'offline';
    logger.info({ failures, retryInMs: delay }, 'MQTT reconnect scheduled');
    reconnect = scheduler.schedule(delay, () => {
      reconnect = null;
      void tryConnect();
    });
  }

  function tryConnect(): Promise<void> {
    connecting ??= connectOnce().finally(() => {
      connecting = null;
    });
    return connecting;
  }

  async function connectOnce(): Promise<void> {
    if (stopping || client) return;
    const identity = deps.identity();
    const url = deps.mqttUrl();
    if (!identity || !url) {
      state = 'idle';
      logger.info({ identity: identity !== null, url: url !== null }, 'sync waits: no device identity or no MQTT URL');
      return;
    }
    const allowed = brokerUrlAllowed(url);
    if (!allowed.ok) {
      state = 'idle';
      logger.error({ detail: allowed.message }, 'sync refuses the MQTT URL');
      return;
    }
    state = 'connecting';
    let proof: string | null;
    try {
      proof = await deps.deviceProof();
    } catch (err) {
      logger.warn({ detail: err instanceof Error ? err.message : String(err) }, 'no device proof for MQTT');
      proof = null;
    }
    if (stopping) return;
    if (proof === null) {
      scheduleReconnect();
      return;
    }
    const options: IClientOptions = {
      clientId: identity.deviceId,
      username: identity.deviceId,
      password: proof,
      protocolVersion: 4,
      clean: false,
      keepalive: KEEPALIVE_S,
      reconnectPeriod: 0,
      connectTimeout: CONNECT_TIMEOUT_MS,
      resubscribe: false,
      will: { topic: topics.deviceStatus(identity.tenant, identity.deviceId), payload: Buffer.from(status.offlinePayload()), qos: 1, retain: true },
    };
    const c = connect(url, options);
    client = c;
    session = { identity, ready: false };
    c.handleMessage = (packet, done) => {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      Promise.resolve()
        .then(() => handle(packet.topic, payload))
        .catch((err: unknown) => logger.error({ topic: packet.topic, detail: err instanceof Error ? err.message : String(err) }, 'handling a sync message failed'))
        .finally(() => done());
    };
    c.on('connect', (connack) => void onConnected(c, identity, connack.sessionPresent));
    c.on('close', () => onClosed(c));
    c.on('error', (err) => logger.warn({ detail: err.message, code: (err as { code?: unknown }).code ?? null }, 'MQTT error'));
  }

  async function onConnected(c: MqttClient, identity: SyncIdentity, sessionPresent: boolean): Promise<void> {
    if (c !== client || stopping) return;
    logger.info({ sessionPresent }, 'MQTT connected');
    try {
      if (!sessionPresent) {
        const wanted = [topics.catalogHead(identity.tenant), topics.catalogDelta(identity.tenant), topics.revocations(identity.tenant), topics.deviceRes(identity.tenant, identity.deviceId)];
        const granted = await c.subscribeAsync(wanted, { qos: 1 });
        const refused = granted.filter((g) => g.qos !== 0 && g.qos !== 1);
        if (refused.length > 0) logger.error({ topics: refused.map((g) => g.topic) }, 'MQTT subscriptions refused');
      }
    } catch (err) {
      logger.warn({ detail: err instanceof Error ? err.message : String(err) }, 'MQTT subscribe failed');
      c.end(true);
      return;
    }
    if (c !== client || stopping) return;
    failures = 0;
    state = 'connected';
    session = { identity, ready: true };
    status.connected();
    catalog.reconcile();
    sender.pump();
  }

  function onClosed(c: MqttClient): void {
    if (c !== client) return;
    client = null;
    const wasReady = session?.ready === true;
    session = null;
    c.removeAllListeners('connect');
    c.end(true);
    sender.onDisconnected();
    status.disconnected();
    if (wasReady) logger.warn({}, 'MQTT connection lost');
    if (!stopping) scheduleReconnect();
  }

  function schedulePeriodic(): void {
    periodic = scheduler.schedule(catalogCheckDelayMs(deps.random), () => {
      if (session?.ready) catalog.reconcile();
      schedulePeriodic();
    });
  }

  return {
    name: 'sync',
    catalog,
    connection: () => state,
    notifyOrder() {
      status.changed();
      if (session?.ready) sender.pump();
    },
    async start() {
      const requeued = store.requeueInflight(clock.nowMs());
      if (requeued > 0) logger.info({ orders: requeued }, 'in-flight orders are pending again');
      status.start();
      unsubscribe = deps.onLicenseChange(() => {
        status.changed();
        if (!client && !reconnect) void tryConnect();
      });
      schedulePeriodic();
      // connecting runs on its own: the daemon (and the local API) must not wait for a broker
      void tryConnect();
    },
    async stop() {
      stopping = true;
      unsubscribe?.();
      reconnect?.cancel();
      periodic?.cancel();
      catalog.stop();
      sender.stop();
      const c = client;
      if (c && session?.ready) {
        c.publish(topics.deviceStatus(session.identity.tenant, session.identity.deviceId), status.offlinePayload(), { qos: 1, retain: true });
      }
      status.stop();
      client = null;
      session = null;
      // a short grace for the offline status to leave; the will covers a stop that cannot wait
      if (c) await Promise.race([c.endAsync(false), new Promise((r) => setTimeout(r, 300).unref())]).catch(() => undefined);
      if (c) c.end(true);
      await connecting;
      await catalog.idle();
      state = 'idle';
    },
  };
}
