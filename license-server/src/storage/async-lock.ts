// A FIFO mutex for async work: one holder at a time, in call order. better-sqlite3 has one
// synchronous connection; async transactions on it must not interleave.
export interface AsyncLock {
  run<T>(fn: () => Promise<T> | T): Promise<T>;
}

export function createAsyncLock(): AsyncLock {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run<T>(fn: () => Promise<T> | T): Promise<T> {
      const result = tail.then(fn);
      tail = result.catch(() => undefined);
      return result;
    },
  };
}
