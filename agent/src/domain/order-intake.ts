// Order intake (DESIGN §4.4, §4.6; docs/sync-protocol.md §4): a pure decision over the facts the
// store gathered inside the order's transaction. The kiosk charges its local catalog's price
// (gross, tax included) and records the catalog version; voids and refunds are new events that
// reverse the original's charged prices. Idempotent by the client's order id: the same id with
// the same request replays the stored answer, with another request it is a conflict.
import { createHash } from 'node:crypto';
import type { ErrorCode } from '../../../common/errors.ts';
import type { OrderMessage, Product } from '../../../common/sync-messages.ts';
import type { LicenseMode } from './license-policy.ts';
import type { OrderRequest } from './sales-types.ts';
import { TRIAL_MAX_ORDERS_PER_DAY } from './trial.ts';

export interface IntakeFacts {
  readonly request: OrderRequest;
  readonly requestHash: string;
  /** An order stored under the same id, with its request hash. */
  readonly existing: { readonly requestHash: string } | null;
  readonly mode: LicenseMode | null;
  /** Sales taken since the start of the current trial day. */
  readonly salesToday: number;
  readonly catalogVersion: number;
  /** The catalog's products for the request's skus (sales). */
  readonly products: ReadonlyMap<string, Product>;
  /** The original of a void/refund and the corrections already made to it. */
  readonly original: {
    readonly message: OrderMessage;
    readonly voided: boolean;
    readonly refundedQty: ReadonlyMap<string, number>;
  } | null;
  readonly seq: number;
  readonly nowMs: number;
}

export type IntakeDecision =
  | { readonly kind: 'create'; readonly message: OrderMessage }
  | { readonly kind: 'replay' }
  | { readonly kind: 'refuse'; readonly code: ErrorCode; readonly message: string };

/** The request's fingerprint for idempotency: kind, reference and lines, canonical. */
export function orderRequestHash(request: OrderRequest): string {
  const canonical = JSON.stringify([request.kind, request.refOrderId ?? null, request.lines.map((l) => [l.sku, l.qty])]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/** Tax inside a gross amount at a rate in basis points, rounded half up. */
export function includedTaxMinor(grossMinor: number, taxRateBp: number): number {
  return Math.round((grossMinor * taxRateBp) / (10_000 + taxRateBp));
}

const refuse = (code: ErrorCode, message: string): IntakeDecision => ({ kind: 'refuse', code, message });

export function planOrderIntake(f: IntakeFacts): IntakeDecision {
  const { request } = f;
  if (f.existing) {
    return f.existing.requestHash === f.requestHash
      ? { kind: 'replay' }
      : refuse('ORDER_CONFLICT', `order ${request.orderId} exists with other content`);
  }
  const skus = request.lines.map((l) => l.sku);
  if (new Set(skus).size !== skus.length) return refuse('VALIDATION_FAILED', 'each sku may appear on one line only');
  const base = { type: 'order', v: 1, orderId: request.orderId, seq: f.seq, createdAt: new Date(f.nowMs).toISOString(), catalogVersion: f.catalogVersion } as const;
  if (request.kind === 'sale') {
    if (f.mode === null || f.mode === 'unlicensed') return refuse('LICENSE_REQUIRED', 'no usable license and the trial is over: new orders are refused');
    if (f.mode === 'trial' && f.salesToday >= TRIAL_MAX_ORDERS_PER_DAY) {
      return refuse('TRIAL_LIMIT_REACHED', `the trial allows ${TRIAL_MAX_ORDERS_PER_DAY} orders a day`);
    }
    const lines: Array<OrderMessage['lines'][number]> = [];
    let currency: string | null = null;
    for (const { sku, qty } of request.lines) {
      const p = f.products.get(sku);
      if (!p) return refuse('NOT_FOUND', `no product ${sku} in the catalog (version ${f.catalogVersion})`);
      if (!p.active) return refuse('VALIDATION_FAILED', `product ${sku} is not for sale`);
      if (currency !== null && p.currency !== currency) return refuse('VALIDATION_FAILED', 'all lines of an order must be in one currency');
      currency = p.currency;
      lines.push({ sku, qty, unitPriceMinor: p.priceMinor, taxMinor: includedTaxMinor(qty * p.priceMinor, p.taxRateBp) });
    }
    return { kind: 'create', message: { ...base, kind: 'sale', currency: currency ?? 'EUR', lines, ...totals(lines) } };
  }

  const original = f.original;
  if (!original || original.message.kind !== 'sale') return refuse('NOT_FOUND', `no sale ${request.refOrderId ?? ''} to correct`);
  if (original.voided) return refuse('ORDER_CONFLICT', `sale ${original.message.orderId} is voided already`);
  const ref = { refOrderId: original.message.orderId, currency: original.message.currency };
  if (request.kind === 'void') {
    if (original.refundedQty.size > 0) return refuse('ORDER_CONFLICT', `sale ${original.message.orderId} has refunds: refund the rest instead`);
    const lines = original.message.lines.map((l) => ({ ...l }));
    return { kind: 'create', message: { ...base, kind: 'void', ...ref, lines, ...totals(lines) } };
  }
  const lines: Array<OrderMessage['lines'][number]> = [];
  for (const { sku, qty } of request.lines) {
    const sold = original.message.lines.find((l) => l.sku === sku);
    if (!sold) return refuse('VALIDATION_FAILED', `sale ${original.message.orderId} has no line for ${sku}`);
    const left = sold.qty - (original.refundedQty.get(sku) ?? 0);
    if (qty > left) return refuse('ORDER_CONFLICT', `only ${left} of ${sku} can still be refunded`);
    lines.push({ sku, qty, unitPriceMinor: sold.unitPriceMinor, taxMinor: Math.round((sold.taxMinor * qty) / sold.qty) });
  }
  return { kind: 'create', message: { ...base, kind: 'refund', ...ref, lines, ...totals(lines) } };
}

function totals(lines: ReadonlyArray<{ qty: number; unitPriceMinor: number; taxMinor: number }>): { totalMinor: number; taxMinor: number } {
  return {
    totalMinor: lines.reduce((s, l) => s + l.qty * l.unitPriceMinor, 0),
    taxMinor: lines.reduce((s, l) => s + l.taxMinor, 0),
  };
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** The trial day (UTC) that a moment falls in. */
export const utcDayStartMs = (nowMs: number): number => Math.floor(nowMs / DAY_MS) * DAY_MS;
