// The server's side of sync over a SyncTransport: decodes what devices send (orders → durable
// ingest → ack; catch-up requests → delta pages or a reset; status → fleet view), publishes
// catalog heads and deltas after every commit (coalesced, in version order per tenant), and the
// retained signed revocation list of every tenant whenever its version moves. Nothing here knows
// which broker runs underneath.
import { decodeSyncMessage, topics, type SyncMessage } from '../../../common/sync-messages.ts';
import { planCatchUp, type CatalogSettings } from './catalog.ts';
import type { IssuanceDeps } from './deps.ts';
import { createKeyedQueue } from './keyed-queue.ts';
import { ingestOrder } from './order-ingest.ts';
import { currentRevocationList } from './revocations.ts';
import type { InboundMessage, SyncTransport } from './sync-transport.ts';

/** The few logger methods used (pino fits). */
export interface SyncLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Counters for /metrics (prom-client fits); tests count in memory. */
export interface SyncCounters {
  dropped(reason: string): void;
  ingested(status: string): void;
}

export interface SyncServiceDeps {
  readonly issuance: IssuanceDeps;
  readonly catalog: CatalogSettings;
  readonly transport: SyncTransport;
  readonly logger: SyncLogger;
  readonly counters?: SyncCounters;
}

export interface SyncService {
  /** Subscribes, publishes every tenant's head and the revocation list. */
  start(): Promise<void>;
  /** A tenant's catalog moved (a vendor edit or an order): publish what the devices lack. */
  catalogChanged(tenant: string): Promise<void>;
  /** A device of `tenant` connected or spoke: make sure its retained head and revocation list exist. */
  tenantSeen(tenant: string): Promise<void>;
  /** Publishes the revocation list when its version moved since the last call (or forced). */
  publishRevocations(force?: boolean): Promise<void>;
  /** Resolves when every message in hand and every publish queued so far is done. */
  idle(): Promise<void>;
}

export function createSyncService(deps: SyncServiceDeps): SyncService {
  const { issuance, transport, logger } = deps;
  const storage = issuance.storage;
  const queue = createKeyedQueue((err) => logger.error({ err }, 'sync: a message failed; it was not acknowledged'));
  /** The newest catalog version published per tenant. */
  const published = new Map<string, number>();
  let revocationVersion = -1;
  /** Tenants whose retained revocation list is out (a new tenant gets it on first contact). */
  const revocationTenants = new Set<string>();

  const drop = (message: InboundMessage, reason: string, detail: string): void => {
    deps.counters?.dropped(reason);
    logger.warn({ topic: message.topic, deviceId: message.identity.deviceId, reason, detail: detail.slice(0, 200) }, 'sync: dropped a message');
  };

  const handle = async (message: InboundMessage): Promise<void> => {
    const decoded = decodeSyncMessage(message.payload);
    if (!decoded.ok) return drop(message, decoded.reason, decoded.detail);
    const expected = { deviceOrders: 'order', deviceReq: 'catalog.catchup', deviceStatus: 'status' }[message.kind];
    if (decoded.message.type !== expected) return drop(message, 'wrong-topic', `${decoded.message.type} on ${message.kind}`);
    await dispatch(message, decoded.message);
  };

  const dispatch = async (message: InboundMessage, msg: SyncMessage): Promise<void> => {
    const { tenant, deviceId } = message.identity;
    const res = topics.deviceRes(tenant, deviceId);
    if (msg.type === 'order') {
      const result = await ingestOrder({ ...issuance, catalog: deps.catalog }, message.identity, msg);
      deps.counters?.ingested(result.ack.status);
      await transport.publish(res, JSON.stringify(result.ack));
      if (result.committed) service.catalogChanged(tenant).catch((err: unknown) => logger.error({ err, tenant }, 'sync: publishing the catalog failed'));
    } else if (msg.type === 'catalog.catchup') {
      if (message.identity.ordersOnly) return drop(message, 'orders-only', 'a limited session asked for a catch-up');
      const answer = await planCatchUp(storage, tenant, msg.since, msg.limit);
      if (answer.kind === 'reset') {
        await transport.publish(res, JSON.stringify({ type: 'catalog.reset', v: 1, version: answer.version }));
      } else {
        for (const page of answer.pages) await transport.publish(res, JSON.stringify({ type: 'catalog.delta', v: 1, ...page }));
      }
    } else if (msg.type === 'status') {
      if (message.retained && message.identity.ordersOnly) return;
      await storage.recordDeviceStatus(tenant, deviceId, msg, issuance.clock.nowMs());
    }
  };

  const publishCatalog = async (tenant: string): Promise<void> => {
    const head = await storage.getCatalogHead(tenant);
    // A tenant first seen since start: its newest version is the news (older ones, should a
    // device lack them, come by catch-up once it sees the head).
    const last = published.get(tenant) ?? head.version - 1;
    if (last !== undefined && head.version > last) {
      const answer = await planCatchUp(storage, tenant, last);
      if (answer.kind === 'pages') {
        for (const page of answer.pages) await transport.publish(topics.catalogDelta(tenant), JSON.stringify({ type: 'catalog.delta', v: 1, ...page }));
      }
    }
    if (!published.has(tenant) || head.version > last) {
      const message = { type: 'catalog.head', v: 1, version: head.version, checksum: head.checksum, oldestDeltaFrom: head.oldestDeltaFrom };
      await transport.publish(topics.catalogHead(tenant), JSON.stringify(message), { retain: true });
      published.set(tenant, head.version);
    }
  };

  const service: SyncService = {
    async start() {
      await transport.consume(async (message) => {
        if (!revocationTenants.has(message.identity.tenant)) void service.tenantSeen(message.identity.tenant).catch((err: unknown) => logger.error({ err }, 'sync: publishing to a new tenant failed'));
        queue.push(`${message.identity.tenant}/${message.identity.deviceId}`, () => handle(message));
      });
      for (const tenant of await storage.listCatalogTenants()) await service.catalogChanged(tenant);
      await service.publishRevocations(true);
    },
    catalogChanged(tenant) {
      return new Promise<void>((resolve, reject) => {
        queue.push(`catalog:${tenant}`, () => publishCatalog(tenant).then(resolve, reject));
      });
    },
    async tenantSeen(tenant) {
      if (revocationTenants.has(tenant)) return;
      revocationTenants.add(tenant);
      const { list, version } = await currentRevocationList(issuance);
      await transport.publish(topics.revocations(tenant), JSON.stringify({ type: 'revocations', v: 1, version, list }), { retain: true });
      if (!published.has(tenant)) await service.catalogChanged(tenant);
    },
    async publishRevocations(force = false) {
      const version = await storage.getRevocationVersion();
      if (!force && version === revocationVersion) return;
      const { list, version: signed } = await currentRevocationList(issuance);
      const tenants = new Set([...(await storage.listLicenses()).map((l) => l.license.tenant), ...revocationTenants]);
      for (const tenant of tenants) revocationTenants.add(tenant);
      const payload = JSON.stringify({ type: 'revocations', v: 1, version: signed, list });
      for (const tenant of tenants) await transport.publish(topics.revocations(tenant), payload, { retain: true });
      revocationVersion = version;
      logger.info({ version: signed, tenants: tenants.size }, 'sync: published the revocation list');
    },
    idle: () => queue.idle(),
  };
  return service;
}
