// The local kiosk API (DESIGN §4.6) on 127.0.0.1 only: GET /v1/status, GET /v1/catalog,
// GET /v1/products/{sku}, the order routes (order-routes.ts) and GET /metrics. Built by a factory
// apart from listen() (tests use the real socket too, for the Host guard); a daemon service.
import fastify, { type FastifyInstance } from 'fastify';
import type { Clock } from '../../../common/clock.ts';
import { KioskError } from '../../../common/errors.ts';
import { SKU_PATTERN } from '../../../common/sync-messages.ts';
import type { ServiceLogger as DaemonLogger, Service as DaemonService } from '../domain/sync-runtime.ts';
import type { LicenseMode } from '../domain/license-policy.ts';
import type { MetricsSource, SalesStorePort, SyncView } from '../domain/sales-types.ts';
import { installErrorReplies } from './error-reply.ts';
import { registerOrderRoutes } from './order-routes.ts';
import { installRequestGuards } from './request-guard.ts';

export const LOCAL_API_HOST = '127.0.0.1';
/** Largest request body. */
export const LOCAL_API_BODY_LIMIT_BYTES = 64 * 1024;

export interface LicenseView {
  readonly mode: LicenseMode;
  readonly reason: string | null;
  readonly trial?: { readonly endsAt: string | null; readonly daysLeft: number; readonly maxOrdersPerDay: number };
}

export interface LocalApiDeps {
  readonly store: SalesStorePort;
  readonly license: () => LicenseView | null;
  readonly sync: SyncView | null;
  readonly metrics: MetricsSource;
  readonly clock: Clock;
  readonly logger: DaemonLogger;
  /** 0: any free port. */
  readonly port: number;
  readonly token: string | null;
}

export interface LocalApi extends DaemonService {
  readonly app: FastifyInstance;
  /** The bound port (after start). */
  port(): number;
  url(): string;
}

export function buildLocalApp(deps: LocalApiDeps, port: () => number): FastifyInstance {
  const app = fastify({ logger: false, bodyLimit: LOCAL_API_BODY_LIMIT_BYTES, return503OnClosing: true, forceCloseConnections: true });
  app.removeContentTypeParser('text/plain');
  installErrorReplies(app, deps.logger);
  installRequestGuards(app, { port, token: deps.token });

  app.get('/v1/status', async () => {
    const nowMs = deps.clock.nowMs();
    const s = deps.store.syncState();
    const o = deps.store.outboxStats();
    const lic = deps.license();
    return {
      mode: lic?.mode ?? null,
      reason: lic?.reason ?? null,
      trial: lic?.trial ?? null,
      connection: deps.sync?.connection() ?? 'disabled',
      catalog: {
        version: s.catalogVersion,
        checksum: s.catalogChecksum,
        headVersion: s.head?.version ?? null,
        lag: s.head ? Math.max(0, s.head.version - s.catalogVersion) : null,
        lastSyncAt: s.lastSyncAtMs === null ? null : new Date(s.lastSyncAtMs).toISOString(),
      },
      outbox: {
        depth: o.depth,
        pending: o.pending,
        inflight: o.inflight,
        rejected: o.rejected,
        oldestPendingAgeS: o.oldestPendingCreatedAtMs === null ? null : Math.max(0, Math.floor((nowMs - o.oldestPendingCreatedAtMs) / 1000)),
      },
      lastError: s.lastError,
    };
  });
  app.get('/v1/catalog', async () => {
    const s = deps.store.syncState();
    const items = deps.store.catalog();
    return { version: s.catalogVersion, products: items.map((i) => ({ ...i.product, stockLevel: i.stockLevel, available: i.available })) };
  });
  app.get('/v1/products/:sku', async (request) => {
    const sku = (request.params as { sku?: unknown }).sku;
    if (typeof sku !== 'string' || !SKU_PATTERN.test(sku)) throw new KioskError('VALIDATION_FAILED', 'not a sku');
    const item = deps.store.product(sku);
    if (!item) throw new KioskError('NOT_FOUND', `no product ${sku}`);
    return { ...item.product, stockLevel: item.stockLevel, available: item.available, catalogVersion: deps.store.syncState().catalogVersion };
  });
  registerOrderRoutes(app, {
    store: deps.store,
    clock: deps.clock,
    mode: () => deps.license()?.mode ?? null,
    onOrderCommitted: () => deps.sync?.notifyOrder(),
  });
  app.get('/metrics', async (_request, reply) => reply.header('content-type', deps.metrics.contentType).send(await deps.metrics.render()));
  return app;
}

export function createLocalApi(deps: LocalApiDeps): LocalApi {
  let bound = deps.port;
  const app = buildLocalApp(deps, () => bound);
  return {
    name: 'local-api',
    app,
    port: () => bound,
    url: () => `http://${LOCAL_API_HOST}:${bound}`,
    async start() {
      await app.listen({ host: LOCAL_API_HOST, port: deps.port });
      const address = app.server.address();
      if (address !== null && typeof address === 'object') bound = address.port;
      deps.logger.info({ url: `http://${LOCAL_API_HOST}:${bound}`, auth: deps.token === null ? 'none' : 'bearer' }, 'local API listening');
    },
    async stop() {
      await app.close();
    },
  };
}
