// The seat worker: an activation's seat (its database transaction) and its token's signature
// on a thread of its own, with its own connection to the server's SQLite file and its own
// signer of the key directory. The main thread keeps HTTP and the request checks; the thread
// does the reads, writes, the commit (fsync, WAL checkpoints) and the signature. Two cores then share an activation's work instead of one doing all of it:
// `npm run bench` (activations) measures both ways. Both connections use the same file in WAL
// mode: SQLite's write lock orders this thread's transactions and the main thread's.
//
// The thread is started on first use; if it dies, requests in flight fail with STORAGE_ERROR
// and the next one starts a new thread. close() lets requests in flight finish, then closes
// the thread's connection. An idle worker does not keep the process alive.
import { Worker } from 'node:worker_threads';
import { KioskError } from '../../../common/errors.ts';
import type { ActivationResult, SeatActivator } from '../domain/seat.ts';
import type { SeatThreadData, ThreadReply, ThreadRequest } from './protocol.ts';

export interface SeatWorkerOptions {
  /** The SQLite file (already migrated by the main thread's storage). */
  readonly file: string;
  readonly keysDir: string;
  readonly nativeBinding?: string;
}

export interface SeatWorker {
  readonly activateSeat: SeatActivator;
  /** Starts the thread if it is not running; resolves once its connection and signer are ready. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

const CLOSE_TIMEOUT_MS = 10_000;

export function startSeatWorker(options: SeatWorkerOptions): SeatWorker {
  const typescript = import.meta.url.endsWith('.ts');
  const data: SeatThreadData = {
    module: new URL(`./thread.${typescript ? 'ts' : 'js'}`, import.meta.url).href,
    typescript,
    file: options.file,
    keysDir: options.keysDir,
    ...(options.nativeBinding === undefined ? {} : { nativeBinding: options.nativeBinding }),
  };
  const pending = new Map<number, { resolve: (d: ActivationResult) => void; reject: (err: unknown) => void }>();
  let nextId = 1;
  let worker: Worker | undefined;
  let closing: Promise<void> | undefined;
  /** The running thread's readiness (a new thread, a new promise). */
  let readiness: Promise<void> = Promise.resolve();

  const failAll = (why: string): void => {
    const err = new KioskError('STORAGE_ERROR', `the activation thread stopped (${why}); try again`);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  const spawn = (): Worker => {
    // Referenced until it is ready (a start-up waiting for it must not see the process exit),
    // then only while requests are in flight.
    const w = new Worker(new URL('./entry.mjs', import.meta.url), { workerData: data });
    let settleReady: (err?: KioskError) => void = () => undefined;
    readiness = new Promise<void>((resolve, reject) => {
      settleReady = (err) => {
        if (pending.size === 0) w.unref();
        if (err) reject(err);
        else resolve();
      };
    });
    readiness.catch(() => undefined); // also reported to whoever awaits ready()
    w.on('message', (message: ThreadReply) => {
      if (message.op === 'ready') {
        settleReady(message.error ? new KioskError(message.error.code, `the activation thread cannot start: ${message.error.message}`) : undefined);
        return;
      }
      const p = pending.get(message.id);
      if (!p) return;
      pending.delete(message.id);
      if (pending.size === 0) w.unref();
      if (message.error) p.reject(new KioskError(message.error.code, message.error.message, message.error.details ? { details: { ...message.error.details } } : undefined));
      else p.resolve(message.value as ActivationResult);
    });
    w.on('error', (err) => {
      if (worker === w) worker = undefined;
      settleReady(new KioskError('STORAGE_ERROR', `the activation thread stopped: ${err instanceof Error ? err.message : String(err)}`));
      failAll(err instanceof Error ? err.message : String(err));
    });
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      settleReady(new KioskError('STORAGE_ERROR', `the activation thread exited (code ${code}) before it was ready`));
      if (pending.size > 0) failAll(`exit code ${code}`);
    });
    return w;
  };

  const activateSeat: SeatActivator = (prepared, ticket) => {
    if (closing) return Promise.reject(new KioskError('STORAGE_ERROR', 'the storage is closed'));
    worker ??= spawn();
    const w = worker;
    const id = nextId++;
    return new Promise<ActivationResult>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      if (pending.size === 1) w.ref();
      w.postMessage({ op: 'activate', id, prepared, ticket } satisfies ThreadRequest);
    });
  };

  const close = async (): Promise<void> => {
    const w = worker;
    if (!w) return;
    w.ref();
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage({ op: 'close' } satisfies ThreadRequest); // after every request already posted
    const timer = setTimeout(() => void w.terminate(), CLOSE_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  return {
    activateSeat,
    ready() {
      if (closing) return Promise.reject(new KioskError('STORAGE_ERROR', 'the storage is closed'));
      worker ??= spawn();
      return readiness;
    },
    close() {
      closing ??= close();
      return closing;
    },
  };
}
