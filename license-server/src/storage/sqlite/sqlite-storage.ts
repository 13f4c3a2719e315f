// ServerStorage on SQLite (better-sqlite3): WAL, synchronous=FULL, foreign keys, a busy timeout.
// better-sqlite3 is synchronous and has one connection, so async transactions of this process
// are serialised by an in-process lock, and each batch of them starts with BEGIN IMMEDIATE, which
// takes SQLite's write lock up front: another process (the CLI beside a running server) waits for
// it instead of interleaving. The native addon is touched only here.
//
// Group commit: transactions that queue while a batch runs (or arrive in the same turn of the
// event loop) run one after another, each in its own SAVEPOINT, inside one BEGIN IMMEDIATE …
// COMMIT — one fsync for the batch instead of one each. A callback that rejects rolls back only
// its savepoint. No caller's promise settles before the batch's COMMIT has returned, so
// durability is what it was (synchronous=FULL); if the COMMIT fails, every member that had
// succeeded rejects with that error. Batches are bounded in size and time.
import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { KioskError } from '../../../../common/errors.ts';
import type { ServerStorage, StorageOps, StorageTransaction } from '../../domain/server-storage.ts';
import { createAsyncLock } from '../async-lock.ts';
import { migrate } from './migrations.ts';
import { createSqliteOps, WRITE_OPS, type SyncOps } from './sqlite-ops.ts';

export interface SqliteStorageOptions {
  readonly file: string;
  /** better-sqlite3's native addon, handed in by a single executable; undefined in dev. */
  readonly nativeBinding?: unknown;
  /** How long to wait for another process's write lock. */
  readonly busyTimeoutMs?: number;
  /** Group commit bounds: a batch takes in at most this many transactions … */
  readonly batchMaxTransactions?: number;
  /** … and admits no more after this long (ms since its BEGIN); it then commits. */
  readonly batchMaxMs?: number;
  /** Test hook: awaited just before a batch's COMMIT with its size; throwing fails that COMMIT. */
  readonly beforeCommit?: (transactions: number) => void | Promise<void>;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
export const DEFAULT_BATCH_MAX_TRANSACTIONS = 64;
export const DEFAULT_BATCH_MAX_MS = 10;

export async function openSqliteStorage(options: SqliteStorageOptions): Promise<ServerStorage> {
  const db = openDatabase(options);
  let sync: SyncOps;
  try {
    migrate(db);
    sync = createSqliteOps(db);
  } catch (err) {
    db.close();
    throw toStorageError(err);
  }
  return createStorage(db, sync, options);
}

function openDatabase(options: SqliteStorageOptions): Database.Database {
  try {
    mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new KioskError('DATA_DIR_UNUSABLE', `cannot create ${dirname(options.file)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  const isNew = !existsSync(options.file);
  let db: Database.Database;
  try {
    db = new Database(options.file, options.nativeBinding === undefined ? {} : { nativeBinding: options.nativeBinding as string });
  } catch (err) {
    throw new KioskError('STORAGE_ERROR', `cannot open the database ${options.file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    if (isNew) chmodSync(options.file, 0o600); // SQLite gives its -wal and -shm files the same mode
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Group commit runs each transaction in a SAVEPOINT, whose undo journal would otherwise be a
    // temporary file: every page a member touches first written there (two syscalls a page).
    db.pragma('temp_store = MEMORY');
    // Checkpoint every 8,000 WAL pages (32 MiB), not SQLite's 1,000: a checkpoint copies each
    // page once however often it changed since the last, and an activation's index entries land
    // on random pages; measured +10-20% activations/s on one license of 20,000 seats. The file
    // is cut back to 64 MiB after a checkpoint if a long reader let it grow beyond.
    db.pragma('wal_autocheckpoint = 8000');
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  } catch (err) {
    db.close();
    throw toStorageError(err);
  }
  return db;
}

interface BatchMember {
  readonly fn: (tx: StorageTransaction) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

type Outcome = { readonly member: BatchMember; readonly ok: true; readonly value: unknown } | { readonly member: BatchMember; readonly ok: false; readonly err: unknown };

function createStorage(db: Database.Database, sync: SyncOps, options: SqliteStorageOptions): ServerStorage {
  const maxTransactions = Math.max(1, Math.floor(options.batchMaxTransactions ?? DEFAULT_BATCH_MAX_TRANSACTIONS));
  const maxMs = Math.max(0, options.batchMaxMs ?? DEFAULT_BATCH_MAX_MS);
  const beforeCommit = options.beforeCommit;
  const lock = createAsyncLock();
  /** Set inside a transaction's callback: the storage itself must not be used there (it would wait for itself). */
  const insideTransaction = new AsyncLocalStorage<true>();
  let closed = false;

  /** Runs fn alone on the connection: after queued work, never inside a transaction's callback. */
  const exclusive = <T>(fn: () => Promise<T> | T): Promise<T> => {
    if (insideTransaction.getStore()) {
      return Promise.reject(new KioskError('STORAGE_ERROR', 'inside a transaction use its own operations (tx), not the storage: it would wait for itself'));
    }
    return lock.run(() => {
      if (closed) throw new KioskError('STORAGE_ERROR', 'the storage is closed');
      return fn();
    });
  };

  /** Transactions waiting for a batch, in call order. */
  const pending: BatchMember[] = [];
  let batchQueued = false;
  const queueBatch = (): void => {
    if (batchQueued || pending.length === 0) return;
    batchQueued = true;
    // After the I/O callbacks of this turn of the event loop: what arrives with it joins the
    // batch, and reads that arrive with it run before it (they need not wait for its commit).
    setImmediate(() => void lock.run(runBatch));
  };
  /** After a failure that already ends every member of the batch: never throws (the connection may be gone). */
  const rollbackQuietly = (): void => {
    try {
      if (db.inTransaction) db.exec('ROLLBACK');
    } catch {
      // nothing left to undo, or the connection is broken: the members reject either way
    }
  };

  /** One group commit: BEGIN IMMEDIATE, each member in a SAVEPOINT, COMMIT, then settle them all. */
  const runBatch = async (): Promise<void> => {
    batchQueued = false;
    if (pending.length === 0) return;
    if (closed) {
      const err = new KioskError('STORAGE_ERROR', 'the storage is closed');
      for (const m of pending.splice(0)) m.reject(err);
      return;
    }
    try {
      run(() => db.exec('BEGIN IMMEDIATE'));
    } catch (err) {
      for (const m of pending.splice(0)) m.reject(err);
      return;
    }
    const startedMs = performance.now();
    const outcomes: Outcome[] = [];
    /** Set when SQLite rolled back the whole transaction under a member (I/O error, disk full …). */
    let lost: unknown;
    while (pending.length > 0 && outcomes.length < maxTransactions && (outcomes.length === 0 || performance.now() - startedMs < maxMs)) {
      const member = pending.shift() as BatchMember;
      let live = true;
      const tx = wrapOps(sync, () => {
        if (!live) throw new KioskError('STORAGE_ERROR', 'this transaction has ended; its operations cannot be used any more');
      });
      try {
        db.exec('SAVEPOINT kiosk_tx');
      } catch (err) {
        outcomes.push({ member, ok: false, err: toStorageError(err) });
        lost = err;
        break;
      }
      try {
        const value = await insideTransaction.run(true, () => member.fn(tx));
        live = false;
        run(() => db.exec('RELEASE kiosk_tx'));
        outcomes.push({ member, ok: true, value });
      } catch (err) {
        live = false;
        outcomes.push({ member, ok: false, err });
        if (!db.inTransaction) {
          lost = err;
          break;
        }
        try {
          db.exec('ROLLBACK TO kiosk_tx');
          db.exec('RELEASE kiosk_tx');
        } catch (rollbackErr) {
          lost = rollbackErr;
          break;
        }
      }
    }

    let commitError: KioskError | undefined;
    if (lost !== undefined) {
      commitError = new KioskError('STORAGE_ERROR', `the database rolled back the batch this transaction committed in: ${toStorageError(lost).message}`, { cause: lost });
      rollbackQuietly();
    } else {
      try {
        if (beforeCommit) await beforeCommit(outcomes.length);
        run(() => db.exec('COMMIT'));
      } catch (err) {
        commitError = toStorageError(err);
        rollbackQuietly();
      }
    }
    // Only now, after COMMIT returned (or failed), does any caller hear back.
    for (const o of outcomes) {
      if (!o.ok) o.member.reject(o.err);
      else if (commitError) o.member.reject(commitError);
      else o.member.resolve(o.value);
    }
    queueBatch(); // what arrived beyond this batch's bounds
  };

  const transaction = <T>(fn: (tx: StorageTransaction) => Promise<T>): Promise<T> => {
    if (insideTransaction.getStore()) {
      return Promise.reject(new KioskError('STORAGE_ERROR', 'inside a transaction use its own operations (tx), not the storage: it would wait for itself'));
    }
    return new Promise<T>((resolve, reject) => {
      pending.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      queueBatch();
    });
  };

  // Outside a transaction: reads run alone (never seeing a running transaction's writes);
  // writes get a transaction of their own.
  const inner = wrapOps(sync, () => undefined) as unknown as Record<keyof StorageOps, (...args: unknown[]) => Promise<unknown>>;
  const direct = {} as Record<keyof StorageOps, (...args: unknown[]) => Promise<unknown>>;
  for (const name of Object.keys(sync) as (keyof StorageOps)[]) {
    direct[name] = WRITE_OPS.has(name)
      ? (...args) => transaction((tx) => (tx[name] as (...a: unknown[]) => Promise<unknown>)(...args))
      : (...args) => exclusive(() => inner[name](...args));
  }

  return {
    ...(direct as unknown as StorageOps),
    transaction,
    async close() {
      // transactions already asked for run (and commit) before the close, not after it
      while (pending.length > 0 && !closed && !insideTransaction.getStore()) await lock.run(runBatch);
      await exclusive(() => {
        closed = true;
        db.close();
      }).catch((err: unknown) => {
        if (!closed) throw err; // "closed" only means another close() came first
      });
    },
  };
}

/** The synchronous operations as async ones that check `guard` first and report KioskErrors. */
function wrapOps(sync: SyncOps, guard: () => void): StorageOps {
  const ops = {} as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const [name, fn] of Object.entries(sync) as [string, (...args: unknown[]) => unknown][]) {
    ops[name] = async (...args) => {
      guard();
      return run(() => fn(...args));
    };
  }
  return ops as unknown as StorageOps;
}

function run<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toStorageError(err);
  }
}

/** SQLite failures as STORAGE_ERROR; uniqueness breaks name the rule in details.conflict. */
export function toStorageError(err: unknown): KioskError {
  if (err instanceof KioskError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const conflict = message.replace(/^UNIQUE constraint failed:\s*/, '');
    return new KioskError('STORAGE_ERROR', `already stored: ${conflict}`, { cause: err, details: { conflict } });
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return new KioskError('STORAGE_ERROR', 'refers to a row that does not exist', { cause: err });
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new KioskError('STORAGE_ERROR', 'the database is busy: another process held its write lock too long; try again', { cause: err });
  }
  return new KioskError('STORAGE_ERROR', `database error: ${message}`, { cause: err });
}
