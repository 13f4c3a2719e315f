import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../common/clock.ts';
import { clientKey, createTokenBucketLimiter } from '../../../license-server/src/http/token-bucket.ts';

describe('token bucket limiter', () => {
  it('lets a burst through, then one request per refill interval, with the wait to the next token', () => {
    const clock = fixedClock(1_000_000);
    const limiter = createTokenBucketLimiter({ burst: 3, perMinute: 60, clock });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([{ allowed: true }, { allowed: true }, { allowed: true }]);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 1000 });
    clock.advance(400);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 600 });
    clock.advance(600);
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a').allowed).toBe(false);
    clock.advance(3_600_000); // refills to the burst, never beyond
    expect([1, 2, 3, 4].map(() => limiter.take('a').allowed)).toEqual([true, true, true, false]);
  });

  it('keeps a bucket per key', () => {
    const limiter = createTokenBucketLimiter({ burst: 1, perMinute: 1, clock: fixedClock(0) });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
  });

  it('never adds tokens when the clock steps back', () => {
    const clock = fixedClock(10_000_000);
    const limiter = createTokenBucketLimiter({ burst: 1, perMinute: 60, clock });
    expect(limiter.take('a').allowed).toBe(true);
    clock.set(0);
    expect(limiter.take('a').allowed).toBe(false);
    clock.set(10_000_500);
    expect(limiter.take('a').allowed).toBe(false);
    clock.set(10_001_000);
    expect(limiter.take('a').allowed).toBe(true);
  });

  it('holds at most maxKeys buckets, dropping the least recently used', () => {
    const limiter = createTokenBucketLimiter({ burst: 1, perMinute: 1, clock: fixedClock(0), maxKeys: 2 });
    limiter.take('a');
    limiter.take('b');
    limiter.take('a'); // a is now the most recent
    limiter.take('c'); // drops b
    expect(limiter.size).toBe(2);
    expect(limiter.take('a').allowed).toBe(false); // kept, still empty
    expect(limiter.take('b').allowed).toBe(true); // dropped: comes back full
  });
});

describe('clientKey', () => {
  it('keys IPv4 by address, IPv6 by its /64, IPv4-mapped IPv6 as IPv4', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002::ffff')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});
