// Table group "catalog": products, the server's stock levels at the local version, and the
// one-row sync_state (local version and checksum, newest head seen, the next order seq). Rows
// are decoded here and nowhere else. Callers run these inside the store's transactions.
import { z } from 'zod';
import { catalogChecksum, type CatalogOp, type Product } from '../../../common/sync-messages.ts';
import type { CatalogItem, SyncState } from '../domain/sales-types.ts';
import type { SqliteDatabase } from './database.ts';
import { decodeOptionalRow, decodeRow } from './rows.ts';

const productRow = z.object({
  sku: z.string(),
  name: z.string(),
  price_minor: z.number().int(),
  currency: z.string(),
  tax_rate_bp: z.number().int(),
  active: z.number().int(),
  level: z.number().int().nullable(),
  sold: z.number().int().nullable(),
});
const stateRow = z.object({
  catalog_version: z.number().int(),
  catalog_checksum: z.string(),
  head_version: z.number().int().nullable(),
  head_checksum: z.string().nullable(),
  head_oldest_from: z.number().int().nullable(),
  head_seen_at: z.number().int().nullable(),
  last_sync_at: z.number().int().nullable(),
  last_error: z.string().nullable(),
  next_seq: z.number().int(),
});

export interface CatalogTables {
  state(): SyncState;
  nextSeq(): number;
  takeSeq(): number;
  items(): CatalogItem[];
  item(sku: string): CatalogItem | null;
  products(skus: readonly string[]): Map<string, Product>;
  applyOps(ops: readonly CatalogOp[]): void;
  replaceAll(items: ReadonlyArray<{ product: Product; stockLevel: number }>): void;
  /** Recomputes the checksum and sets the version (and last sync time). */
  setVersion(version: number, nowMs: number): string;
  recordHead(head: { version: number; checksum: string; oldestDeltaFrom: number }, nowMs: number): void;
  setLastError(message: string | null): void;
}

// Σ qty of this kiosk's sales of a sku not yet inside the local level: unacked, or acked with stockVersion > L.
const OVERLAY = `(SELECT SUM(l.qty) FROM order_lines l JOIN orders o ON o.order_id = l.order_id JOIN outbox b ON b.order_id = o.order_id
   WHERE l.sku = p.sku AND o.kind = 'sale'
     AND (b.state IN ('pending', 'inflight') OR (b.state = 'acked' AND b.stock_version > (SELECT catalog_version FROM sync_state WHERE slot = 1))))`;

export function catalogTables(db: SqliteDatabase): CatalogTables {
  const selectItems = db.prepare(
    `SELECT p.sku, p.name, p.price_minor, p.currency, p.tax_rate_bp, p.active, s.level, ${OVERLAY} AS sold
       FROM catalog_products p LEFT JOIN catalog_stock s ON s.sku = p.sku ORDER BY p.sku`,
  );
  const selectItem = db.prepare(
    `SELECT p.sku, p.name, p.price_minor, p.currency, p.tax_rate_bp, p.active, s.level, ${OVERLAY} AS sold
       FROM catalog_products p LEFT JOIN catalog_stock s ON s.sku = p.sku WHERE p.sku = ?`,
  );
  const selectProduct = db.prepare(
    'SELECT sku, name, price_minor, currency, tax_rate_bp, active, NULL AS level, NULL AS sold FROM catalog_products WHERE sku = ?',
  );
  const selectPlain = db.prepare(
    `SELECT p.sku, p.name, p.price_minor, p.currency, p.tax_rate_bp, p.active, s.level, NULL AS sold
       FROM catalog_products p LEFT JOIN catalog_stock s ON s.sku = p.sku`,
  );
  const selectState = db.prepare('SELECT * FROM sync_state WHERE slot = 1');
  const putProduct = db.prepare(
    `INSERT INTO catalog_products (sku, name, price_minor, currency, tax_rate_bp, active) VALUES (@sku, @name, @priceMinor, @currency, @taxRateBp, @active)
     ON CONFLICT (sku) DO UPDATE SET name = excluded.name, price_minor = excluded.price_minor, currency = excluded.currency,
       tax_rate_bp = excluded.tax_rate_bp, active = excluded.active`,
  );
  const delProduct = db.prepare('DELETE FROM catalog_products WHERE sku = ?');
  const putStock = db.prepare('INSERT INTO catalog_stock (sku, level) VALUES (?, ?) ON CONFLICT (sku) DO UPDATE SET level = excluded.level');
  const setVersionStmt = db.prepare('UPDATE sync_state SET catalog_version = ?, catalog_checksum = ?, last_sync_at = ? WHERE slot = 1');
  const headStmt = db.prepare('UPDATE sync_state SET head_version = ?, head_checksum = ?, head_oldest_from = ?, head_seen_at = ? WHERE slot = 1');
  const errorStmt = db.prepare('UPDATE sync_state SET last_error = ? WHERE slot = 1');
  const takeSeqStmt = db.prepare('UPDATE sync_state SET next_seq = next_seq + 1 WHERE slot = 1');

  const toProduct = (r: z.infer<typeof productRow>): Product => ({
    sku: r.sku,
    name: r.name,
    priceMinor: r.price_minor,
    currency: r.currency,
    taxRateBp: r.tax_rate_bp,
    active: r.active === 1,
  });
  const toItem = (row: unknown): CatalogItem => {
    const r = decodeRow(productRow, row, 'catalog_products');
    const stockLevel = r.level ?? 0;
    return { product: toProduct(r), stockLevel, available: stockLevel - (r.sold ?? 0) };
  };
  const rawState = () => decodeRow(stateRow, selectState.get(), 'sync_state');

  return {
    state() {
      const r = rawState();
      return {
        catalogVersion: r.catalog_version,
        catalogChecksum: r.catalog_checksum,
        head:
          r.head_version === null || r.head_checksum === null || r.head_oldest_from === null
            ? null
            : { version: r.head_version, checksum: r.head_checksum, oldestDeltaFrom: r.head_oldest_from, seenAtMs: r.head_seen_at ?? 0 },
        lastSyncAtMs: r.last_sync_at,
        lastError: r.last_error,
      };
    },
    nextSeq: () => rawState().next_seq,
    takeSeq() {
      const seq = rawState().next_seq;
      takeSeqStmt.run();
      return seq;
    },
    items: () => selectItems.all().map(toItem),
    item(sku) {
      const row = selectItem.get(sku);
      return row === undefined ? null : toItem(row);
    },
    products(skus) {
      const found = new Map<string, Product>();
      for (const sku of skus) {
        const r = decodeOptionalRow(productRow, selectProduct.get(sku), 'catalog_products');
        if (r) found.set(sku, toProduct(r));
      }
      return found;
    },
    applyOps(ops) {
      for (const op of ops) {
        if (op.op === 'put') putProduct.run({ ...op.product, active: op.product.active ? 1 : 0 });
        else if (op.op === 'del') delProduct.run(op.sku);
        else putStock.run(op.sku, op.level);
      }
    },
    replaceAll(items) {
      db.exec('DELETE FROM catalog_products; DELETE FROM catalog_stock;');
      for (const { product, stockLevel } of items) {
        putProduct.run({ ...product, active: product.active ? 1 : 0 });
        putStock.run(product.sku, stockLevel);
      }
    },
    setVersion(version, nowMs) {
      const checksum = catalogChecksum(selectPlain.all().map((row) => {
        const item = toItem(row);
        return { product: item.product, stockLevel: item.stockLevel };
      }));
      setVersionStmt.run(version, checksum, Math.trunc(nowMs));
      return checksum;
    },
    recordHead(head, nowMs) {
      headStmt.run(head.version, head.checksum, head.oldestDeltaFrom, Math.trunc(nowMs));
    },
    setLastError(message) {
      errorStmt.run(message === null ? null : message.slice(0, 500));
    },
  };
}
