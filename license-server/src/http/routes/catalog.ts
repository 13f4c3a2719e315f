// Catalog and stock over HTTP: the vendor's reads and edits (each edit is a new catalog version;
// sync publishes its head and delta), and the device's snapshot download, authenticated by a
// device proof (`Authorization: DeviceProof <proof>`) — public in route-access terms.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KioskError } from '../../../../common/errors.ts';
import { DEFAULT_KEEP_VERSIONS, editCatalog, readCatalog, requireTenant, type VendorEdit } from '../../domain/catalog.ts';
import { deviceCatalogSnapshot } from '../../domain/catalog-snapshot.ts';
import type { HttpAppDeps } from '../http-deps.ts';
import { parseInput } from '../input.ts';
import { apiActor } from '../route-access.ts';
import { priceBodySchema, putProductBodySchema, skuParamsSchema, stockBodySchema, tenantParamsSchema } from '../sync-schemas.ts';

export const CATALOG_SNAPSHOT_PATH = '/v1/catalog/snapshot';
const DEVICE_PROOF = /^DeviceProof +([A-Za-z0-9_.-]{16,32768})$/;

export function registerCatalogRoutes(app: FastifyInstance, deps: HttpAppDeps): void {
  const settings = deps.catalog ?? { keepVersions: DEFAULT_KEEP_VERSIONS };

  const edit = async (request: FastifyRequest, tenant: string, change: VendorEdit) => {
    const domain = await deps.domainDeps();
    const { committed, product } = await editCatalog({ ...domain, catalog: settings }, { tenant, edit: change, actor: apiActor(request) });
    deps.onCatalogChanged?.(tenant);
    return { version: committed.head.version, checksum: committed.head.checksum, product };
  };

  app.get('/v1/tenants/:tenant/catalog', { config: { scope: 'catalog:read' } }, async (request) => {
    const { tenant } = parseInput(tenantParamsSchema, request.params, 'path');
    const { head, products } = await readCatalog((await deps.domainDeps()).storage, requireTenant(tenant));
    return { version: head.version, checksum: head.checksum, oldestDeltaFrom: head.oldestDeltaFrom, products };
  });

  app.get('/v1/tenants/:tenant/catalog/products/:sku', { config: { scope: 'catalog:read' } }, async (request) => {
    const { tenant, sku } = parseInput(skuParamsSchema, request.params, 'path');
    const storage = (await deps.domainDeps()).storage;
    const product = await storage.getProduct(tenant, sku);
    if (!product) throw new KioskError('NOT_FOUND', `no product ${sku} in the catalog of ${tenant}`);
    return { product, stockLevel: await storage.getStockLevel(tenant, sku) };
  });

  app.post('/v1/tenants/:tenant/catalog/products', { config: { scope: 'catalog:write' } }, async (request) => {
    const { tenant } = parseInput(tenantParamsSchema, request.params, 'path');
    const product = parseInput(putProductBodySchema, request.body, 'body');
    return edit(request, tenant, { kind: 'put', product });
  });

  app.post('/v1/tenants/:tenant/catalog/products/:sku/delete', { config: { scope: 'catalog:write' } }, async (request) => {
    const { tenant, sku } = parseInput(skuParamsSchema, request.params, 'path');
    return edit(request, tenant, { kind: 'delete', sku });
  });

  app.post('/v1/tenants/:tenant/catalog/products/:sku/price', { config: { scope: 'catalog:write' } }, async (request) => {
    const { tenant, sku } = parseInput(skuParamsSchema, request.params, 'path');
    const body = parseInput(priceBodySchema, request.body, 'body');
    return edit(request, tenant, { kind: 'price', sku, ...body });
  });

  app.post('/v1/tenants/:tenant/catalog/products/:sku/stock', { config: { scope: 'catalog:write' } }, async (request) => {
    const { tenant, sku } = parseInput(skuParamsSchema, request.params, 'path');
    const body = parseInput(stockBodySchema, request.body, 'body');
    return edit(request, tenant, { kind: 'stock', sku, ...body });
  });

  app.get(CATALOG_SNAPSHOT_PATH, { config: { public: true } }, async (request, reply) => {
    const header = request.headers.authorization ?? '';
    const match = DEVICE_PROOF.exec(header);
    if (!match?.[1]) throw new KioskError('UNAUTHORIZED', 'send "Authorization: DeviceProof <proof>" (a fresh device proof)');
    const { head, products } = await deviceCatalogSnapshot(await deps.issuanceDeps(), match[1]);
    reply.header('cache-control', 'no-store');
    return { version: head.version, checksum: head.checksum, products };
  });
}
