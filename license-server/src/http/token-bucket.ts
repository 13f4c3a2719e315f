// A token-bucket rate limiter keyed by client address: `burst` requests at once, refilled
// continuously at `perMinute`. Memory is bounded (least recently used keys are dropped first:
// a dropped key comes back with a full bucket, which only ever errs toward letting through).
// Time comes from the injected clock; a clock stepping back never adds tokens.
import type { Clock } from '../../../common/clock.ts';
import type { TokenBucketSettings } from './http-deps.ts';

export type TakeResult = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

export interface TokenBucketLimiter {
  take(key: string): TakeResult;
  /** Keys held now (for tests). */
  readonly size: number;
}

export const DEFAULT_MAX_KEYS = 50_000;

export function createTokenBucketLimiter(settings: TokenBucketSettings & { readonly clock: Clock; readonly maxKeys?: number }): TokenBucketLimiter {
  const { burst, clock } = settings;
  const perMs = settings.perMinute / 60_000;
  const maxKeys = settings.maxKeys ?? DEFAULT_MAX_KEYS;
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  return {
    take(key) {
      const now = clock.nowMs();
      const held = buckets.get(key);
      let bucket: { tokens: number; atMs: number };
      if (held) {
        buckets.delete(key); // re-inserted below: Map order is least recently used first
        bucket = { tokens: Math.min(burst, held.tokens + Math.max(0, now - held.atMs) * perMs), atMs: Math.max(now, held.atMs) };
      } else {
        bucket = { tokens: burst, atMs: now };
        while (buckets.size >= maxKeys) {
          const oldest = buckets.keys().next();
          if (oldest.done) break;
          buckets.delete(oldest.value);
        }
      }
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      return { allowed: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / perMs) };
    },
    get size() {
      return buckets.size;
    },
  };
}

/**
 * The key of a client address: IPv4 as is, IPv6 by its /64 (one host owns a whole /64, so
 * per-address buckets would be free to dodge), IPv4-mapped IPv6 as the IPv4 address.
 */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]?.split('::') ?? [];
  const left = head ? head.split(':') : [];
  const right = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
