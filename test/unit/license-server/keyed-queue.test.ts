import { describe, expect, it } from 'vitest';
import { createKeyedQueue } from '../../../license-server/src/domain/keyed-queue.ts';

describe('keyed queue', () => {
  it('runs one key\'s tasks in order, one at a time; other keys in parallel; a failure does not stop it', async () => {
    const errors: unknown[] = [];
    const q = createKeyedQueue((e) => errors.push(e));
    const log: string[] = [];
    let releaseA: () => void = () => undefined;
    const gate = new Promise<void>((r) => (releaseA = r));
    q.push('a', async () => {
      await gate;
      log.push('a1');
    });
    q.push('a', async () => {
      log.push('a2');
      throw new Error('boom');
    });
    q.push('a', async () => void log.push('a3'));
    q.push('b', async () => void log.push('b1'));
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['b1']); // b is not held up by a
    releaseA();
    await q.idle();
    expect(log).toEqual(['b1', 'a1', 'a2', 'a3']);
    expect(errors).toHaveLength(1);
  });
});
