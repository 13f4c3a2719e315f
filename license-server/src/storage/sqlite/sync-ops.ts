// The sync operations (migration 4) as synchronous statements: catalog head and change log,
// products, the stock ledger, orders, the fleet's sync state. sqlite-ops.ts merges them into
// the storage's operations; rows are decoded by schemas (STYLE: validate at the edges).
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { KioskError } from '../../../../common/errors.ts';
import { catalogOpSchema, orderSchema, productSchema } from '../../../../common/sync-messages.ts';
import type { CatalogHeadRecord, StoredOrder, SyncStorageOps } from '../../domain/sync-storage.ts';
import { decode, decodeJson } from './rows.ts';

type SyncOf<T> = { [P in keyof T]: T[P] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never };

export const EMPTY_CHECKSUM = '0'.repeat(64);

/** The operations here that write; outside a transaction each gets one of its own. */
export const SYNC_WRITE_OPS: readonly (keyof SyncStorageOps)[] = [
  'setProduct',
  'setStockLevel',
  'appendCatalogVersion',
  'insertOrder',
  'recordDeviceStatus',
  'touchDevice',
  'recordCloneAlarm',
];

const int = z.number().int();
const headRow = z.object({ tenant: z.string(), version: int, checksum: z.string(), oldest_delta_from: int });
const changeRow = z.object({ version: int, ops: z.string(), checksum: z.string(), at: int });
const orderRow = z.object({
  tenant: z.string(),
  device_id: z.string(),
  message: z.string(),
  received_at: int,
  status: z.enum(['accepted', 'rejected']),
  reason: z.string().nullable(),
  stock_version: int.nullable(),
  oversold: z.union([z.literal(0), z.literal(1)]),
});
const deviceRow = z.object({
  tenant: z.string(),
  device_id: z.string(),
  status: z.string().nullable(),
  status_at: int.nullable(),
  last_seen_at: int.nullable(),
  clone_alarms: int,
  last_clone_alarm_at: int.nullable(),
});
const statsRow = z.object({ device_id: z.string(), orders: int, max_seq: int, last_order_at: int.nullable() });
const opsJson = z.array(catalogOpSchema);
const statusJson = z.record(z.string(), z.unknown());

function decodeOrder(row: unknown): StoredOrder {
  const r = decode(orderRow, row, 'sync_orders');
  return {
    tenant: r.tenant,
    deviceId: r.device_id,
    order: decodeJson(orderSchema, r.message, 'sync_orders.message'),
    receivedAtMs: r.received_at,
    status: r.status,
    reason: r.reason,
    stockVersion: r.stock_version,
    oversold: r.oversold === 1,
  };
}

export function createSyncOps(db: Database.Database): SyncOf<SyncStorageOps> {
  const s = {
    head: db.prepare('SELECT * FROM catalog_state WHERE tenant = ?'),
    insertHead: db.prepare('INSERT INTO catalog_state (tenant, version, checksum, oldest_delta_from) VALUES (?, 0, ?, 1) ON CONFLICT DO NOTHING'),
    setHead: db.prepare('UPDATE catalog_state SET version = @version, checksum = @checksum, oldest_delta_from = @oldest WHERE tenant = @tenant'),
    getProduct: db.prepare('SELECT product FROM catalog_products WHERE tenant = ? AND sku = ?'),
    putProduct: db.prepare('INSERT INTO catalog_products (tenant, sku, product) VALUES (?, ?, ?) ON CONFLICT (tenant, sku) DO UPDATE SET product = excluded.product'),
    delProduct: db.prepare('DELETE FROM catalog_products WHERE tenant = ? AND sku = ?'),
    listProducts: db.prepare(`SELECT p.product, coalesce(s.level, 0) AS level FROM catalog_products p
      LEFT JOIN stock_levels s ON s.tenant = p.tenant AND s.sku = p.sku WHERE p.tenant = ? ORDER BY p.sku`),
    getStock: db.prepare('SELECT level FROM stock_levels WHERE tenant = ? AND sku = ?'),
    setStock: db.prepare('INSERT INTO stock_levels (tenant, sku, level) VALUES (?, ?, ?) ON CONFLICT (tenant, sku) DO UPDATE SET level = excluded.level'),
    insertChange: db.prepare('INSERT INTO catalog_changes (tenant, version, ops, checksum, at) VALUES (?, ?, ?, ?, ?)'),
    pruneChanges: db.prepare('DELETE FROM catalog_changes WHERE tenant = ? AND version < ?'),
    oldestChange: db.prepare('SELECT min(version) AS v FROM catalog_changes WHERE tenant = ?'),
    listChanges: db.prepare('SELECT version, ops, checksum, at FROM catalog_changes WHERE tenant = ? AND version >= ? ORDER BY version LIMIT ?'),
    tenants: db.prepare('SELECT tenant FROM catalog_state ORDER BY tenant'),
    insertOrder: db.prepare(`INSERT INTO sync_orders (tenant, order_id, device_id, seq, message, received_at, status, reason, stock_version, oversold)
      VALUES (@tenant, @order_id, @device_id, @seq, @message, @received_at, @status, @reason, @stock_version, @oversold) ON CONFLICT DO NOTHING`),
    getOrder: db.prepare('SELECT * FROM sync_orders WHERE tenant = ? AND order_id = ?'),
    listOrders: db.prepare(`SELECT * FROM sync_orders WHERE tenant = @tenant AND (@device_id IS NULL OR device_id = @device_id)
      AND received_at >= @since ORDER BY received_at, device_id, seq LIMIT @limit`),
    orderStats: db.prepare(`SELECT device_id, count(*) AS orders, max(seq) AS max_seq, max(received_at) AS last_order_at
      FROM sync_orders WHERE tenant = ? GROUP BY device_id ORDER BY device_id`),
    recordStatus: db.prepare(`INSERT INTO device_sync (tenant, device_id, status, status_at, last_seen_at) VALUES (@tenant, @device_id, @status, @at, @at)
      ON CONFLICT (tenant, device_id) DO UPDATE SET status = excluded.status, status_at = excluded.status_at,
      last_seen_at = max(coalesce(last_seen_at, 0), excluded.last_seen_at)`),
    touch: db.prepare(`INSERT INTO device_sync (tenant, device_id, last_seen_at) VALUES (@tenant, @device_id, @at)
      ON CONFLICT (tenant, device_id) DO UPDATE SET last_seen_at = max(coalesce(last_seen_at, 0), excluded.last_seen_at)`),
    clone: db.prepare(`INSERT INTO device_sync (tenant, device_id, clone_alarms, last_clone_alarm_at) VALUES (@tenant, @device_id, 1, @at)
      ON CONFLICT (tenant, device_id) DO UPDATE SET clone_alarms = clone_alarms + 1, last_clone_alarm_at = excluded.last_clone_alarm_at`),
    listDevices: db.prepare('SELECT * FROM device_sync WHERE tenant = ? ORDER BY device_id'),
  };

  const head = (tenant: string): CatalogHeadRecord => {
    const row = s.head.get(tenant);
    if (row === undefined) return { tenant, version: 0, checksum: EMPTY_CHECKSUM, oldestDeltaFrom: 1 };
    const r = decode(headRow, row, 'catalog_state');
    return { tenant: r.tenant, version: r.version, checksum: r.checksum, oldestDeltaFrom: r.oldest_delta_from };
  };

  const appendCatalogVersion = db.transaction((tenant: string, record: Parameters<SyncStorageOps['appendCatalogVersion']>[1], keep: number): CatalogHeadRecord => {
    s.insertHead.run(tenant, EMPTY_CHECKSUM);
    const current = head(tenant);
    if (record.version !== current.version + 1) {
      throw new KioskError('STORAGE_ERROR', `catalog version ${record.version} of ${tenant} does not follow the head ${current.version}`);
    }
    s.insertChange.run(tenant, record.version, JSON.stringify(record.ops), record.checksum, record.atMs);
    s.pruneChanges.run(tenant, record.version - Math.max(1, keep) + 1);
    const oldest = (s.oldestChange.get(tenant) as { v: number | null }).v ?? record.version + 1;
    s.setHead.run({ tenant, version: record.version, checksum: record.checksum, oldest });
    return { tenant, version: record.version, checksum: record.checksum, oldestDeltaFrom: oldest };
  });

  return {
    getCatalogHead: head,
    getProduct(tenant, sku) {
      const row = s.getProduct.get(tenant, sku) as { product?: unknown } | undefined;
      return row === undefined ? undefined : decodeJson(productSchema, String(row.product), 'catalog_products.product');
    },
    getStockLevel(tenant, sku) {
      const row = s.getStock.get(tenant, sku) as { level?: unknown } | undefined;
      return typeof row?.level === 'number' ? row.level : 0;
    },
    listProducts(tenant) {
      return s.listProducts.all(tenant).map((row) => {
        const r = row as { product: string; level: number };
        return { product: decodeJson(productSchema, r.product, 'catalog_products.product'), stockLevel: Number(r.level) };
      });
    },
    setProduct(tenant, sku, product) {
      if (product === null) s.delProduct.run(tenant, sku);
      else s.putProduct.run(tenant, sku, JSON.stringify(product));
    },
    setStockLevel(tenant, sku, level) {
      s.setStock.run(tenant, sku, level);
    },
    appendCatalogVersion: (tenant, record, keep) => appendCatalogVersion(tenant, record, keep),
    listCatalogVersions(tenant, fromVersion, limit) {
      return s.listChanges.all(tenant, fromVersion, limit).map((row) => {
        const r = decode(changeRow, row, 'catalog_changes');
        return { version: r.version, ops: decodeJson(opsJson, r.ops, 'catalog_changes.ops'), checksum: r.checksum, atMs: r.at };
      });
    },
    listCatalogTenants: () => s.tenants.all().map((row) => String((row as { tenant: unknown }).tenant)),
    insertOrder(o) {
      return (
        s.insertOrder.run({
          tenant: o.tenant,
          order_id: o.order.orderId,
          device_id: o.deviceId,
          seq: o.order.seq,
          message: JSON.stringify(o.order),
          received_at: o.receivedAtMs,
          status: o.status,
          reason: o.reason,
          stock_version: o.stockVersion,
          oversold: o.oversold ? 1 : 0,
        }).changes === 1
      );
    },
    getOrder(tenant, orderId) {
      const row = s.getOrder.get(tenant, orderId);
      return row === undefined ? undefined : decodeOrder(row);
    },
    listOrders(tenant, filter) {
      return s.listOrders.all({ tenant, device_id: filter.deviceId ?? null, since: filter.sinceMs ?? 0, limit: filter.limit }).map(decodeOrder);
    },
    orderStats(tenant) {
      return s.orderStats.all(tenant).map((row) => {
        const r = decode(statsRow, row, 'sync_orders');
        return { deviceId: r.device_id, orders: r.orders, maxSeq: r.max_seq, lastOrderAtMs: r.last_order_at };
      });
    },
    recordDeviceStatus(tenant, deviceId, status, atMs) {
      s.recordStatus.run({ tenant, device_id: deviceId, status: JSON.stringify(status), at: atMs });
    },
    touchDevice(tenant, deviceId, atMs) {
      s.touch.run({ tenant, device_id: deviceId, at: atMs });
    },
    recordCloneAlarm(tenant, deviceId, atMs) {
      s.clone.run({ tenant, device_id: deviceId, at: atMs });
    },
    listDeviceSync(tenant) {
      return s.listDevices.all(tenant).map((row) => {
        const r = decode(deviceRow, row, 'device_sync');
        return {
          tenant: r.tenant,
          deviceId: r.device_id,
          status: r.status === null ? null : decodeJson(statusJson, r.status, 'device_sync.status'),
          statusAtMs: r.status_at,
          lastSeenAtMs: r.last_seen_at,
          cloneAlarms: r.clone_alarms,
          lastCloneAlarmAtMs: r.last_clone_alarm_at,
        };
      });
    },
  };
}
