// The catalog and stock of a tenant (docs/sync-protocol.md §3): one version sequence covers
// products, prices and stock levels. Every change — a vendor's edit, a sale's stock movement —
// commits a new version with its operations in the change log, and the catalog checksum of that
// version, kept incrementally (XOR the product's old digest out, its new one in). A product's
// stockLevel is the ledger level of its SKU (0 when never moved); a stock op may name a SKU
// without a product (a sale of an unknown SKU), which changes no checksum.
import { KioskError } from '../../../common/errors.ts';
import { TENANT_PATTERN } from '../../../common/license-token.ts';
import { productDigest, productSchema, SKU_PATTERN, xorInto, type CatalogOp, type Product } from '../../../common/sync-messages.ts';
import type { DomainDeps } from './deps.ts';
import type { StorageOps } from './server-storage.ts';
import type { CatalogHeadRecord, CatalogVersionRecord, ProductWithStock } from './sync-storage.ts';

/** How many versions the change log keeps per tenant; a catch-up from before them is a reset. */
export const DEFAULT_KEEP_VERSIONS = 10_000;
/** Most operations in one version and in one catch-up page (catalogDeltaSchema's limit). */
export const MAX_OPS_PER_MESSAGE = 5_000;

export interface CatalogSettings {
  readonly keepVersions: number;
}

/** One change of a commit, applied in order. */
export type CatalogChange =
  | { readonly kind: 'put'; readonly product: Product }
  | { readonly kind: 'del'; readonly sku: string }
  | { readonly kind: 'stockDelta'; readonly sku: string; readonly delta: number }
  | { readonly kind: 'stockSet'; readonly sku: string; readonly level: number };

export interface CommittedVersion {
  readonly head: CatalogHeadRecord;
  readonly ops: readonly CatalogOp[];
  /** SKUs whose level went below zero with this version. */
  readonly negative: readonly string[];
}

export function requireTenant(tenant: string): string {
  if (!TENANT_PATTERN.test(tenant)) throw new KioskError('VALIDATION_FAILED', 'a tenant is [A-Za-z0-9_-]{1,64}');
  return tenant;
}

export function requireSku(sku: string): string {
  if (!SKU_PATTERN.test(sku)) throw new KioskError('VALIDATION_FAILED', `a SKU is ${SKU_PATTERN.source}`);
  return sku;
}

/** Applies the changes as ONE new version inside the caller's transaction. */
export async function commitCatalogChanges(tx: StorageOps, tenant: string, changes: readonly CatalogChange[], nowMs: number, settings: CatalogSettings): Promise<CommittedVersion> {
  if (changes.length === 0 || changes.length > MAX_OPS_PER_MESSAGE) {
    throw new KioskError('VALIDATION_FAILED', `a catalog change has 1 to ${MAX_OPS_PER_MESSAGE} operations`);
  }
  const current = await tx.getCatalogHead(tenant);
  const acc = Buffer.from(current.checksum, 'hex');
  const ops: CatalogOp[] = [];
  const negative: string[] = [];
  for (const change of changes) {
    const sku = change.kind === 'put' ? change.product.sku : change.sku;
    const product = await tx.getProduct(tenant, sku);
    const level = await tx.getStockLevel(tenant, sku);
    if (product) xorInto(acc, productDigest(product, level));
    let nextProduct = product;
    let nextLevel = level;
    switch (change.kind) {
      case 'put':
        nextProduct = change.product;
        await tx.setProduct(tenant, sku, change.product);
        ops.push({ op: 'put', product: change.product });
        break;
      case 'del':
        nextProduct = undefined;
        await tx.setProduct(tenant, sku, null);
        ops.push({ op: 'del', sku });
        break;
      case 'stockDelta':
      case 'stockSet':
        nextLevel = change.kind === 'stockSet' ? change.level : level + change.delta;
        if (nextLevel < 0 && level >= 0 && change.kind === 'stockDelta') negative.push(sku);
        await tx.setStockLevel(tenant, sku, nextLevel);
        ops.push({ op: 'stock', sku, level: nextLevel });
        break;
    }
    if (nextProduct) xorInto(acc, productDigest(nextProduct, nextLevel));
  }
  const record: CatalogVersionRecord = { version: current.version + 1, ops, checksum: acc.toString('hex'), atMs: nowMs };
  const head = await tx.appendCatalogVersion(tenant, record, settings.keepVersions);
  return { head, ops, negative };
}

/** A vendor's edit as its own version (put, delete, price, stock); NOT_FOUND for a missing product. */
export async function editCatalog(
  deps: DomainDeps & { readonly catalog: CatalogSettings },
  input: { readonly tenant: string; readonly edit: VendorEdit; readonly actor: string },
): Promise<{ committed: CommittedVersion; product: ProductWithStock | null }> {
  const tenant = requireTenant(input.tenant);
  const nowMs = deps.clock.nowMs();
  return deps.storage.transaction(async (tx) => {
    const change = await resolveEdit(tx, tenant, input.edit);
    const committed = await commitCatalogChanges(tx, tenant, [change], nowMs, deps.catalog);
    const sku = change.kind === 'put' ? change.product.sku : change.sku;
    await tx.appendAudit({ atMs: nowMs, actor: input.actor, action: `catalog.${input.edit.kind}`, licenseId: null, deviceId: null, details: { tenant, sku, version: committed.head.version } });
    const product = await tx.getProduct(tenant, sku);
    return { committed, product: product ? { product, stockLevel: await tx.getStockLevel(tenant, sku) } : null };
  });
}

export type VendorEdit =
  | { readonly kind: 'put'; readonly product: Product }
  | { readonly kind: 'delete'; readonly sku: string }
  | { readonly kind: 'price'; readonly sku: string; readonly priceMinor: number; readonly currency?: string; readonly taxRateBp?: number }
  | { readonly kind: 'stock'; readonly sku: string; readonly delta?: number; readonly level?: number };

async function resolveEdit(tx: StorageOps, tenant: string, edit: VendorEdit): Promise<CatalogChange> {
  switch (edit.kind) {
    case 'put':
      return { kind: 'put', product: productSchema.parse(edit.product) };
    case 'delete':
      await existing(tx, tenant, edit.sku);
      return { kind: 'del', sku: edit.sku };
    case 'price': {
      const product = await existing(tx, tenant, edit.sku);
      const next = productSchema.safeParse({ ...product, priceMinor: edit.priceMinor, ...(edit.currency ? { currency: edit.currency } : {}), ...(edit.taxRateBp === undefined ? {} : { taxRateBp: edit.taxRateBp }) });
      if (!next.success) throw new KioskError('VALIDATION_FAILED', `price: ${next.error.issues[0]?.message ?? 'invalid'}`);
      return { kind: 'put', product: next.data };
    }
    case 'stock':
      requireSku(edit.sku);
      if ((edit.delta === undefined) === (edit.level === undefined)) throw new KioskError('VALIDATION_FAILED', 'give either delta or level');
      return edit.level !== undefined ? { kind: 'stockSet', sku: edit.sku, level: edit.level } : { kind: 'stockDelta', sku: edit.sku, delta: edit.delta ?? 0 };
  }
}

async function existing(tx: StorageOps, tenant: string, sku: string): Promise<Product> {
  const product = await tx.getProduct(tenant, requireSku(sku));
  if (!product) throw new KioskError('NOT_FOUND', `no product ${sku} in the catalog of ${tenant}`);
  return product;
}

/** The whole catalog at its head, read consistently (the HTTP snapshot). */
export async function readCatalog(ops: StorageOps, tenant: string): Promise<{ head: CatalogHeadRecord; products: ProductWithStock[] }> {
  return { head: await ops.getCatalogHead(tenant), products: await ops.listProducts(tenant) };
}

export type CatchUpAnswer =
  | { readonly kind: 'reset'; readonly version: number }
  | { readonly kind: 'pages'; readonly pages: readonly { readonly from: number; readonly to: number; readonly ops: readonly CatalogOp[] }[] };

/**
 * A catch-up from `since` (the device's version): delta pages of whole versions, each at most
 * MAX_OPS_PER_MESSAGE operations, up to the head; a reset when `since` is older than the log.
 */
export async function planCatchUp(ops: StorageOps, tenant: string, since: number, maxOps = MAX_OPS_PER_MESSAGE): Promise<CatchUpAnswer> {
  const head = await ops.getCatalogHead(tenant);
  if (since > head.version) return { kind: 'reset', version: head.version };
  if (since < head.oldestDeltaFrom - 1) return { kind: 'reset', version: head.version };
  const pages: { from: number; to: number; ops: CatalogOp[] }[] = [];
  let next = since + 1;
  while (next <= head.version) {
    const versions = await ops.listCatalogVersions(tenant, next, 500);
    if (versions.length === 0 || versions[0]?.version !== next) return { kind: 'reset', version: head.version };
    for (const v of versions) {
      const page = pages[pages.length - 1];
      if (page && page.ops.length + v.ops.length <= maxOps) {
        page.to = v.version;
        page.ops.push(...v.ops);
      } else {
        pages.push({ from: v.version, to: v.version, ops: [...v.ops] });
      }
      next = v.version + 1;
    }
  }
  return { kind: 'pages', pages };
}
