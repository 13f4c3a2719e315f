// POST /v1/orders, POST /v1/orders/{id}/void, POST /v1/orders/{id}/refund, GET /v1/orders/{id}.
// Bodies are `unknown` until their schema decodes them; the decision (price, trial limit,
// license, idempotency) is the store's transaction around domain/order-intake.ts, so a 201 is
// sent only after the order and its outbox row have committed (synchronous=FULL).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../../common/clock.ts';
import { KioskError } from '../../../common/errors.ts';
import { ORDER_ID_PATTERN, SKU_PATTERN } from '../../../common/sync-messages.ts';
import type { LicenseMode } from '../domain/license-policy.ts';
import { utcDayStartMs } from '../domain/order-intake.ts';
import type { OrderRequest, SalesStorePort, StoredOrder } from '../domain/sales-types.ts';

const orderId = z.string().regex(ORDER_ID_PATTERN, 'an order id is 8–64 of [A-Za-z0-9_-]');
const lines = z.array(z.strictObject({ sku: z.string().regex(SKU_PATTERN), qty: z.number().int().min(1).max(100_000) })).min(1).max(500);
const saleBody = z.strictObject({ orderId, lines });
const voidBody = z.strictObject({ orderId });
const refundBody = z.strictObject({ orderId, lines });

function decode<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KioskError('VALIDATION_FAILED', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export interface OrderRouteDeps {
  readonly store: SalesStorePort;
  readonly clock: Clock;
  readonly mode: () => LicenseMode | null;
  readonly onOrderCommitted: () => void;
}

export const orderView = (o: StoredOrder): { order: StoredOrder['message']; sync: StoredOrder['sync'] } => ({ order: o.message, sync: o.sync });

export function registerOrderRoutes(app: FastifyInstance, deps: OrderRouteDeps): void {
  const place = (request: OrderRequest): { status: number; body: unknown } => {
    const nowMs = deps.clock.nowMs();
    const result = deps.store.placeOrder(request, { nowMs, mode: deps.mode(), dayStartMs: utcDayStartMs(nowMs) });
    if (result.kind === 'created') deps.onOrderCommitted();
    return { status: result.kind === 'created' ? 201 : 200, body: orderView(result.order) };
  };
  const idParam = (params: unknown): string => decode(z.object({ id: orderId }), params).id;

  app.post('/v1/orders', async (request, reply) => {
    const body = decode(saleBody, request.body);
    const r = place({ orderId: body.orderId, kind: 'sale', lines: body.lines });
    return reply.code(r.status).send(r.body);
  });
  app.post('/v1/orders/:id/void', async (request, reply) => {
    const ref = idParam(request.params);
    const body = decode(voidBody, request.body);
    const r = place({ orderId: body.orderId, kind: 'void', refOrderId: ref, lines: [] });
    return reply.code(r.status).send(r.body);
  });
  app.post('/v1/orders/:id/refund', async (request, reply) => {
    const ref = idParam(request.params);
    const body = decode(refundBody, request.body);
    const r = place({ orderId: body.orderId, kind: 'refund', refOrderId: ref, lines: body.lines });
    return reply.code(r.status).send(r.body);
  });
  app.get('/v1/orders/:id', async (request) => {
    const id = idParam(request.params);
    const order = deps.store.order(id);
    if (!order) throw new KioskError('NOT_FOUND', `no order ${id}`);
    return orderView(order);
  });
}
