// Sync planning (docs/sync-protocol.md §3, §4, §6): pure decisions the sync engine carries out.
// Numbers: reconnect backoff 1 s · 2^n capped at 60 s with full jitter; an order without its
// application ack within the ack timeout goes back to pending after 5 s · 2^(attempts−1)
// capped at 5 min (full jitter, floor 1 s); a catch-up request is repeated at most every 30 s;
// a failed snapshot is retried after 5 s · 2^n capped at 10 min; the catalog is checked every
// 15 min plus up to 60 s of jitter; status goes out on change at most every 10 s and every 5 min.
import { backoffDelayMs, type BackoffPolicy, type RandomUnit } from './backoff.ts';

export const RECONNECT_BACKOFF: BackoffPolicy = Object.freeze({ baseMs: 1_000, capMs: 60_000, minMs: 250 });
export const ACK_RETRY_BACKOFF: BackoffPolicy = Object.freeze({ baseMs: 5_000, capMs: 5 * 60_000, minMs: 1_000 });
export const SNAPSHOT_BACKOFF: BackoffPolicy = Object.freeze({ baseMs: 5_000, capMs: 10 * 60_000, minMs: 1_000 });
export const CATCHUP_REPEAT_MS = 30_000;
export const CATALOG_CHECK_INTERVAL_MS = 15 * 60_000;
export const CATALOG_CHECK_JITTER_MS = 60_000;
export const STATUS_MIN_INTERVAL_MS = 10_000;
export const STATUS_HEARTBEAT_MS = 5 * 60_000;
export const DEFAULT_SEND_WINDOW = 16;

/** What to do about a delta at local version `local`. */
export type DeltaPlan = 'apply' | 'duplicate' | 'gap';

export function planDelta(local: number, delta: { readonly from: number; readonly to: number }): DeltaPlan {
  if (delta.to <= local) return 'duplicate';
  if (delta.from > local + 1) return 'gap';
  // from = local + 1, or a range overlapping the local version (from ≤ local < to, e.g. a catch-up page
  // after a live delta): operations set absolute values, so applying the whole range again ends at `to`.
  return 'apply';
}

export type CatalogAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'catchup'; readonly since: number }
  | { readonly kind: 'snapshot'; readonly why: 'too-old' | 'checksum-mismatch' | 'behind-local' | 'reset' | 'empty' };

/** After a head (or a delta that may have reached it): catch up, fetch the snapshot, or nothing. */
export function planCatalog(local: { readonly version: number; readonly checksum: string }, head: { readonly version: number; readonly checksum: string; readonly oldestDeltaFrom: number } | null): CatalogAction {
  if (head === null) return { kind: 'none' };
  if (head.version > local.version) {
    if (local.version === 0 && head.oldestDeltaFrom > 1) return { kind: 'snapshot', why: 'empty' };
    if (local.version < head.oldestDeltaFrom - 1) return { kind: 'snapshot', why: 'too-old' };
    return { kind: 'catchup', since: local.version };
  }
  if (head.version < local.version) return { kind: 'snapshot', why: 'behind-local' };
  return head.checksum === local.checksum ? { kind: 'none' } : { kind: 'snapshot', why: 'checksum-mismatch' };
}

/**
 * A catch-up is asked again only when none was asked in the last CATCHUP_REPEAT_MS, or when the
 * last one has been served (the local version reached the head it was asked for): the pages of
 * one request must not each trigger another request.
 */
export function shouldRequestCatchup(last: { readonly atMs: number; readonly targetVersion: number } | null, localVersion: number, nowMs: number): boolean {
  return last === null || nowMs - last.atMs >= CATCHUP_REPEAT_MS || localVersion >= last.targetVersion;
}

/** How many more orders may be published now. */
export function sendBudget(inflight: number, window: number): number {
  return Math.max(0, window - inflight);
}

export function ackRetryAtMs(nowMs: number, attempts: number, random: RandomUnit): number {
  return nowMs + backoffDelayMs(Math.max(1, attempts), random, ACK_RETRY_BACKOFF);
}

export function reconnectDelayMs(failures: number, random: RandomUnit): number {
  return backoffDelayMs(Math.max(1, failures), random, RECONNECT_BACKOFF);
}

export function snapshotRetryDelayMs(failures: number, random: RandomUnit): number {
  return backoffDelayMs(Math.max(1, failures), random, SNAPSHOT_BACKOFF);
}

export function catalogCheckDelayMs(random: RandomUnit): number {
  return CATALOG_CHECK_INTERVAL_MS + Math.floor(Math.min(Math.max(random(), 0), 0.999) * CATALOG_CHECK_JITTER_MS);
}

/** When a changed status may go out: now, or once STATUS_MIN_INTERVAL_MS has passed since the last. */
export function statusDueAtMs(lastSentAtMs: number | null, nowMs: number): number {
  return lastSentAtMs === null ? nowMs : Math.max(nowMs, lastSentAtMs + STATUS_MIN_INTERVAL_MS);
}

/**
 * Whether the sync client may connect to this broker URL: the password is a device proof
 * carrying the license token, so plain mqtt:// or ws:// is used only to a loopback host
 * (DESIGN §4.5: off loopback the broker URL is mqtts://).
 */
export function brokerUrlAllowed(text: string): { readonly ok: true } | { readonly ok: false; readonly message: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, message: 'not a URL' };
  }
  if (url.protocol === 'mqtts:' || url.protocol === 'wss:') return { ok: true };
  if (url.protocol !== 'mqtt:' && url.protocol !== 'ws:') return { ok: false, message: `${url.protocol} is not an MQTT URL scheme` };
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  const loopback = host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host) || host.endsWith('.localhost');
  return loopback ? { ok: true } : { ok: false, message: `${url.protocol}//${url.host} is not TLS and not loopback: the device proof would travel in clear` };
}
