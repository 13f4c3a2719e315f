// The agent database schema: a static, ordered list of migrations (STYLE 6: no files read at
// run time, bundle-safe). A migration is never edited once released; a change is a new entry.
// All pending migrations run in one transaction together with `PRAGMA user_version`.
import { KioskError } from '../../../common/errors.ts';
import { storageError, type SqliteDatabase } from './database.ts';

export interface Migration {
  /** user_version after this migration. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'license state: installed license, history, time, trial, revocation list',
    sql: `
      -- The installed license token (at most one row).
      CREATE TABLE license_installed (
        slot          INTEGER PRIMARY KEY CHECK (slot = 1),
        token         TEXT    NOT NULL,
        sub           TEXT    NOT NULL,
        jti           TEXT    NOT NULL,
        iat           INTEGER NOT NULL,   -- seconds
        installed_at  INTEGER NOT NULL    -- ms
      ) STRICT;

      -- Tokens replaced by a later install: audit trail and replay protection.
      CREATE TABLE license_history (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        token         TEXT    NOT NULL,
        sub           TEXT    NOT NULL,
        jti           TEXT    NOT NULL,
        iat           INTEGER NOT NULL,   -- seconds
        installed_at  INTEGER NOT NULL,   -- ms
        replaced_at   INTEGER NOT NULL    -- ms
      ) STRICT;
      CREATE INDEX license_history_sub ON license_history (sub, iat);

      -- The trusted time floor's inputs (one row).
      CREATE TABLE time_state (
        slot           INTEGER PRIMARY KEY CHECK (slot = 1),
        high_water_ms  INTEGER,           -- newest trusted clock reading
        newest_iat     INTEGER            -- seconds, newest iat of a license or revocation list
      ) STRICT;

      -- The offline trial (one row once started).
      CREATE TABLE trial (
        slot        INTEGER PRIMARY KEY CHECK (slot = 1),
        started_at  INTEGER NOT NULL      -- ms
      ) STRICT;

      -- The newest signed revocation list (one row).
      CREATE TABLE revocation_list (
        slot       INTEGER PRIMARY KEY CHECK (slot = 1),
        version    INTEGER NOT NULL,
        iat        INTEGER NOT NULL,      -- seconds
        document   TEXT    NOT NULL,      -- the compact JWS
        stored_at  INTEGER NOT NULL       -- ms
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'server link: where an online-activated device talks to its license server',
    sql: `
      -- Written by \`kiosk-agent activate\` together with the license it installs; updated by
      -- renewals; removed by \`deactivate\`. No row: the license was installed offline and is
      -- never renewed online. At most one row.
      CREATE TABLE server_link (
        slot                 INTEGER PRIMARY KEY CHECK (slot = 1),
        license_id           TEXT    NOT NULL,   -- the sub of the license activated online
        api_url              TEXT    NOT NULL,
        mqtt_url             TEXT    NOT NULL,
        linked_at            INTEGER NOT NULL,   -- ms
        last_refresh_at      INTEGER,            -- ms (device clock), last token received
        server_time_ms       INTEGER,            -- the server's clock in that answer
        server_time_at       INTEGER,            -- ms, the device clock when it arrived
        last_refusal_code    TEXT,               -- the last final refusal of a renewal
        last_refusal_jti     TEXT,
        last_refusal_at      INTEGER             -- ms
      ) STRICT;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

export function schemaVersion(db: SqliteDatabase): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies the pending migrations in one transaction. Returns the versions applied. */
export function migrate(db: SqliteDatabase, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  try {
    return db.transaction(() => {
      const current = schemaVersion(db);
      if (current > latest) {
        throw new KioskError('STORAGE_ERROR', `the database has schema version ${current}, newer than this agent knows (${latest}): a newer agent made it`);
      }
      const applied: number[] = [];
      for (const m of migrations) {
        if (m.version <= current) continue;
        db.exec(m.sql);
        db.pragma(`user_version = ${Math.trunc(m.version)}`);
        applied.push(m.version);
      }
      return applied;
    }).immediate();
  } catch (err) {
    throw storageError('migrating the database failed', err);
  }
}
