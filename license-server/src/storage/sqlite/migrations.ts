// The schema as a static list of migrations (bundle-safe: no files read at run time), applied
// in order and recorded in PRAGMA user_version.
import type Database from 'better-sqlite3';
import { KioskError } from '../../../../common/errors.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'licenses, activations, issued tokens, audit log',
    sql: `
      CREATE TABLE licenses (
        id            TEXT PRIMARY KEY,
        key_hash      TEXT NOT NULL UNIQUE,
        key_hint      TEXT NOT NULL,
        tenant        TEXT NOT NULL,
        features      TEXT NOT NULL,
        max_devices   INTEGER NOT NULL CHECK (max_devices >= 1),
        starts_at     INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL,
        grace_seconds INTEGER NOT NULL CHECK (grace_seconds >= 0),
        allow_virtual INTEGER NOT NULL CHECK (allow_virtual IN (0, 1)),
        status        TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
        created_at    INTEGER NOT NULL,
        revoked_at    INTEGER
      ) STRICT;
      CREATE INDEX licenses_tenant ON licenses (tenant, created_at);

      CREATE TABLE activations (
        id                TEXT PRIMARY KEY,
        license_id        TEXT NOT NULL REFERENCES licenses (id),
        device_id         TEXT NOT NULL,
        components        TEXT NOT NULL,
        jkt               TEXT NOT NULL,
        device_public_jwk TEXT NOT NULL,
        platform          TEXT NOT NULL,
        mode              TEXT NOT NULL CHECK (mode IN ('online', 'offline')),
        status            TEXT NOT NULL CHECK (status IN ('active', 'deactivated')),
        created_at        INTEGER NOT NULL,
        updated_at        INTEGER NOT NULL,
        last_token_jti    TEXT,
        last_token_iat    INTEGER
      ) STRICT;
      CREATE INDEX activations_license ON activations (license_id, status);
      -- one seat per device and license
      CREATE UNIQUE INDEX activations_active_device ON activations (license_id, device_id) WHERE status = 'active';

      CREATE TABLE issued_tokens (
        jti           TEXT PRIMARY KEY,
        license_id    TEXT NOT NULL REFERENCES licenses (id),
        activation_id TEXT NOT NULL REFERENCES activations (id),
        iat           INTEGER NOT NULL,
        exp           INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX issued_tokens_license ON issued_tokens (license_id, iat);

      CREATE TABLE audit_log (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        at         INTEGER NOT NULL,
        actor      TEXT NOT NULL,
        action     TEXT NOT NULL,
        license_id TEXT,
        device_id  TEXT,
        details    TEXT NOT NULL
      ) STRICT;
      CREATE INDEX audit_log_license ON audit_log (license_id, seq);
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    `,
  },
  {
    version: 2,
    name: 'online licensing: API tokens, revocation list and its version, used proof ids',
    sql: `
      CREATE TABLE api_tokens (
        id           TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        token_hash   TEXT NOT NULL UNIQUE,
        scopes       TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        revoked_at   INTEGER,
        last_used_at INTEGER
      ) STRICT;

      -- one row: the revocation list's version, which only grows
      CREATE TABLE revocation_state (
        id      INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL CHECK (version >= 0)
      ) STRICT;
      INSERT INTO revocation_state (id, version) VALUES (1, 0);
      CREATE TRIGGER revocation_version_grows BEFORE UPDATE ON revocation_state WHEN NEW.version <= OLD.version
        BEGIN SELECT RAISE(ABORT, 'the revocation list version only grows'); END;
      CREATE TRIGGER revocation_state_no_delete BEFORE DELETE ON revocation_state
        BEGIN SELECT RAISE(ABORT, 'the revocation list version cannot be removed'); END;

      CREATE TABLE revocation_entries (
        kind    TEXT NOT NULL CHECK (kind IN ('license', 'device', 'token')),
        value   TEXT NOT NULL,
        until_s INTEGER NOT NULL,
        PRIMARY KEY (kind, value)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX revocation_entries_until ON revocation_entries (until_s);

      CREATE TABLE used_proof_jtis (
        issuer TEXT NOT NULL,
        jti    TEXT NOT NULL,
        exp_s  INTEGER NOT NULL,
        PRIMARY KEY (issuer, jti)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX used_proof_jtis_exp ON used_proof_jtis (exp_s);

      CREATE INDEX activations_device ON activations (device_id, created_at);
      CREATE INDEX issued_tokens_activation ON issued_tokens (activation_id, iat);
    `,
  },
  {
    version: 3,
    name: 'seat lookup by component and active seat counts, kept by triggers',
    sql: `
      -- (license, component name, hash) → active activation: activate() looks only at the seats
      -- that share a component with the request instead of reading every seat of the license.
      -- Kept by triggers, so every write of activations keeps it in its own transaction.
      CREATE TABLE activation_components (
        license_id     TEXT NOT NULL,
        component_name TEXT NOT NULL,
        component_hash TEXT NOT NULL,
        activation_id  TEXT NOT NULL REFERENCES activations (id),
        PRIMARY KEY (license_id, component_name, component_hash, activation_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX activation_components_activation ON activation_components (activation_id);

      CREATE TRIGGER activation_components_insert AFTER INSERT ON activations WHEN NEW.status = 'active'
        BEGIN
          INSERT INTO activation_components (license_id, component_name, component_hash, activation_id)
            SELECT NEW.license_id, j.key, j.value, NEW.id FROM json_each(NEW.components) j;
        END;
      CREATE TRIGGER activation_components_update AFTER UPDATE OF license_id, components, status ON activations
        BEGIN
          DELETE FROM activation_components WHERE activation_id = OLD.id;
          INSERT INTO activation_components (license_id, component_name, component_hash, activation_id)
            SELECT NEW.license_id, j.key, j.value, NEW.id FROM json_each(NEW.components) j WHERE NEW.status = 'active';
        END;
      CREATE TRIGGER activation_components_delete AFTER DELETE ON activations
        BEGIN DELETE FROM activation_components WHERE activation_id = OLD.id; END;

      INSERT INTO activation_components (license_id, component_name, component_hash, activation_id)
        SELECT a.license_id, j.key, j.value, a.id FROM activations a, json_each(a.components) j WHERE a.status = 'active';

      -- the number of active seats per license, so a seat check does not count thousands of rows
      CREATE TABLE license_seats (
        license_id TEXT PRIMARY KEY REFERENCES licenses (id),
        active     INTEGER NOT NULL CHECK (active >= 0)
      ) STRICT, WITHOUT ROWID;
      CREATE TRIGGER license_seats_insert AFTER INSERT ON activations WHEN NEW.status = 'active'
        BEGIN
          INSERT INTO license_seats (license_id, active) VALUES (NEW.license_id, 1)
            ON CONFLICT (license_id) DO UPDATE SET active = active + 1;
        END;
      CREATE TRIGGER license_seats_update AFTER UPDATE OF license_id, status ON activations
        BEGIN
          UPDATE license_seats SET active = active - 1 WHERE OLD.status = 'active' AND license_id = OLD.license_id;
          INSERT INTO license_seats (license_id, active) SELECT NEW.license_id, 1 WHERE NEW.status = 'active'
            ON CONFLICT (license_id) DO UPDATE SET active = active + 1;
        END;
      CREATE TRIGGER license_seats_delete AFTER DELETE ON activations WHEN OLD.status = 'active'
        BEGIN UPDATE license_seats SET active = active - 1 WHERE license_id = OLD.license_id; END;
      INSERT INTO license_seats (license_id, active)
        SELECT license_id, count(*) FROM activations WHERE status = 'active' GROUP BY license_id;
    `,
  },
  {
    version: 4,
    name: 'offline-first sync: catalog versions and change log, stock ledger, orders, fleet state',
    sql: `
      CREATE TABLE catalog_state (
        tenant            TEXT PRIMARY KEY,
        version           INTEGER NOT NULL CHECK (version >= 0),
        checksum          TEXT NOT NULL,
        oldest_delta_from INTEGER NOT NULL
      ) STRICT;
      CREATE TRIGGER catalog_version_grows BEFORE UPDATE ON catalog_state WHEN NEW.version <> OLD.version + 1
        BEGIN SELECT RAISE(ABORT, 'a catalog version follows the head by exactly one'); END;

      CREATE TABLE catalog_products (
        tenant  TEXT NOT NULL,
        sku     TEXT NOT NULL,
        product TEXT NOT NULL,
        PRIMARY KEY (tenant, sku)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE stock_levels (
        tenant TEXT NOT NULL,
        sku    TEXT NOT NULL,
        level  INTEGER NOT NULL,
        PRIMARY KEY (tenant, sku)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE catalog_changes (
        tenant   TEXT NOT NULL,
        version  INTEGER NOT NULL,
        ops      TEXT NOT NULL,
        checksum TEXT NOT NULL,
        at       INTEGER NOT NULL,
        PRIMARY KEY (tenant, version)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE sync_orders (
        tenant        TEXT NOT NULL,
        order_id      TEXT NOT NULL,
        device_id     TEXT NOT NULL,
        seq           INTEGER NOT NULL,
        message       TEXT NOT NULL,
        received_at   INTEGER NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
        reason        TEXT,
        stock_version INTEGER,
        oversold      INTEGER NOT NULL CHECK (oversold IN (0, 1)),
        PRIMARY KEY (tenant, order_id)
      ) STRICT;
      CREATE INDEX sync_orders_device ON sync_orders (tenant, device_id, seq);
      CREATE INDEX sync_orders_received ON sync_orders (tenant, received_at);

      CREATE TABLE device_sync (
        tenant              TEXT NOT NULL,
        device_id           TEXT NOT NULL,
        status              TEXT,
        status_at           INTEGER,
        last_seen_at        INTEGER,
        clone_alarms        INTEGER NOT NULL DEFAULT 0,
        last_clone_alarm_at INTEGER,
        PRIMARY KEY (tenant, device_id)
      ) STRICT, WITHOUT ROWID;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** Applies the missing migrations, each in its own BEGIN IMMEDIATE (safe if two processes race). */
export function migrate(db: Database.Database): void {
  const version = (): number => db.pragma('user_version', { simple: true }) as number;
  if (version() === SCHEMA_VERSION) return; // up to date: no write lock at open
  for (const migration of MIGRATIONS) {
    db.exec('BEGIN IMMEDIATE');
    try {
      const current = version(); // again under the lock: another process may have migrated
      if (current > SCHEMA_VERSION) {
        throw new KioskError('STORAGE_ERROR', `the database has schema version ${current}, newer than this build knows (${SCHEMA_VERSION}): use a newer license-server`);
      }
      if (current < migration.version) {
        db.exec(migration.sql);
        db.pragma(`user_version = ${migration.version}`);
      }
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
  }
}
