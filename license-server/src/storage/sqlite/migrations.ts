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
