// Runs tasks one at a time per key (a device), keys in parallel: ingest keeps each device's
// messages in order without holding up the others. Failures are the task's own business (the
// caller logs); the queue goes on.
export interface KeyedQueue {
  push(key: string, task: () => Promise<void>): void;
  /** Resolves when every task pushed so far has finished. */
  idle(): Promise<void>;
}

export function createKeyedQueue(onError: (err: unknown) => void): KeyedQueue {
  const tails = new Map<string, Promise<void>>();
  return {
    push(key, task) {
      const prev = tails.get(key) ?? Promise.resolve();
      const next = prev.then(task).catch(onError);
      tails.set(key, next);
      void next.then(() => {
        if (tails.get(key) === next) tails.delete(key);
      });
    },
    async idle() {
      while (tails.size > 0) await Promise.all([...tails.values()]);
    },
  };
}
