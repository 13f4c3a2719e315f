// The OpenAPI document stays true: every registered route is documented with its method and
// its access (scope or public), every documented operation is a registered route, path
// parameters agree, and every $ref resolves.
import { describe, expect, it } from 'vitest';
import { routeTable } from '../../../license-server/src/http/route-table.ts';
import { httpFixture } from './helpers/http-fixture.ts';

type Operation = { security: Array<Record<string, string[]>>; 'x-scope': string; parameters?: Array<{ name: string; in: string; required: boolean }>; responses: Record<string, unknown> };
type OpenApi = { openapi: string; paths: Record<string, Record<string, Operation>>; components: Record<string, Record<string, unknown>> };

const toOpenApiPath = (url: string): string => url.replace(/:([A-Za-z]+)/g, '{$1}');

describe('GET /openapi.json', () => {
  it('documents exactly the registered routes, with their methods and scopes', async () => {
    const f = await httpFixture();
    const res = await f.get('/openapi.json', null);
    expect(res.statusCode).toBe(200);
    const doc = res.json<OpenApi>();
    expect(doc.openapi).toBe('3.1.0');

    const table = routeTable(f.app);
    const registered = new Set(table.map((r) => `${r.method.toLowerCase()} ${toOpenApiPath(r.url)}`));
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)));
    expect(documented).toEqual(registered);

    for (const route of table) {
      const op = doc.paths[toOpenApiPath(route.url)]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.url}`).toBeDefined();
      if (!op) continue;
      const access = route.public ? 'public' : route.scope;
      expect(op['x-scope'], `${route.method} ${route.url}`).toBe(access);
      expect(op.security).toEqual(route.public ? [] : [{ apiToken: [route.scope] }]);
      const pathParams = [...route.url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]);
      expect((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name)).toEqual(pathParams);
      expect(Object.keys(op.responses).some((s) => s.startsWith('2'))).toBe(true);
      if (!route.public) expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
    }
  });

  it('every $ref resolves inside the document', async () => {
    const f = await httpFixture();
    const doc = (await f.get('/openapi.json', null)).json<OpenApi>();
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const target = ref.split('/').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
      expect(target, ref).toBeDefined();
    }
  });
});
