// The agent store on real SQLite files in temp dirs.
import { createRequire } from 'node:module';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { KioskError } from '../../../common/errors.ts';
import { agentDatabasePath, openAgentStore, type AgentStore } from '../../../agent/src/store/agent-store.ts';
import { migrate, SCHEMA_VERSION } from '../../../agent/src/store/migrations.ts';
import { makeTempDir } from '../../helpers/tmp.ts';

const require = createRequire(import.meta.url);
const T = Date.UTC(2026, 5, 1);

function open(dataDir: string, nativeBinding?: unknown): AgentStore {
  const store = openAgentStore({ dataDir, nativeBinding });
  return store;
}

const license = (sub: string, jti: string, iat: number, at = T) => ({ token: `${sub}.${jti}.sig`, sub, jti, iat, installedAtMs: at });

describe('agent store', () => {
  it('creates the data dir 0700 and agent.db 0600, migrated, with WAL, synchronous=FULL, foreign keys, busy timeout', () => {
    const dataDir = join(makeTempDir(), 'nested', 'agent');
    const store = open(dataDir);
    try {
      expect(store.file).toBe(agentDatabasePath(dataDir));
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(statSync(store.file).mode & 0o777).toBe(0o600);
      expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
      expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(store.integrityCheck()).toEqual(['ok']);
    } finally {
      store.close();
    }
  });

  it('an unusable data dir → DATA_DIR_UNUSABLE naming the dir', () => {
    const file = join(makeTempDir(), 'a-file');
    writeFileSync(file, 'x');
    const dataDir = join(file, 'agent');
    const err = (() => {
      try {
        open(dataDir);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(KioskError);
    expect((err as KioskError).code).toBe('DATA_DIR_UNUSABLE');
    expect((err as KioskError).message).toContain(dataDir);
    expect((err as KioskError).exitCode).toBe(1);
  });

  it('keeps the license state across a reopen; migrations are not applied twice; integrity ok', () => {
    const dataDir = makeTempDir();
    const a = open(dataDir);
    a.licenseState.commitLicenseInstall({ license: license('L', 'j1', 100), replacesJti: null, newestIatS: 100, highWaterMs: T });
    a.licenseState.startTrialIfNeeded(T - 1000);
    a.close();

    const b = open(dataDir);
    try {
      expect(migrate(b.db)).toEqual([]);
      const s = b.licenseState.readLicenseState();
      expect(s.installed).toEqual(license('L', 'j1', 100));
      expect(s.time).toEqual({ highWaterMs: T, newestIatS: 100 });
      expect(s.trial).toEqual({ startedAtMs: T - 1000 });
      expect(s.revocationList).toBeNull();
      expect(b.integrityCheck()).toEqual(['ok']);
    } finally {
      b.close();
    }
  });

  it('an install moves the old token to the history in the same transaction and raises the newest iat', () => {
    const store = open(makeTempDir());
    try {
      const ls = store.licenseState;
      ls.commitLicenseInstall({ license: license('L', 'j1', 100, T), replacesJti: null, newestIatS: 100, highWaterMs: null });
      ls.commitLicenseInstall({ license: license('L', 'j2', 200, T + 5), replacesJti: 'j1', newestIatS: 200, highWaterMs: T + 5 });
      ls.commitLicenseInstall({ license: license('M', 'k1', 150, T + 9), replacesJti: 'j2', newestIatS: 200, highWaterMs: null });
      const s = ls.readLicenseState();
      expect(s.installed?.jti).toBe('k1');
      expect(s.time).toEqual({ highWaterMs: T + 5, newestIatS: 200 });
      expect(store.tables.license.history().map((h) => [h.jti, h.replacedAtMs])).toEqual([
        ['j1', T + 5],
        ['j2', T + 9],
      ]);
      expect(ls.newestIatForLicense('L')).toBe(200);
      expect(ls.newestIatForLicense('M')).toBe(150);
      expect(ls.newestIatForLicense('N')).toBeNull();
    } finally {
      store.close();
    }
  });

  it('a failing install leaves nothing half-written (one transaction)', () => {
    const store = open(makeTempDir());
    try {
      const ls = store.licenseState;
      ls.commitLicenseInstall({ license: license('L', 'j1', 100), replacesJti: null, newestIatS: 100, highWaterMs: null });
      store.db.exec("CREATE TRIGGER fail_time BEFORE UPDATE ON time_state BEGIN SELECT RAISE(ABORT, 'boom'); END");
      expect(() => ls.commitLicenseInstall({ license: license('L', 'j2', 200), replacesJti: 'j1', newestIatS: 200, highWaterMs: null })).toThrow(
        expect.objectContaining({ code: 'STORAGE_ERROR' }),
      );
      expect(ls.readLicenseState().installed?.jti).toBe('j1');
      expect(store.tables.license.history()).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('re-checks the plan inside the transaction: a stale plan or a replay is refused, nothing written', () => {
    const store = open(makeTempDir());
    try {
      const ls = store.licenseState;
      ls.commitLicenseInstall({ license: license('L', 'j1', 100), replacesJti: null, newestIatS: 100, highWaterMs: null });
      // another process installed j1 after this plan saw "nothing installed"
      expect(() => ls.commitLicenseInstall({ license: license('L', 'j0', 150), replacesJti: null, newestIatS: 150, highWaterMs: null })).toThrow(
        expect.objectContaining({ code: 'STORAGE_ERROR', message: expect.stringMatching(/another process/) }),
      );
      ls.commitLicenseInstall({ license: license('L', 'j2', 200), replacesJti: 'j1', newestIatS: 200, highWaterMs: null });
      expect(() => ls.commitLicenseInstall({ license: license('L', 'j1b', 150), replacesJti: 'j2', newestIatS: 200, highWaterMs: null })).toThrow(
        expect.objectContaining({ code: 'TOKEN_REPLAYED' }),
      );
      expect(ls.readLicenseState().installed?.jti).toBe('j2');
      expect(store.tables.license.history().map((h) => h.jti)).toEqual(['j1']);
    } finally {
      store.close();
    }
  });

  it('time values only rise', () => {
    const store = open(makeTempDir());
    try {
      store.tables.time.raise({ highWaterMs: 500, newestIatS: 50 });
      store.tables.time.raise({ highWaterMs: 400, newestIatS: 60 });
      store.licenseState.advanceHighWater(300);
      expect(store.tables.time.get()).toEqual({ highWaterMs: 500, newestIatS: 60 });
    } finally {
      store.close();
    }
  });

  it('the trial starts once', () => {
    const store = open(makeTempDir());
    try {
      expect(store.licenseState.startTrialIfNeeded(T)).toEqual({ startedAtMs: T });
      expect(store.licenseState.startTrialIfNeeded(T + 99)).toEqual({ startedAtMs: T });
    } finally {
      store.close();
    }
  });

  it('an older revocation list never replaces a newer one; storing one raises the newest iat', () => {
    const store = open(makeTempDir());
    try {
      const ls = store.licenseState;
      expect(ls.storeRevocationList({ version: 5, iat: 500, document: 'v5', storedAtMs: T })).toBe(true);
      expect(ls.storeRevocationList({ version: 4, iat: 900, document: 'v4', storedAtMs: T })).toBe(false);
      expect(ls.storeRevocationList({ version: 5, iat: 900, document: 'v5b', storedAtMs: T })).toBe(false);
      expect(ls.readLicenseState().revocationList).toEqual({ version: 5, iat: 500, document: 'v5', storedAtMs: T });
      expect(ls.readLicenseState().time.newestIatS).toBe(500);
      expect(ls.storeRevocationList({ version: 6, iat: 600, document: 'v6', storedAtMs: T + 1 })).toBe(true);
      expect(ls.readLicenseState().revocationList?.document).toBe('v6');
    } finally {
      store.close();
    }
  });

  it('a row that does not decode → STORAGE_ERROR, not a crash later', () => {
    const store = open(makeTempDir());
    try {
      store.db.prepare("INSERT INTO license_installed (slot, token, sub, jti, iat, installed_at) VALUES (1, '', 's', 'j', 1, 1)").run();
      expect(() => store.licenseState.readLicenseState()).toThrow(expect.objectContaining({ code: 'STORAGE_ERROR' }));
    } finally {
      store.close();
    }
  });

  it('a database made by a newer agent (higher user_version) is refused', () => {
    const dataDir = makeTempDir();
    open(dataDir).close();
    const raw = new Database(agentDatabasePath(dataDir));
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => open(dataDir)).toThrow(expect.objectContaining({ code: 'STORAGE_ERROR', message: expect.stringMatching(/newer/) }));
  });

  it('uses an injected native binding: the addon object, or its path', () => {
    const addonPath = require.resolve('better-sqlite3/build/Release/better_sqlite3.node');
    for (const binding of [require(addonPath) as unknown, addonPath]) {
      const store = open(makeTempDir(), binding);
      try {
        expect(store.integrityCheck()).toEqual(['ok']);
      } finally {
        store.close();
      }
    }
    expect(() => open(makeTempDir(), join(makeTempDir(), 'missing.node'))).toThrow(expect.objectContaining({ code: 'STORAGE_ERROR' }));
  });
});
