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

/**
 * better-sqlite3 12's Database and Statement objects are node::ObjectWrap: when the garbage
 * collector finalizes one, its destructor calls RemoveEnvironmentCleanupHook, which on Node 24
 * (the runtime the single executable ships) can find no Environment and abort the process
 * (`Assertion failed: (env) != nullptr`, SIGABRT) — at exit or in the middle of serving. Seen in
 * our e2e runs; reported upstream for 12.x on Node 24 (fixed in 13.x, which does not run on
 * the Node 20 used for development). So no database or statement of ours is ever collected:
 * each is kept reachable here for the life of the process. The agent opens one database and
 * prepares its statements once, so this holds a fixed set (plus one statement per PRAGMA call,
 * which the agent makes at start-up and for integrity checks).
 */
const KEEP_ALIVE: unknown[] = [];

function keepNativeObjectsAlive(db: SqliteDatabase): SqliteDatabase {
  KEEP_ALIVE.push(db);
  const prepare = db.prepare.bind(db) as SqliteDatabase['prepare'];
  const keptPrepare = ((source: string) => {
    const statement = prepare(source);
    KEEP_ALIVE.push(statement);
    return statement;
  }) as SqliteDatabase['prepare'];
  db.prepare = keptPrepare;
  // pragma() prepares through the native handle, past db.prepare: route it through the kept one.
  // (transaction() caches its BEGIN/COMMIT statements per database, which stays alive here.)
  db.pragma = ((source: string, options?: { simple?: boolean }) => {
    const statement = keptPrepare(`PRAGMA ${source}`);
    if (!statement.reader) {
      statement.run();
      return options?.simple ? undefined : [];
    }
    return options?.simple ? statement.pluck().get() : statement.all();
  }) as SqliteDatabase['pragma'];
  return db;
}

/** Opens (creating when absent, 0600) a database with the project's pragmas. */
export function openDatabase(options: OpenDatabaseOptions): SqliteDatabase {
  const { file, nativeBinding } = options;
  try {
    // Create the file ourselves so it is 0600 (SQLite gives its -wal/-shm the same mode).
    if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
    // @types says string; better-sqlite3 12 also takes the loaded addon object.
    const db = keepNativeObjectsAlive(new Database(file, nativeBinding === undefined || nativeBinding === null ? {} : { nativeBinding: nativeBinding as string }));
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
