// Order ingest (docs/sync-protocol.md §4): an order from a device is inserted idempotently by
// (tenant, orderId) in one durable transaction with its stock movement — a sale debits the
// ledger (going below zero is accepted and flagged), a void or refund credits its lines back —
// and only then is the ack made. Tenant and device come from the authenticated session (the
// transport's identity), never from the payload.
import type { AckMessage, OrderMessage } from '../../../common/sync-messages.ts';
import { commitCatalogChanges, type CatalogChange, type CatalogSettings, type CommittedVersion } from './catalog.ts';
import type { DomainDeps } from './deps.ts';
import type { StoredOrder } from './sync-storage.ts';

export interface IngestIdentity {
  readonly tenant: string;
  readonly deviceId: string;
}

export interface IngestResult {
  readonly ack: AckMessage;
  /** The catalog version this order made (null for a duplicate or a rejection). */
  readonly committed: CommittedVersion | null;
}

/** Why an order is refused outright (kept, acked `rejected`; the kiosk raises it to the operator). */
export function rejectionReason(order: OrderMessage): string | null {
  if (order.kind !== 'sale' && order.refOrderId === undefined) return `a ${order.kind} names the sale it corrects (refOrderId)`;
  if (order.kind === 'sale' && order.refOrderId !== undefined) return 'a sale has no refOrderId';
  return null;
}

export async function ingestOrder(deps: DomainDeps & { readonly catalog: CatalogSettings }, identity: IngestIdentity, order: OrderMessage): Promise<IngestResult> {
  const nowMs = deps.clock.nowMs();
  return deps.storage.transaction(async (tx) => {
    const known = await tx.getOrder(identity.tenant, order.orderId);
    if (known && known.deviceId !== identity.deviceId) {
      const ack: AckMessage = { type: 'ack', v: 1, orderId: order.orderId, status: 'rejected', stockVersion: null, reason: 'this orderId belongs to an order of another device' };
      return { ack, committed: null };
    }
    if (known) return { ack: ackFor(known, 'duplicate'), committed: null };
    await tx.touchDevice(identity.tenant, identity.deviceId, nowMs);

    const reason = rejectionReason(order);
    if (reason !== null) {
      const stored = storedOrder(identity, order, nowMs, { status: 'rejected', reason, stockVersion: null, oversold: false });
      await tx.insertOrder(stored);
      return { ack: ackFor(stored, 'rejected'), committed: null };
    }
    const sign = order.kind === 'sale' ? -1 : 1;
    const changes: CatalogChange[] = mergeLines(order).map(([sku, qty]) => ({ kind: 'stockDelta', sku, delta: sign * qty }));
    const committed = await commitCatalogChanges(tx, identity.tenant, changes, nowMs, deps.catalog);
    const stored = storedOrder(identity, order, nowMs, { status: 'accepted', reason: null, stockVersion: committed.head.version, oversold: committed.negative.length > 0 });
    if (!(await tx.insertOrder(stored))) throw new Error(`order ${order.orderId} appeared during its own transaction`);
    return { ack: ackFor(stored, 'accepted'), committed };
  });
}

/** One stock movement per SKU, in the order the SKUs first appear. */
function mergeLines(order: OrderMessage): [string, number][] {
  const bySku = new Map<string, number>();
  for (const line of order.lines) bySku.set(line.sku, (bySku.get(line.sku) ?? 0) + line.qty);
  return [...bySku.entries()];
}

function storedOrder(identity: IngestIdentity, order: OrderMessage, nowMs: number, outcome: Pick<StoredOrder, 'status' | 'reason' | 'stockVersion' | 'oversold'>): StoredOrder {
  return { tenant: identity.tenant, deviceId: identity.deviceId, order, receivedAtMs: nowMs, ...outcome };
}

/** The ack of a stored order; a duplicate carries the original's stockVersion. */
function ackFor(stored: StoredOrder, status: AckMessage['status']): AckMessage {
  const finalStatus = stored.status === 'rejected' ? 'rejected' : status;
  return {
    type: 'ack',
    v: 1,
    orderId: stored.order.orderId,
    status: finalStatus,
    stockVersion: stored.stockVersion,
    ...(stored.reason === null ? {} : { reason: stored.reason.slice(0, 200) }),
  };
}
