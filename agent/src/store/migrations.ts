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
  {
    version: 3,
    name: 'sync: catalog, stock, sync state, orders, order lines, outbox',
    sql: `
      -- The catalog at the local version (server-wins; the device never edits it).
      CREATE TABLE catalog_products (
        sku          TEXT    PRIMARY KEY,
        name         TEXT    NOT NULL,
        price_minor  INTEGER NOT NULL,   -- gross, tax included
        currency     TEXT    NOT NULL,
        tax_rate_bp  INTEGER NOT NULL,
        active       INTEGER NOT NULL CHECK (active IN (0, 1))
      ) STRICT;

      -- The server's stock level per sku at the local version (may be < 0: oversell).
      CREATE TABLE catalog_stock (
        sku    TEXT    PRIMARY KEY,
        level  INTEGER NOT NULL
      ) STRICT;

      -- One row: the local catalog version and checksum, the newest head seen, the order seq.
      CREATE TABLE sync_state (
        slot              INTEGER PRIMARY KEY CHECK (slot = 1),
        catalog_version   INTEGER NOT NULL,
        catalog_checksum  TEXT    NOT NULL,
        head_version      INTEGER,
        head_checksum     TEXT,
        head_oldest_from  INTEGER,
        head_seen_at      INTEGER,           -- ms
        last_sync_at      INTEGER,           -- ms, last delta applied or snapshot swapped
        last_error        TEXT,
        next_seq          INTEGER NOT NULL   -- the next order's per-device seq
      ) STRICT;
      INSERT INTO sync_state (slot, catalog_version, catalog_checksum, next_seq)
        VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 1);

      -- Orders as taken: immutable. Voids and refunds are new rows referencing the original.
      CREATE TABLE orders (
        order_id         TEXT    PRIMARY KEY,
        seq              INTEGER NOT NULL UNIQUE,
        kind             TEXT    NOT NULL CHECK (kind IN ('sale', 'void', 'refund')),
        ref_order_id     TEXT,
        created_at       INTEGER NOT NULL,   -- ms
        catalog_version  INTEGER NOT NULL,
        currency         TEXT    NOT NULL,
        total_minor      INTEGER NOT NULL,
        tax_minor        INTEGER NOT NULL,
        request_hash     TEXT    NOT NULL    -- sha-256 of the client's request (idempotency)
      ) STRICT;
      CREATE INDEX orders_created ON orders (kind, created_at);
      CREATE INDEX orders_ref ON orders (ref_order_id);

      CREATE TABLE order_lines (
        order_id          TEXT    NOT NULL REFERENCES orders (order_id) ON DELETE CASCADE,
        line_no           INTEGER NOT NULL,
        sku               TEXT    NOT NULL,
        qty               INTEGER NOT NULL CHECK (qty > 0),
        unit_price_minor  INTEGER NOT NULL,
        tax_minor         INTEGER NOT NULL,
        PRIMARY KEY (order_id, line_no)
      ) STRICT;
      CREATE INDEX order_lines_sku ON order_lines (sku);

      -- The transactional outbox: written with the order, done only on the application ack.
      CREATE TABLE outbox (
        order_id         TEXT    PRIMARY KEY REFERENCES orders (order_id) ON DELETE CASCADE,
        seq              INTEGER NOT NULL UNIQUE,
        state            TEXT    NOT NULL CHECK (state IN ('pending', 'inflight', 'acked', 'rejected')),
        payload          TEXT    NOT NULL,   -- the order message as sent (JSON)
        attempts         INTEGER NOT NULL DEFAULT 0,
        next_attempt_at  INTEGER NOT NULL,   -- ms
        created_at       INTEGER NOT NULL,   -- ms
        sent_at          INTEGER,            -- ms, last publish
        acked_at         INTEGER,            -- ms
        stock_version    INTEGER,            -- from the ack: the version that includes the sale
        error            TEXT
      ) STRICT;
      CREATE INDEX outbox_state_seq ON outbox (state, seq);
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
