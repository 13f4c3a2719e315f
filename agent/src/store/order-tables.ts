// Table group "orders": orders and their lines as taken (immutable; voids and refunds are new
// rows with ref_order_id), and the outbox that carries them to the server. Rows are decoded here
// and nowhere else. Callers run these inside the store's transactions.
import { z } from 'zod';
import { orderSchema, type AckMessage, type OrderMessage } from '../../../common/sync-messages.ts';
import type { OutboxEntry, OutboxState, OutboxStats } from '../domain/sales-types.ts';
import type { SqliteDatabase } from './database.ts';
import { decodeOptionalRow, decodeRow } from './rows.ts';

const outboxRow = z.object({
  order_id: z.string(),
  seq: z.number().int(),
  state: z.enum(['pending', 'inflight', 'acked', 'rejected']),
  payload: z.string(),
  attempts: z.number().int(),
  next_attempt_at: z.number().int(),
  created_at: z.number().int(),
  acked_at: z.number().int().nullable(),
  stock_version: z.number().int().nullable(),
  error: z.string().nullable(),
});
const hashRow = z.object({ request_hash: z.string() });
const countRow = z.object({ n: z.number().int() });
const correctionRow = z.object({ kind: z.enum(['void', 'refund']), sku: z.string(), qty: z.number().int() });
const statsRow = z.object({ state: z.enum(['pending', 'inflight', 'acked', 'rejected']), n: z.number().int(), oldest: z.number().int().nullable() });
const nextRow = z.object({ next: z.number().int().nullable() });

export interface OrderTables {
  insert(message: OrderMessage, requestHash: string, nowMs: number): void;
  requestHash(orderId: string): string | null;
  outboxEntry(orderId: string): OutboxEntry | null;
  /** Voids and refunds already made against a sale. */
  corrections(orderId: string): { voided: boolean; refundedQty: Map<string, number> };
  salesSince(sinceMs: number): number;
  requeueInflight(nowMs: number): number;
  duePending(nowMs: number, limit: number): OutboxEntry[];
  nextPendingAtMs(): number | null;
  markInflight(orderId: string, nowMs: number): void;
  recordAck(ack: AckMessage, nowMs: number): boolean;
  retryLater(orderId: string, retryAtMs: number, error: string): boolean;
  stats(): OutboxStats;
  pruneAcked(ackedBeforeMs: number, localVersion: number): number;
}

export function orderTables(db: SqliteDatabase): OrderTables {
  const insertOrder = db.prepare(
    `INSERT INTO orders (order_id, seq, kind, ref_order_id, created_at, catalog_version, currency, total_minor, tax_minor, request_hash)
     VALUES (@orderId, @seq, @kind, @refOrderId, @createdAt, @catalogVersion, @currency, @totalMinor, @taxMinor, @requestHash)`,
  );
  const insertLine = db.prepare(
    'INSERT INTO order_lines (order_id, line_no, sku, qty, unit_price_minor, tax_minor) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertOutbox = db.prepare(
    `INSERT INTO outbox (order_id, seq, state, payload, attempts, next_attempt_at, created_at) VALUES (?, ?, 'pending', ?, 0, ?, ?)`,
  );
  const selectHash = db.prepare('SELECT request_hash FROM orders WHERE order_id = ?');
  const selectOutbox = db.prepare('SELECT * FROM outbox WHERE order_id = ?');
  const selectCorrections = db.prepare(
    `SELECT o.kind, l.sku, l.qty FROM orders o JOIN order_lines l ON l.order_id = o.order_id WHERE o.ref_order_id = ?`,
  );
  const countSales = db.prepare(`SELECT COUNT(*) AS n FROM orders WHERE kind = 'sale' AND created_at >= ?`);
  const requeue = db.prepare(`UPDATE outbox SET state = 'pending', next_attempt_at = ? WHERE state = 'inflight'`);
  const selectDue = db.prepare(`SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY seq LIMIT ?`);
  const selectNext = db.prepare(`SELECT MIN(next_attempt_at) AS next FROM outbox WHERE state = 'pending'`);
  const inflight = db.prepare(`UPDATE outbox SET state = 'inflight', attempts = attempts + 1, sent_at = ? WHERE order_id = ? AND state = 'pending'`);
  const ackStmt = db.prepare(
    `UPDATE outbox SET state = @state, acked_at = @at, stock_version = @stockVersion, error = @error
      WHERE order_id = @orderId AND state IN ('pending', 'inflight')`,
  );
  const retry = db.prepare(`UPDATE outbox SET state = 'pending', next_attempt_at = ?, error = ? WHERE order_id = ? AND state = 'inflight'`);
  const selectStats = db.prepare(`SELECT state, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox GROUP BY state`);
  const prune = db.prepare(
    `DELETE FROM orders WHERE order_id IN (SELECT order_id FROM outbox WHERE state = 'acked' AND acked_at < ? AND (stock_version IS NULL OR stock_version <= ?))`,
  );

  const toEntry = (row: unknown): OutboxEntry => {
    const r = decodeRow(outboxRow, row, 'outbox');
    const message = decodeRow(orderSchema, JSON.parse(r.payload), 'outbox.payload');
    return {
      orderId: r.order_id,
      seq: r.seq,
      state: r.state,
      message,
      attempts: r.attempts,
      nextAttemptAtMs: r.next_attempt_at,
      createdAtMs: r.created_at,
      ackedAtMs: r.acked_at,
      stockVersion: r.stock_version,
      error: r.error,
    };
  };

  return {
    insert(m, requestHash, nowMs) {
      insertOrder.run({
        orderId: m.orderId,
        seq: m.seq,
        kind: m.kind,
        refOrderId: m.refOrderId ?? null,
        createdAt: Math.trunc(nowMs),
        catalogVersion: m.catalogVersion,
        currency: m.currency,
        totalMinor: m.totalMinor,
        taxMinor: m.taxMinor,
        requestHash,
      });
      m.lines.forEach((l, i) => insertLine.run(m.orderId, i + 1, l.sku, l.qty, l.unitPriceMinor, l.taxMinor));
      insertOutbox.run(m.orderId, m.seq, JSON.stringify(m), Math.trunc(nowMs), Math.trunc(nowMs));
    },
    requestHash: (orderId) => decodeOptionalRow(hashRow, selectHash.get(orderId), 'orders')?.request_hash ?? null,
    outboxEntry(orderId) {
      const row = selectOutbox.get(orderId);
      return row === undefined ? null : toEntry(row);
    },
    corrections(orderId) {
      let voided = false;
      const refundedQty = new Map<string, number>();
      for (const row of selectCorrections.all(orderId)) {
        const r = decodeRow(correctionRow, row, 'orders');
        if (r.kind === 'void') voided = true;
        else refundedQty.set(r.sku, (refundedQty.get(r.sku) ?? 0) + r.qty);
      }
      return { voided, refundedQty };
    },
    salesSince: (sinceMs) => decodeRow(countRow, countSales.get(Math.trunc(sinceMs)), 'orders').n,
    requeueInflight: (nowMs) => requeue.run(Math.trunc(nowMs)).changes,
    duePending: (nowMs, limit) => selectDue.all(Math.trunc(nowMs), limit).map(toEntry),
    nextPendingAtMs: () => decodeRow(nextRow, selectNext.get(), 'outbox').next,
    markInflight(orderId, nowMs) {
      inflight.run(Math.trunc(nowMs), orderId);
    },
    recordAck(ack, nowMs) {
      const state: OutboxState = ack.status === 'rejected' ? 'rejected' : 'acked';
      return (
        ackStmt.run({ state, at: Math.trunc(nowMs), stockVersion: ack.stockVersion, error: ack.status === 'rejected' ? (ack.reason ?? 'rejected') : null, orderId: ack.orderId })
          .changes > 0
      );
    },
    retryLater: (orderId, retryAtMs, error) => retry.run(Math.trunc(retryAtMs), error.slice(0, 500), orderId).changes > 0,
    stats() {
      const by = new Map(selectStats.all().map((row) => {
        const r = decodeRow(statsRow, row, 'outbox');
        return [r.state, r] as const;
      }));
      const n = (s: OutboxState) => by.get(s)?.n ?? 0;
      const oldest = [by.get('pending')?.oldest, by.get('inflight')?.oldest].filter((v): v is number => typeof v === 'number');
      return {
        depth: n('pending') + n('inflight'),
        pending: n('pending'),
        inflight: n('inflight'),
        acked: n('acked'),
        rejected: n('rejected'),
        oldestPendingCreatedAtMs: oldest.length ? Math.min(...oldest) : null,
      };
    },
    pruneAcked: (ackedBeforeMs, localVersion) => prune.run(Math.trunc(ackedBeforeMs), localVersion).changes,
  };
}
