import { describe, expect, it } from 'vitest';
import { createAsyncLock } from '../../../license-server/src/storage/async-lock.ts';

describe('async lock', () => {
  it('runs holders one at a time, in call order, and survives failures', async () => {
    const lock = createAsyncLock();
    const log: string[] = [];
    const task = (name: string, fail = false) =>
      lock.run(async () => {
        log.push(`${name}:start`);
        await new Promise((r) => setImmediate(r));
        log.push(`${name}:end`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([task('a'), task('b', true), task('c')]);
    expect(log).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
