// Authentication cannot be forgotten: this walks the route table (every route fastify
// registered), and every route outside an explicit allow-list of device/public routes must
// refuse a request without Authorization, with a malformed one, with an unknown or revoked
// token, and with a token lacking its scope — and must do nothing then. A route that declares
// neither a scope nor public: true is refused outright (fail closed).
import { describe, expect, it } from 'vitest';
import type { ApiScope } from '../../../license-server/src/domain/api-tokens.ts';
import { createApiToken } from '../../../license-server/src/domain/api-tokens.ts';
import { createHttpAppDeps } from '../../../license-server/src/app.ts';
import { buildHttpApp } from '../../../license-server/src/http/http-app.ts';
import { routeTable, type RegisteredRoute } from '../../../license-server/src/http/route-table.ts';
import { httpFixture, PUBLIC_URLS, type HttpFixture } from './helpers/http-fixture.ts';

/** Routes reachable without an API token. Adding one here is a decision: review it. */
const PUBLIC_ROUTES = new Set([
  'POST /v1/activations',
  'POST /v1/activations/refresh',
  'POST /v1/deactivations',
  'GET /v1/revocations',
  'GET /.well-known/jwks.json',
  'GET /openapi.json',
  'GET /v1/catalog/snapshot',
]);

const ALL_SCOPES: readonly ApiScope[] = ['licenses:read', 'licenses:write', 'devices:write', 'audit:read', 'catalog:read', 'catalog:write', 'orders:read', 'fleet:read'];
const routeName = (r: RegisteredRoute): string => `${r.method} ${r.url}`;

async function requestRoute(f: HttpFixture, route: RegisteredRoute, params: Record<string, string>, authorization: string | undefined) {
  const url = route.url.replace(/:([A-Za-z]+)/g, (_m, name: string) => encodeURIComponent(params[name] ?? 'x'));
  return f.app.inject({
    method: route.method as 'GET' | 'POST',
    url,
    headers: authorization === undefined ? {} : { authorization },
    ...(route.method === 'POST' ? { payload: {} } : {}),
  });
}

describe('vendor routes refuse requests without a valid token (route table walk)', () => {
  it('the routes that skip authentication are exactly the allow-list', async () => {
    const f = await httpFixture();
    const table = routeTable(f.app);
    expect(table.length).toBeGreaterThan(PUBLIC_ROUTES.size);
    expect(new Set(table.filter((r) => r.public).map(routeName))).toEqual(PUBLIC_ROUTES);
    for (const r of table) {
      if (!PUBLIC_ROUTES.has(routeName(r))) expect(r.scope, routeName(r)).toMatch(/^(licenses:read|licenses:write|devices:write|audit:read|catalog:read|catalog:write|orders:read|fleet:read|admin)$/);
    }
  });

  it('401 without, with a malformed, an unknown or a revoked token; 403 without the scope; nothing changes', async () => {
    const f = await httpFixture();
    const { id } = await f.createLicense();
    const device = await f.device(1);
    const { key } = await f.createLicense({ tenant: 'second' });
    await f.post('/v1/activations', { licenseKey: key, request: device.request }, null);
    const params = { ref: id, deviceId: device.deviceId };
    const revoked = await createApiToken(await f.ctx.deps(), { name: 'revoked', scopes: ['admin'], actor: 'test' });
    await (await f.ctx.storage()).revokeApiToken(revoked.record.id, f.clock.nowMs());
    const tokensByScope = new Map<ApiScope, string>();
    for (const scope of ALL_SCOPES) tokensByScope.set(scope, await f.token([scope], scope));
    const auditBefore = (await f.get('/v1/audit?limit=1000')).json().entries.length;

    const vendorRoutes = routeTable(f.app).filter((r) => !PUBLIC_ROUTES.has(routeName(r)));
    expect(vendorRoutes.length).toBeGreaterThanOrEqual(8);
    for (const route of vendorRoutes) {
      const name = routeName(route);
      const unauthorized: Array<string | undefined> = [
        undefined,
        '',
        'Bearer',
        'Bearer ',
        'Basic YWRtaW46YWRtaW4=',
        `Bearer ${f.adminToken} extra`,
        `${f.adminToken}`,
        `Bearer kat_${'A'.repeat(43)}`,
        `Bearer ${f.adminToken.slice(0, -1)}${f.adminToken.endsWith('A') ? 'B' : 'A'}`,
        `Bearer ${revoked.token}`,
        `Bearer ${'x'.repeat(5000)}`,
      ];
      for (const authorization of unauthorized) {
        const res = await requestRoute(f, route, params, authorization);
        expect([res.statusCode, res.json().error?.code], `${name} with ${String(authorization).slice(0, 40)}`).toEqual([401, 'UNAUTHORIZED']);
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
      for (const scope of ALL_SCOPES.filter((s) => s !== route.scope)) {
        const res = await requestRoute(f, route, params, `Bearer ${tokensByScope.get(scope)}`);
        expect([res.statusCode, res.json().error?.code], `${name} with scope ${scope}`).toEqual([403, 'FORBIDDEN']);
      }
    }
    // nothing was created, revoked or deactivated by the refused requests
    const after = (await f.get('/v1/audit?limit=1000')).json().entries;
    expect(after.length).toBe(auditBefore);
    expect((await f.get(`/v1/licenses/${id}`)).json().license.status).toBe('active');
    expect((await f.get('/v1/licenses')).json().licenses).toHaveLength(2);

    // and the right scope gets through authentication on every route
    for (const route of vendorRoutes) {
      const res = await requestRoute(f, route, params, `Bearer ${tokensByScope.get(route.scope as ApiScope)}`);
      expect([401, 403], `${routeName(route)}: ${res.body}`).not.toContain(res.statusCode);
    }
  });

  it('fails closed: a route that declares neither a scope nor public: true is refused, even to admin', async () => {
    const f = await httpFixture();
    const app = buildHttpApp(createHttpAppDeps(f.ctx, { rateLimit: { activations: { burst: 10, perMinute: 60 } }, publicUrls: () => PUBLIC_URLS }));
    let ran = 0;
    app.get('/v1/forgotten', async () => {
      ran += 1;
      return { secret: true };
    });
    app.post('/v1/forgotten-config', { config: {} }, async () => {
      ran += 1;
      return { secret: true };
    });
    app.get('/v1/both', { config: { public: true, scope: 'licenses:read' } }, async () => {
      ran += 1;
      return { secret: true };
    });
    await app.ready();
    try {
      for (const [method, url] of [['GET', '/v1/forgotten'], ['POST', '/v1/forgotten-config'], ['GET', '/v1/both']] as const) {
        for (const headers of [{}, { authorization: `Bearer ${f.adminToken}` }]) {
          const res = await app.inject({ method, url, headers, ...(method === 'POST' ? { payload: {} } : {}) });
          expect([res.statusCode, res.json().error.code], `${method} ${url}`).toEqual([403, 'FORBIDDEN']);
        }
      }
      expect(ran).toBe(0);
      expect(routeTable(app).map(routeName)).toEqual(expect.arrayContaining(['GET /v1/forgotten', 'POST /v1/forgotten-config']));
    } finally {
      await app.close();
    }
  });
});
