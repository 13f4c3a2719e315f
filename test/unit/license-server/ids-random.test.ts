// Server ids (time-ordered activation ids and jtis, random license ids) and the random pool.
import { describe, expect, it } from 'vitest';
import { ACTIVATION_ID_PATTERN, LICENSE_ID_PATTERN, newActivationId, newLicenseId, newTokenId } from '../../../license-server/src/domain/ids.ts';
import { createRandomPool } from '../../../license-server/src/signing/random-pool.ts';

describe('ids', () => {
  it('activation ids and jtis start with their time: later ones sort after earlier ones', () => {
    const random = createRandomPool();
    const t0 = Date.UTC(2027, 4, 1);
    const acts = Array.from({ length: 200 }, (_, i) => newActivationId(random, t0 + i * 7));
    expect(acts.every((id) => ACTIVATION_ID_PATTERN.test(id))).toBe(true);
    expect([...acts].sort()).toEqual(acts);
    expect(acts[0]?.slice(4, 16)).toBe(t0.toString(16).padStart(12, '0'));
    const jtis = Array.from({ length: 200 }, (_, i) => newTokenId(random, t0 + i));
    expect(jtis.every((j) => /^[A-Za-z0-9_-]{22}$/.test(j))).toBe(true);
    expect(Buffer.from(jtis[5] ?? '', 'base64url').readUIntBE(0, 6)).toBe(t0 + 5);
    // the same millisecond: still distinct (random tail)
    expect(new Set(Array.from({ length: 1000 }, () => newActivationId(random, t0))).size).toBe(1000);
    expect(new Set(Array.from({ length: 1000 }, () => newTokenId(random, t0))).size).toBe(1000);
    expect(LICENSE_ID_PATTERN.test(newLicenseId(random))).toBe(true);
  });
});

describe('createRandomPool', () => {
  it('hands out fresh bytes of the size asked, never the same bytes twice', () => {
    const random = createRandomPool(256);
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const size = 1 + (i % 40);
      const bytes = random(size);
      expect(bytes).toBeInstanceOf(Uint8Array);
      expect(bytes.length).toBe(size);
      if (size >= 8) {
        const hex = Buffer.from(bytes).toString('hex');
        expect(seen.has(hex)).toBe(false);
        seen.add(hex);
      }
    }
    expect(random(0).length).toBe(0);
    expect(random(1000).length).toBe(1000); // larger than a quarter of the pool: straight from the CSPRNG
    // bytes are copies: changing them changes nothing of what comes next
    const a = random(16);
    a.fill(0);
    expect(Buffer.from(random(16)).equals(Buffer.alloc(16))).toBe(false);
    expect(() => random(-1)).toThrow(RangeError);
    expect(() => random(1.5)).toThrow(RangeError);
  });

  it('looks uniform: every byte value turns up about as often as the others', () => {
    const random = createRandomPool();
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 4000; i++) for (const b of random(16)) counts[b] = (counts[b] ?? 0) + 1;
    // 64,000 bytes: 250 per value expected; a chi-square far beyond 255 degrees of freedom means a biased pool
    const chi = counts.reduce((sum, c) => sum + (c - 250) ** 2 / 250, 0);
    expect(chi).toBeLessThan(400);
  });
});
