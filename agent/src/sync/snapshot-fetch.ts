// GET {apiUrl}/v1/catalog/snapshot with `Authorization: DeviceProof <proof>` (docs/sync-protocol.md
// §3): decoded by its schema and verified against its own checksum before anyone may use it.
import { KioskError } from '../../../common/errors.ts';
import { catalogChecksum, catalogSnapshotSchema, type CatalogSnapshot } from '../../../common/sync-messages.ts';

export const SNAPSHOT_TIMEOUT_MS = 30_000;
/** Largest snapshot body read. */
export const MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024;

export type SnapshotFetcher = (apiUrl: string, proof: string) => Promise<unknown>;

export const httpSnapshotFetcher: SnapshotFetcher = async (apiUrl, proof) => {
  const url = new URL('v1/catalog/snapshot', apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`);
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `DeviceProof ${proof}`, accept: 'application/json' }, signal: AbortSignal.timeout(SNAPSHOT_TIMEOUT_MS) });
  } catch (err) {
    throw new KioskError('SERVER_UNREACHABLE', `catalog snapshot: ${err instanceof Error ? err.message : String(err)}`);
  }
  const text = await res.text();
  if (!res.ok) throw new KioskError('SERVER_ERROR', `catalog snapshot: HTTP ${res.status}`);
  if (text.length > MAX_SNAPSHOT_BYTES) throw new KioskError('PAYLOAD_TOO_LARGE', 'catalog snapshot: too large');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new KioskError('SERVER_ERROR', 'catalog snapshot: not JSON');
  }
};

/** Decodes and verifies a snapshot body; throws SERVER_ERROR when it does not hold together. */
export function verifySnapshot(body: unknown): CatalogSnapshot {
  const parsed = catalogSnapshotSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KioskError('SERVER_ERROR', `catalog snapshot: ${issue?.path.join('.') || 'body'}: ${issue?.message}`);
  }
  const snapshot = parsed.data;
  const skus = new Set(snapshot.products.map((p) => p.product.sku));
  if (skus.size !== snapshot.products.length) throw new KioskError('SERVER_ERROR', 'catalog snapshot: a sku appears twice');
  const checksum = catalogChecksum(snapshot.products);
  if (checksum !== snapshot.checksum) throw new KioskError('SERVER_ERROR', 'catalog snapshot: the checksum does not match its products');
  return snapshot;
}
