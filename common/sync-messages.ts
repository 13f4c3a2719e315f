// The sync protocol's contract (DESIGN §4.5; prose in docs/sync-protocol.md): MQTT topics and
// every payload, as schemas. MQTT 3.1.1, QoS 1 only, JSON `{ type, v: 1, … }` envelopes;
// a payload is `unknown` until `decodeSyncMessage` accepts it, unknown types are dropped.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DEVICE_ID_PATTERN } from './fingerprint.ts';
import { TENANT_PATTERN } from './license-token.ts';

export const TOPIC_ROOT = 'kiosk/v1';
/** Largest MQTT payload either side sends or accepts. */
export const MAX_SYNC_PAYLOAD_BYTES = 256 * 1024;

export const topics = {
  catalogHead: (tenant: string) => `${TOPIC_ROOT}/${tenant}/catalog/head`,
  catalogDelta: (tenant: string) => `${TOPIC_ROOT}/${tenant}/catalog/delta`,
  revocations: (tenant: string) => `${TOPIC_ROOT}/${tenant}/revocations`,
  deviceReq: (tenant: string, deviceId: string) => `${TOPIC_ROOT}/${tenant}/devices/${deviceId}/req`,
  deviceOrders: (tenant: string, deviceId: string) => `${TOPIC_ROOT}/${tenant}/devices/${deviceId}/orders`,
  deviceRes: (tenant: string, deviceId: string) => `${TOPIC_ROOT}/${tenant}/devices/${deviceId}/res`,
  deviceStatus: (tenant: string, deviceId: string) => `${TOPIC_ROOT}/${tenant}/devices/${deviceId}/status`,
} as const;

/** What a topic names, or null for anything outside the protocol. */
export type ParsedTopic =
  | { kind: 'catalogHead' | 'catalogDelta' | 'revocations'; tenant: string }
  | { kind: 'deviceReq' | 'deviceOrders' | 'deviceRes' | 'deviceStatus'; tenant: string; deviceId: string };

const DEVICE_KINDS = { req: 'deviceReq', orders: 'deviceOrders', res: 'deviceRes', status: 'deviceStatus' } as const;

export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts[0] !== 'kiosk' || parts[1] !== 'v1') return null;
  const tenant = parts[2] ?? '';
  if (!TENANT_PATTERN.test(tenant)) return null;
  if (parts.length === 5 && parts[3] === 'catalog' && (parts[4] === 'head' || parts[4] === 'delta')) {
    return { kind: parts[4] === 'head' ? 'catalogHead' : 'catalogDelta', tenant };
  }
  if (parts.length === 4 && parts[3] === 'revocations') return { kind: 'revocations', tenant };
  if (parts.length === 6 && parts[3] === 'devices' && DEVICE_ID_PATTERN.test(parts[4] ?? '')) {
    const kind = DEVICE_KINDS[parts[5] as keyof typeof DEVICE_KINDS];
    if (kind) return { kind, tenant, deviceId: parts[4]! };
  }
  return null;
}

// --- catalog -------------------------------------------------------------------------------------

export const SKU_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
const currency = z.string().regex(/^[A-Z]{3}$/);
const minor = z.number().int().min(-1e12).max(1e12);
const version = z.number().int().nonnegative();

/** A product as the kiosk sells it: price in minor units, tax rate in basis points. */
export const productSchema = z.object({
  sku: z.string().regex(SKU_PATTERN),
  name: z.string().min(1).max(200),
  priceMinor: z.number().int().nonnegative().max(1e12),
  currency,
  taxRateBp: z.number().int().min(0).max(10_000),
  active: z.boolean(),
});
export type Product = z.infer<typeof productSchema>;

export const catalogOpSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('put'), product: productSchema }),
  z.object({ op: z.literal('del'), sku: z.string().regex(SKU_PATTERN) }),
  /** The server's stock level of a product after this version (commutative ledger, may be < 0). */
  z.object({ op: z.literal('stock'), sku: z.string().regex(SKU_PATTERN), level: z.number().int().min(-1e9).max(1e9) }),
]);
export type CatalogOp = z.infer<typeof catalogOpSchema>;

const envelope = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), v: z.literal(1), ...shape });

/** Retained on …/catalog/head: the newest version. */
export const catalogHeadSchema = envelope('catalog.head', {
  version,
  checksum: z.string().regex(/^[0-9a-f]{64}$/),
  /** The oldest `since` a catch-up can serve; older → snapshot over HTTP. */
  oldestDeltaFrom: version,
});
/** On …/catalog/delta, and as catch-up pages on …/res: the contiguous versions from..to. */
export const catalogDeltaSchema = envelope('catalog.delta', {
  from: version.min(1),
  to: version.min(1),
  ops: z.array(catalogOpSchema).max(5_000),
}).refine((d) => d.to >= d.from, { message: 'to must not be before from' });
/** On …/res: the gap is too old; fetch the snapshot over HTTP (GET /v1/catalog/snapshot). */
export const catalogResetSchema = envelope('catalog.reset', { version });
/** The body of GET /v1/catalog/snapshot (HTTP, `Authorization: DeviceProof <proof>`): not an MQTT payload. */
export const catalogSnapshotSchema = z.object({
  version,
  checksum: z.string().regex(/^[0-9a-f]{64}$/),
  products: z.array(z.object({ product: productSchema, stockLevel: z.number().int().min(-1e9).max(1e9) })).max(200_000),
});
export type CatalogSnapshot = z.infer<typeof catalogSnapshotSchema>;

// --- orders --------------------------------------------------------------------------------------

export const ORDER_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

export const orderLineSchema = z.object({
  sku: z.string().regex(SKU_PATTERN),
  qty: z.number().int().min(1).max(100_000),
  unitPriceMinor: z.number().int().nonnegative().max(1e12),
  taxMinor: minor,
});

/** On …/devices/{id}/orders: a sale, or a void/refund of an earlier one (new events, never edits). */
export const orderSchema = envelope('order', {
  orderId: z.string().regex(ORDER_ID_PATTERN),
  /** Per-device, strictly increasing, no gaps. */
  seq: z.number().int().min(1),
  kind: z.enum(['sale', 'void', 'refund']),
  /** The sale a void or refund corrects. */
  refOrderId: z.string().regex(ORDER_ID_PATTERN).optional(),
  createdAt: z.string().datetime(),
  catalogVersion: version,
  currency,
  lines: z.array(orderLineSchema).min(1).max(500),
  totalMinor: minor,
  taxMinor: minor,
});
export type OrderMessage = z.infer<typeof orderSchema>;

/** On …/devices/{id}/res, after the server's durable commit. */
export const ackSchema = envelope('ack', {
  orderId: z.string().regex(ORDER_ID_PATTERN),
  status: z.enum(['accepted', 'duplicate', 'rejected']),
  /** The stock version that includes this sale (null for rejected). */
  stockVersion: version.nullable(),
  reason: z.string().max(200).optional(),
});
export type AckMessage = z.infer<typeof ackSchema>;

/** On …/devices/{id}/req: catch-up from the device's version. */
export const catchupRequestSchema = envelope('catalog.catchup', { since: version, limit: z.number().int().min(1).max(5_000).optional() });

// --- health and revocations ----------------------------------------------------------------------

/** Retained on …/devices/{id}/status, also the will (online: false). */
export const deviceStatusSchema = envelope('status', {
  online: z.boolean(),
  at: z.string().datetime(),
  agentVersion: z.string().max(64).optional(),
  mode: z.enum(['licensed', 'grace', 'trial', 'unlicensed']).optional(),
  reason: z.string().max(64).nullable().optional(),
  catalogVersion: version.optional(),
  catalogLag: version.optional(),
  outboxDepth: z.number().int().nonnegative().optional(),
  oldestPendingAgeS: z.number().int().nonnegative().nullable().optional(),
  lastError: z.string().max(500).nullable().optional(),
});

/** Retained on …/revocations: the signed list (common/revocation-list.ts). */
export const revocationsMessageSchema = envelope('revocations', { version, list: z.string().min(16).max(4 * 1024 * 1024) });

const messageSchemas = {
  'catalog.head': catalogHeadSchema,
  'catalog.delta': catalogDeltaSchema,
  'catalog.reset': catalogResetSchema,
  'catalog.catchup': catchupRequestSchema,
  order: orderSchema,
  ack: ackSchema,
  status: deviceStatusSchema,
  revocations: revocationsMessageSchema,
} as const;

export type SyncMessageType = keyof typeof messageSchemas;
export type SyncMessage = { [K in SyncMessageType]: z.infer<(typeof messageSchemas)[K]> }[SyncMessageType];

export type DecodeResult =
  | { ok: true; message: SyncMessage }
  | { ok: false; reason: 'too-large' | 'not-json' | 'no-envelope' | 'unknown-type' | 'invalid'; detail: string };

/** Decodes one MQTT payload. Never throws; the caller logs and drops what is not ok. */
export function decodeSyncMessage(payload: Uint8Array | string): DecodeResult {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > MAX_SYNC_PAYLOAD_BYTES) return { ok: false, reason: 'too-large', detail: `${size} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch {
    return { ok: false, reason: 'not-json', detail: 'payload is not JSON' };
  }
  if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') {
    return { ok: false, reason: 'no-envelope', detail: 'no {type, v} envelope' };
  }
  const type = (value as { type: string }).type;
  if (!Object.hasOwn(messageSchemas, type)) return { ok: false, reason: 'unknown-type', detail: type.slice(0, 64) };
  const parsed = messageSchemas[type as SyncMessageType].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: 'invalid', detail: `${type}: ${issue?.path.join('.') || 'root'}: ${issue?.message}` };
  }
  return { ok: true, message: parsed.data as SyncMessage };
}

// --- catalog checksum ----------------------------------------------------------------------------

/**
 * The catalog checksum: XOR over products of SHA-256(canonical product incl. its stock level),
 * hex. Order-independent and updatable per product (XOR the old hash out, the new one in), so
 * the server keeps it per version cheaply and a kiosk can compare after applying deltas.
 */
export function productDigest(p: Product, stockLevel: number): Buffer {
  const canonical = JSON.stringify([p.sku, p.name, p.priceMinor, p.currency, p.taxRateBp, p.active, stockLevel]);
  return createHash('sha256').update(canonical, 'utf8').digest();
}

export function xorInto(acc: Buffer, digest: Buffer): Buffer {
  for (let i = 0; i < acc.length; i++) acc[i]! ^= digest[i]!;
  return acc;
}

export function catalogChecksum(items: Iterable<{ product: Product; stockLevel: number }>): string {
  const acc = Buffer.alloc(32);
  for (const { product, stockLevel } of items) xorInto(acc, productDigest(product, stockLevel));
  return acc.toString('hex');
}
