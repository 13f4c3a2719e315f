import { describe, expect, it } from 'vitest';
import { createRevocationListCache } from '../../../license-server/src/domain/revocation-list-cache.ts';

describe('revocation list cache', () => {
  it('answers only for the exact version and signing key; never goes back to an older version', () => {
    const cache = createRevocationListCache();
    expect(cache.get(0, 'k1')).toBeUndefined();
    cache.set({ list: 'v2', version: 2 }, 'k1');
    expect(cache.get(2, 'k1')).toEqual({ list: 'v2', version: 2 });
    expect(cache.get(2, 'k2')).toBeUndefined();
    expect(cache.get(3, 'k1')).toBeUndefined();
    cache.set({ list: 'v1', version: 1 }, 'k1');
    expect(cache.get(1, 'k1')).toBeUndefined();
    expect(cache.get(2, 'k1')).toEqual({ list: 'v2', version: 2 });
    cache.set({ list: 'v2b', version: 2 }, 'k2'); // re-signed by a rotated key
    expect(cache.get(2, 'k2')).toEqual({ list: 'v2b', version: 2 });
  });
});
