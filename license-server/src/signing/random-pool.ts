// Random bytes for ids and keys from a pool filled by the CSPRNG a few KiB at a time: one
// OpenSSL call per many ids instead of one each (about 7 µs a call here). Bytes handed out are
// wiped from the pool, so what it still holds is only what no one has been given yet.
import { randomFillSync } from 'node:crypto';
import type { RandomBytes } from '../../../common/license-key.ts';

export function createRandomPool(poolSize = 4096): RandomBytes {
  const pool = Buffer.alloc(poolSize);
  let offset = poolSize; // empty: filled on first use
  return (size: number): Uint8Array => {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`random size must be a non-negative integer, got ${size}`);
    if (size > poolSize / 4) return randomFillSync(new Uint8Array(size));
    if (offset + size > poolSize) {
      randomFillSync(pool);
      offset = 0;
    }
    const out = new Uint8Array(pool.subarray(offset, offset + size)); // a copy
    pool.fill(0, offset, offset + size);
    offset += size;
    return out;
  };
}
