// What the local API, the sync engine and the store share about sales and the catalog: plain
// types and the ports the IO folders are given (http/ and sync/ never import store/; the
// daemon wiring hands them the store, which implements these ports).
import type { AckMessage, CatalogOp, OrderMessage, Product } from '../../../common/sync-messages.ts';
import type { LicenseMode } from './license-policy.ts';

export interface CatalogItem {
  readonly product: Product;
  /** The server's level at the local version. */
  readonly stockLevel: number;
  /** stockLevel − this kiosk's sales not yet inside it (docs/sync-protocol.md §5). */
  readonly available: number;
}

export interface SyncState {
  readonly catalogVersion: number;
  readonly catalogChecksum: string;
  readonly head: { readonly version: number; readonly checksum: string; readonly oldestDeltaFrom: number; readonly seenAtMs: number } | null;
  readonly lastSyncAtMs: number | null;
  readonly lastError: string | null;
}

export type OutboxState = 'pending' | 'inflight' | 'acked' | 'rejected';

export interface OutboxEntry {
  readonly orderId: string;
  readonly seq: number;
  readonly state: OutboxState;
  readonly message: OrderMessage;
  readonly attempts: number;
  readonly nextAttemptAtMs: number;
  readonly createdAtMs: number;
  readonly ackedAtMs: number | null;
  readonly stockVersion: number | null;
  readonly error: string | null;
}

export interface OutboxStats {
  /** pending + inflight */
  readonly depth: number;
  readonly pending: number;
  readonly inflight: number;
  readonly acked: number;
  readonly rejected: number;
  readonly oldestPendingCreatedAtMs: number | null;
}

/** A client's order request after schema validation (POST /v1/orders and the corrections). */
export interface OrderRequest {
  readonly orderId: string;
  readonly kind: 'sale' | 'void' | 'refund';
  readonly refOrderId?: string;
  readonly lines: ReadonlyArray<{ readonly sku: string; readonly qty: number }>;
}

export interface StoredOrder {
  readonly message: OrderMessage;
  readonly sync: { readonly state: OutboxState; readonly attempts: number; readonly stockVersion: number | null; readonly error: string | null; readonly ackedAtMs: number | null } | null;
}

export type PlaceOrderResult =
  | { readonly kind: 'created'; readonly order: StoredOrder }
  | { readonly kind: 'replayed'; readonly order: StoredOrder };

export interface PlaceOrderContext {
  readonly nowMs: number;
  readonly mode: LicenseMode | null;
  /** Start and end (ms) of the trial day that nowMs falls in. */
  readonly dayStartMs: number;
}

export type DeltaOutcome = 'applied' | 'duplicate' | 'gap';

/** The store as the sync engine sees it. */
export interface SyncStorePort {
  syncState(): SyncState;
  /** Applies a delta when from = local + 1 (re-checked inside the transaction). */
  applyDelta(delta: { readonly from: number; readonly to: number; readonly ops: readonly CatalogOp[] }, nowMs: number): DeltaOutcome;
  /** Replaces the whole catalog and stock with a verified snapshot, in one transaction. */
  replaceCatalog(snapshot: { readonly version: number; readonly checksum: string; readonly items: ReadonlyArray<{ product: Product; stockLevel: number }> }, nowMs: number): void;
  recordHead(head: { readonly version: number; readonly checksum: string; readonly oldestDeltaFrom: number }, nowMs: number): void;
  setLastError(message: string | null): void;
  /** In-flight rows back to pending (start-up, lost connection); returns how many. */
  requeueInflight(nowMs: number): number;
  /** Pending rows due at nowMs, in seq order. */
  duePending(nowMs: number, limit: number): OutboxEntry[];
  /** The earliest next_attempt_at of a pending row, or null. */
  nextPendingAtMs(): number | null;
  markInflight(orderId: string, nowMs: number): void;
  /** The application ack: true when it changed a row. */
  recordAck(ack: AckMessage, nowMs: number): boolean;
  /** An in-flight row without its ack in time: pending again at retryAtMs. */
  retryLater(orderId: string, retryAtMs: number, error: string): boolean;
  outboxStats(): OutboxStats;
  /** Deletes acked orders acked before `ackedBeforeMs` whose stock is inside the local level; returns how many. */
  pruneAcked(ackedBeforeMs: number): number;
}

/** The store as the local API sees it. */
export interface SalesStorePort {
  syncState(): SyncState;
  catalog(): CatalogItem[];
  product(sku: string): CatalogItem | null;
  placeOrder(request: OrderRequest, context: PlaceOrderContext): PlaceOrderResult;
  order(orderId: string): StoredOrder | null;
  outboxStats(): OutboxStats;
}

/** Counters the sync engine bumps (daemon/sync-metrics.ts implements them with prom-client). */
export interface SyncCounters {
  ordersSent(): void;
  ackReceived(status: 'accepted' | 'duplicate' | 'rejected'): void;
  malformedMessage(reason: string): void;
  deltaApplied(): void;
  snapshotSwapped(): void;
}

/** GET /metrics: the registry's text exposition. */
export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string>;
}

export type ConnectionState = 'disabled' | 'idle' | 'connecting' | 'connected' | 'offline';

/** What the local API reads from the sync engine. */
export interface SyncView {
  connection(): ConnectionState;
  /** A new order was committed: send soon. */
  notifyOrder(): void;
}
