// The one module that touches better-sqlite3's native addon (STYLE 6). The binding is
// injected: the single executable hands in the addon it loaded itself (bundled code cannot
// find it); in dev it is undefined and better-sqlite3 finds its own build.
import { accessSync, constants, existsSync, mkdirSync, closeSync, openSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { KioskError } from '../../../common/errors.ts';

export type SqliteDatabase = Database.Database;

export interface OpenDatabaseOptions {
  readonly file: string;
  /** better-sqlite3's native addon: a path, or the loaded exports object. */
  readonly nativeBinding?: unknown;
  readonly busyTimeoutMs?: number;
}

/** Makes the data dir (0700) when absent and checks that it can be written. */
export function ensureDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (!statSync(dataDir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(dataDir, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new KioskError('DATA_DIR_UNUSABLE', `the data directory ${dataDir} cannot be used (${code})`, {
      cause: err,
      details: { dataDir },
    });
  }
}

/** Opens (creating when absent, 0600) a database with the project's pragmas. */
export function openDatabase(options: OpenDatabaseOptions): SqliteDatabase {
  const { file, nativeBinding } = options;
  try {
    // Create the file ourselves so it is 0600 (SQLite gives its -wal/-shm the same mode).
    if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
    // @types says string; better-sqlite3 12 also takes the loaded addon object.
    const db = new Database(file, nativeBinding === undefined || nativeBinding === null ? {} : { nativeBinding: nativeBinding as string });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    } catch (err) {
      db.close();
      throw err;
    }
    return db;
  } catch (err) {
    throw storageError(`cannot open the database ${file}`, err);
  }
}

/** Wraps a SQLite (or fs) failure as STORAGE_ERROR, keeping a KioskError as it is. */
export function storageError(what: string, err: unknown): KioskError {
  if (err instanceof KioskError) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return new KioskError('STORAGE_ERROR', `${what}: ${typeof code === 'string' ? `${code}: ` : ''}${message}`, { cause: err });
}
