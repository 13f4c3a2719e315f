// The HTTP app factory, apart from listen() (STYLE: fastify habits): vendor API, device API,
// public documents. Tests drive it with inject(); start.ts listens on a socket.
import fastify, { type FastifyInstance } from 'fastify';
import { registerErrorHandling } from './error-handler.ts';
import type { HttpAppDeps } from './http-deps.ts';
import { registerRateLimits } from './rate-limit.ts';
import { registerRouteAccess } from './route-access.ts';
import { trackRoutes } from './route-table.ts';
import { registerCatalogRoutes } from './routes/catalog.ts';
import { registerDeviceRoutes } from './routes/device.ts';
import { registerPublicRoutes } from './routes/public.ts';
import { registerVendorDeviceRoutes } from './routes/vendor-devices.ts';
import { registerVendorLicenseRoutes } from './routes/vendor-licenses.ts';
import { registerVendorSyncRoutes } from './routes/vendor-sync.ts';

/** Vendor bodies are small; device routes allow MAX_DEVICE_BODY_BYTES (64 KiB). */
export const DEFAULT_BODY_LIMIT = 256 * 1024;
/** A request must arrive whole within this (slow-client protection). */
export const REQUEST_TIMEOUT_MS = 30_000;

const draining = new WeakSet<FastifyInstance>();

export function buildHttpApp(deps: HttpAppDeps): FastifyInstance {
  const app = fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    ...(deps.https ? { https: { cert: deps.https.cert, key: deps.https.key } } : {}),
    bodyLimit: DEFAULT_BODY_LIMIT,
    exposeHeadRoutes: false,
    trustProxy: deps.trustProxy ?? false,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // While draining, requests that still arrive on open connections are served (with
    // Connection: close) rather than answered 503 in fastify's own error shape.
    return503OnClosing: false,
  }) as unknown as FastifyInstance;

  trackRoutes(app);
  // JSON bodies only: fastify also parses text/plain by default.
  app.removeContentTypeParser('text/plain');
  registerErrorHandling(app);
  registerRateLimits(app, deps);
  registerRouteAccess(app, deps);
  app.addHook('onSend', async (_request, reply, payload) => {
    if (draining.has(app)) reply.header('connection', 'close');
    return payload;
  });

  registerVendorLicenseRoutes(app, deps);
  registerVendorDeviceRoutes(app, deps);
  registerCatalogRoutes(app, deps);
  registerVendorSyncRoutes(app, deps);
  registerDeviceRoutes(app, deps);
  registerPublicRoutes(app, deps);
  return app;
}

/** From now on every answer closes its connection (graceful shutdown; listen.ts). */
export function startDraining(app: FastifyInstance): void {
  draining.add(app);
}
