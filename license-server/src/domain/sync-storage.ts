// The storage port of offline-first sync (docs/sync-protocol.md §3–§6): a per-tenant catalog
// version sequence with its change log, the stock ledger, orders ingested from devices, and the
// fleet's sync state. Part of StorageOps (server-storage.ts), so every operation also runs inside
// a storage transaction; rows are data, the rules live in catalog.ts / order-ingest.ts.
import type { CatalogOp, OrderMessage, Product } from '../../../common/sync-messages.ts';

export interface CatalogHeadRecord {
  readonly tenant: string;
  /** 0 before the first change. */
  readonly version: number;
  /** catalogChecksum of the catalog at `version` (64 hex). */
  readonly checksum: string;
  /** The oldest version still in the change log (version + 1 when the log is empty). */
  readonly oldestDeltaFrom: number;
}

export interface CatalogVersionRecord {
  readonly version: number;
  readonly ops: readonly CatalogOp[];
  readonly checksum: string;
  readonly atMs: number;
}

export interface ProductWithStock {
  readonly product: Product;
  readonly stockLevel: number;
}

export type OrderStatus = 'accepted' | 'rejected';

/** An order as the server keeps it: the device's message, where it came from, what it did. */
export interface StoredOrder {
  readonly tenant: string;
  readonly deviceId: string;
  readonly order: OrderMessage;
  readonly receivedAtMs: number;
  readonly status: OrderStatus;
  readonly reason: string | null;
  /** The catalog version that includes its stock movement; null when rejected. */
  readonly stockVersion: number | null;
  /** A sale that took a stock level below zero (accepted and flagged). */
  readonly oversold: boolean;
}

export interface DeviceSyncRecord {
  readonly tenant: string;
  readonly deviceId: string;
  /** The latest retained status message (or will), as decoded; null before the first. */
  readonly status: Readonly<Record<string, unknown>> | null;
  readonly statusAtMs: number | null;
  readonly lastSeenAtMs: number | null;
  readonly cloneAlarms: number;
  readonly lastCloneAlarmAtMs: number | null;
}

export interface DeviceOrderStats {
  readonly deviceId: string;
  readonly orders: number;
  readonly maxSeq: number;
  readonly lastOrderAtMs: number | null;
}

export interface SyncStorageOps {
  /** Version 0 and the empty checksum for a tenant without a catalog. */
  getCatalogHead(tenant: string): Promise<CatalogHeadRecord>;
  getProduct(tenant: string, sku: string): Promise<Product | undefined>;
  /** The ledger's level (0 for a SKU never moved). */
  getStockLevel(tenant: string, sku: string): Promise<number>;
  /** Every product with its stock level, by SKU. */
  listProducts(tenant: string): Promise<ProductWithStock[]>;
  /** Stores (product) or removes (null) a product. */
  setProduct(tenant: string, sku: string, product: Product | null): Promise<void>;
  setStockLevel(tenant: string, sku: string, level: number): Promise<void>;
  /**
   * Appends version `record.version` (must be head + 1) to the log, makes it the head, and
   * drops log entries older than `version − keepVersions + 1`.
   */
  appendCatalogVersion(tenant: string, record: CatalogVersionRecord, keepVersions: number): Promise<CatalogHeadRecord>;
  /** Log entries with version ≥ fromVersion, ascending, at most `limit` of them. */
  listCatalogVersions(tenant: string, fromVersion: number, limit: number): Promise<CatalogVersionRecord[]>;
  /** Every tenant with a catalog version. */
  listCatalogTenants(): Promise<string[]>;

  /** Inserts unless (tenant, orderId) is stored; false when it was (nothing changes then). */
  insertOrder(order: StoredOrder): Promise<boolean>;
  getOrder(tenant: string, orderId: string): Promise<StoredOrder | undefined>;
  /** Oldest received first. */
  listOrders(tenant: string, filter: { readonly deviceId?: string; readonly sinceMs?: number; readonly limit: number }): Promise<StoredOrder[]>;
  /** Per device of the tenant: how many orders, the highest seq, the newest receipt. */
  orderStats(tenant: string): Promise<DeviceOrderStats[]>;

  /** Records a device's status message (its retained status or will) and that it was seen. */
  recordDeviceStatus(tenant: string, deviceId: string, status: Readonly<Record<string, unknown>>, atMs: number): Promise<void>;
  /** The device was seen (connected, published) at atMs. */
  touchDevice(tenant: string, deviceId: string, atMs: number): Promise<void>;
  recordCloneAlarm(tenant: string, deviceId: string, atMs: number): Promise<void>;
  listDeviceSync(tenant: string): Promise<DeviceSyncRecord[]>;
}
