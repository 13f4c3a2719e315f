// The sync part of the HTTP API's inputs and outputs (catalog, orders, fleet, snapshot) as zod
// schemas: decoded at the edge by the routes, described by the OpenAPI document.
import { z } from 'zod';
import { DEVICE_ID_PATTERN } from '../../../common/fingerprint.ts';
import { TENANT_PATTERN } from '../../../common/license-token.ts';
import { catalogSnapshotSchema, orderSchema, ORDER_ID_PATTERN, productSchema, SKU_PATTERN } from '../../../common/sync-messages.ts';

const wholeText = (min: number, max: number) =>
  z.string().regex(/^\d{1,15}$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

export const tenantParamsSchema = z.strictObject({ tenant: z.string().regex(TENANT_PATTERN).describe('the tenant (the MQTT topic prefix)') });
export const skuParamsSchema = tenantParamsSchema.extend({ sku: z.string().regex(SKU_PATTERN) });
export const orderParamsSchema = tenantParamsSchema.extend({ orderId: z.string().regex(ORDER_ID_PATTERN) });

export const putProductBodySchema = productSchema.strict();
export const priceBodySchema = z.strictObject({
  priceMinor: productSchema.shape.priceMinor,
  currency: productSchema.shape.currency.optional(),
  taxRateBp: productSchema.shape.taxRateBp.optional(),
});
export const stockBodySchema = z
  .strictObject({
    delta: z.number().int().min(-1e9).max(1e9).optional().describe('add to (or, negative, take from) the level'),
    level: z.number().int().min(-1e9).max(1e9).optional().describe('set the level (a stock count)'),
  })
  .refine((b) => (b.delta === undefined) !== (b.level === undefined), { message: 'give either delta or level' });

export const DEFAULT_ORDERS_LIMIT = 100;
export const MAX_ORDERS_LIMIT = 1000;
export const ordersQuerySchema = z.strictObject({
  device: z.string().regex(DEVICE_ID_PATTERN).optional().describe('only this device\'s orders'),
  since: z.string().datetime().optional().describe('only orders received at or after this instant (ISO 8601)'),
  limit: wholeText(1, MAX_ORDERS_LIMIT).optional(),
});

export const productWithStockSchema = z.object({ product: productSchema, stockLevel: z.number().int() });
export const catalogViewSchema = z.object({
  version: z.number().int(),
  checksum: z.string(),
  oldestDeltaFrom: z.number().int(),
  products: z.array(productWithStockSchema),
});
/** The device's snapshot: the protocol's own schema (common/sync-messages.ts). */
export const snapshotSchema = catalogSnapshotSchema;
export const catalogEditResultSchema = z.object({ version: z.number().int(), checksum: z.string(), product: productWithStockSchema.nullable() });

export const orderViewSchema = z.object({
  deviceId: z.string(),
  receivedAt: z.string(),
  status: z.enum(['accepted', 'rejected']),
  reason: z.string().nullable(),
  stockVersion: z.number().int().nullable(),
  oversold: z.boolean(),
  order: orderSchema,
});

export const fleetDeviceSchema = z.object({
  deviceId: z.string(),
  online: z.boolean(),
  mode: z.string().nullable(),
  reason: z.string().nullable(),
  agentVersion: z.string().nullable(),
  catalogVersion: z.number().int().nullable(),
  catalogLag: z.number().int().nullable(),
  outboxDepth: z.number().int().nullable(),
  oldestPendingAgeS: z.number().int().nullable(),
  lastError: z.string().nullable(),
  orders: z.number().int(),
  maxSeq: z.number().int(),
  missingSeqs: z.number().int(),
  cloneAlarms: z.number().int(),
  lastCloneAlarmAt: z.string().nullable(),
  lastSeenAt: z.string().nullable(),
  statusAt: z.string().nullable(),
});
export const fleetViewSchema = z.object({ tenant: z.string(), catalogVersion: z.number().int(), devices: z.array(fleetDeviceSchema) });
