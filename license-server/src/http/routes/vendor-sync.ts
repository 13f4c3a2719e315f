// Vendor API, sync: the orders devices uploaded (filter by device, since) and the fleet view.
import type { FastifyInstance } from 'fastify';
import { KioskError } from '../../../../common/errors.ts';
import { requireTenant } from '../../domain/catalog.ts';
import { fleetStatus } from '../../domain/fleet.ts';
import type { StoredOrder } from '../../domain/sync-storage.ts';
import type { HttpAppDeps } from '../http-deps.ts';
import { parseInput } from '../input.ts';
import { DEFAULT_ORDERS_LIMIT, orderParamsSchema, ordersQuerySchema, tenantParamsSchema } from '../sync-schemas.ts';

export function orderView(o: StoredOrder) {
  return {
    deviceId: o.deviceId,
    receivedAt: new Date(o.receivedAtMs).toISOString(),
    status: o.status,
    reason: o.reason,
    stockVersion: o.stockVersion,
    oversold: o.oversold,
    order: o.order,
  };
}

export function registerVendorSyncRoutes(app: FastifyInstance, deps: HttpAppDeps): void {
  app.get('/v1/tenants/:tenant/orders', { config: { scope: 'orders:read' } }, async (request) => {
    const { tenant } = parseInput(tenantParamsSchema, request.params, 'path');
    const query = parseInput(ordersQuerySchema, request.query, 'query');
    const orders = await (await deps.domainDeps()).storage.listOrders(requireTenant(tenant), {
      ...(query.device === undefined ? {} : { deviceId: query.device }),
      ...(query.since === undefined ? {} : { sinceMs: Date.parse(query.since) }),
      limit: query.limit ?? DEFAULT_ORDERS_LIMIT,
    });
    return { orders: orders.map(orderView) };
  });

  app.get('/v1/tenants/:tenant/orders/:orderId', { config: { scope: 'orders:read' } }, async (request) => {
    const { tenant, orderId } = parseInput(orderParamsSchema, request.params, 'path');
    const order = await (await deps.domainDeps()).storage.getOrder(tenant, orderId);
    if (!order) throw new KioskError('NOT_FOUND', `no order ${orderId} of ${tenant}`);
    return orderView(order);
  });

  app.get('/v1/tenants/:tenant/fleet', { config: { scope: 'fleet:read' } }, async (request) => {
    const { tenant } = parseInput(tenantParamsSchema, request.params, 'path');
    return fleetStatus(await deps.domainDeps(), tenant);
  });
}
