// The catalog, orders and outbox as the local API and the sync engine use them (the ports of
// domain/sales-types.ts). Every write is one IMMEDIATE transaction on the agent's connection
// (synchronous=FULL, store/database.ts): an order and its outbox row commit together before the
// API answers 201. A full disk (SQLITE_FULL, ENOSPC) fails the transaction as a whole and is
// reported as DISK_FULL; nothing half-written is left.
import { KioskError } from '../../../common/errors.ts';
import { planOrderIntake, orderRequestHash } from '../domain/order-intake.ts';
import type { SalesStorePort, StoredOrder, SyncStorePort } from '../domain/sales-types.ts';
import { catalogTables } from './catalog-tables.ts';
import { storageError, type SqliteDatabase } from './database.ts';
import { orderTables } from './order-tables.ts';

export type SalesStore = SalesStorePort & SyncStorePort;

const DISK_FULL_CODES = new Set(['SQLITE_FULL', 'ENOSPC', 'SQLITE_IOERR_WRITE']);

/** A SQLite failure as a KioskError: DISK_FULL for a full disk, STORAGE_ERROR otherwise. */
export function salesStorageError(what: string, err: unknown): KioskError {
  if (err instanceof KioskError) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && DISK_FULL_CODES.has(code)) {
    return new KioskError('DISK_FULL', `${what}: the disk is full (${code}); nothing was stored`, { cause: err });
  }
  return storageError(what, err);
}

export function salesStore(db: SqliteDatabase): SalesStore {
  const catalog = catalogTables(db);
  const orders = orderTables(db);
  const write = <T>(what: string, fn: () => T): T => {
    try {
      return db.transaction(fn).immediate();
    } catch (err) {
      throw salesStorageError(what, err);
    }
  };
  const read = <T>(what: string, fn: () => T): T => {
    try {
      return db.transaction(fn).deferred();
    } catch (err) {
      throw salesStorageError(what, err);
    }
  };
  const storedOrder = (orderId: string): StoredOrder | null => {
    const entry = orders.outboxEntry(orderId);
    if (!entry) return null;
    const { state, attempts, stockVersion, error, ackedAtMs } = entry;
    return { message: entry.message, sync: { state, attempts, stockVersion, error, ackedAtMs } };
  };

  return {
    syncState: () => read('reading the sync state failed', () => catalog.state()),
    catalog: () => read('reading the catalog failed', () => catalog.items()),
    product: (sku) => read('reading the product failed', () => catalog.item(sku)),
    order: (orderId) => read('reading the order failed', () => storedOrder(orderId)),
    outboxStats: () => read('reading the outbox failed', () => orders.stats()),

    placeOrder(request, context) {
      const requestHash = orderRequestHash(request);
      return write('storing the order failed', () => {
        const existingHash = orders.requestHash(request.orderId);
        const original = request.refOrderId === undefined ? null : orders.outboxEntry(request.refOrderId);
        const decision = planOrderIntake({
          request,
          requestHash,
          existing: existingHash === null ? null : { requestHash: existingHash },
          mode: context.mode,
          salesToday: request.kind === 'sale' ? orders.salesSince(context.dayStartMs) : 0,
          catalogVersion: catalog.state().catalogVersion,
          products: request.kind === 'sale' ? catalog.products(request.lines.map((l) => l.sku)) : new Map(),
          original: original && request.refOrderId !== undefined ? { message: original.message, ...orders.corrections(request.refOrderId) } : null,
          seq: catalog.nextSeq(),
          nowMs: context.nowMs,
        });
        if (decision.kind === 'refuse') throw new KioskError(decision.code, decision.message);
        if (decision.kind === 'replay') return { kind: 'replayed' as const, order: storedOrder(request.orderId)! };
        catalog.takeSeq();
        orders.insert(decision.message, requestHash, context.nowMs);
        return { kind: 'created' as const, order: storedOrder(request.orderId)! };
      });
    },

    applyDelta(delta, nowMs) {
      return write('applying a catalog delta failed', () => {
        const local = catalog.state().catalogVersion;
        if (delta.to <= local) return 'duplicate';
        if (delta.from > local + 1) return 'gap';
        catalog.applyOps(delta.ops);
        catalog.setVersion(delta.to, nowMs);
        return 'applied';
      });
    },
    replaceCatalog(snapshot, nowMs) {
      write('swapping in the catalog snapshot failed', () => {
        catalog.replaceAll(snapshot.items);
        const checksum = catalog.setVersion(snapshot.version, nowMs);
        if (checksum !== snapshot.checksum) throw new KioskError('STORAGE_ERROR', 'the stored snapshot does not reproduce its checksum');
      });
    },
    recordHead: (head, nowMs) => write('recording the catalog head failed', () => catalog.recordHead(head, nowMs)),
    setLastError: (message) => write('recording the sync error failed', () => catalog.setLastError(message)),
    requeueInflight: (nowMs) => write('requeueing in-flight orders failed', () => orders.requeueInflight(nowMs)),
    duePending: (nowMs, limit) => read('reading the outbox failed', () => orders.duePending(nowMs, limit)),
    nextPendingAtMs: () => read('reading the outbox failed', () => orders.nextPendingAtMs()),
    markInflight: (orderId, nowMs) => write('marking an order in flight failed', () => orders.markInflight(orderId, nowMs)),
    recordAck: (ack, nowMs) => write('recording an ack failed', () => orders.recordAck(ack, nowMs)),
    retryLater: (orderId, retryAtMs, error) => write('requeueing an order failed', () => orders.retryLater(orderId, retryAtMs, error)),
    pruneAcked: (ackedBeforeMs) => write('pruning acked orders failed', () => orders.pruneAcked(ackedBeforeMs, catalog.state().catalogVersion)),
  };
}
