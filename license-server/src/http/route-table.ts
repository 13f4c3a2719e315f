// The routes an app registered, collected by an onRoute hook as fastify adds them: what the
// OpenAPI and authentication tests walk, so a new route cannot slip past either.
import type { FastifyInstance, RouteOptions } from 'fastify';

export interface RegisteredRoute {
  readonly method: string;
  /** fastify form: /v1/licenses/:ref. */
  readonly url: string;
  readonly scope: string | undefined;
  readonly public: boolean;
  readonly rateLimit: string | undefined;
}

const tables = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Call before any route is added. */
export function trackRoutes(app: FastifyInstance): void {
  const table: RegisteredRoute[] = [];
  tables.set(app, table);
  app.addHook('onRoute', (route: RouteOptions) => {
    const config = (route.config ?? {}) as { scope?: string; public?: boolean; rateLimit?: string };
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      table.push({ method, url: route.url, scope: config.scope, public: config.public === true, rateLimit: config.rateLimit });
    }
  });
}

export function routeTable(app: FastifyInstance): readonly RegisteredRoute[] {
  const table = tables.get(app);
  if (!table) throw new Error('this app does not track its routes (buildHttpApp does)');
  return table;
}
