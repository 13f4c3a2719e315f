// ServerStorage on SQLite (better-sqlite3): WAL, synchronous=FULL, foreign keys, a busy timeout.
// better-sqlite3 is synchronous and has one connection, so async transactions of this process
// are serialised by an in-process lock, and each one starts with BEGIN IMMEDIATE, which takes
// SQLite's write lock up front: another process (the CLI beside a running server) waits for it
// instead of interleaving. The native addon is touched only here.
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
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

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
  return createStorage(db, sync);
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
  } catch (err) {
    db.close();
    throw toStorageError(err);
  }
  return db;
}

function createStorage(db: Database.Database, sync: SyncOps): ServerStorage {
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

  const transaction = <T>(fn: (tx: StorageTransaction) => Promise<T>): Promise<T> =>
    exclusive(async () => {
      run(() => db.exec('BEGIN IMMEDIATE'));
      let live = true;
      const tx = wrapOps(sync, () => {
        if (!live) throw new KioskError('STORAGE_ERROR', 'this transaction has ended; its operations cannot be used any more');
      });
      try {
        const result = await insideTransaction.run(true, () => fn(tx));
        run(() => db.exec('COMMIT'));
        return result;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      } finally {
        live = false;
      }
    });

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
