// Table group "license": the installed token and the history of replaced ones.
import { z } from 'zod';
import type { StoredLicense } from '../domain/license-policy.ts';
import type { SqliteDatabase } from './database.ts';
import { decodeOptionalRow, decodeRow } from './rows.ts';

const ms = z.number().int();
const licenseRow = z.object({
  token: z.string().min(1),
  sub: z.string().min(1),
  jti: z.string().min(1),
  iat: z.number().int().nonnegative(),
  installed_at: ms,
});
const historyRow = licenseRow.extend({ id: z.number().int(), replaced_at: ms });

const toStoredLicense = (row: z.infer<typeof licenseRow>): StoredLicense => ({
  token: row.token,
  sub: row.sub,
  jti: row.jti,
  iat: row.iat,
  installedAtMs: row.installed_at,
});

export interface LicenseHistoryEntry extends StoredLicense {
  readonly id: number;
  readonly replacedAtMs: number;
}

export interface LicenseTables {
  installed(): StoredLicense | null;
  /** Oldest first. */
  history(): LicenseHistoryEntry[];
  /** The highest iat of any token of this license id, installed or in the history. */
  newestIatFor(sub: string): number | null;
  /** True when a token with this jti was installed once and has been replaced or given up. */
  inHistory(jti: string): boolean;
  /** Moves the installed token (if any) to the history and installs `license`. Call inside a transaction. */
  replace(license: StoredLicense, nowMs: number): void;
  /** Moves the installed token (if any) to the history, leaving none installed. Call inside a transaction. */
  remove(nowMs: number): boolean;
}

export function licenseTables(db: SqliteDatabase): LicenseTables {
  const selectInstalled = db.prepare('SELECT token, sub, jti, iat, installed_at FROM license_installed WHERE slot = 1');
  const selectHistory = db.prepare('SELECT id, token, sub, jti, iat, installed_at, replaced_at FROM license_history ORDER BY id');
  const selectNewestIat = db.prepare(
    'SELECT max(iat) AS iat FROM (SELECT iat FROM license_installed WHERE sub = ? UNION ALL SELECT iat FROM license_history WHERE sub = ?)',
  );
  const archive = db.prepare(
    'INSERT INTO license_history (token, sub, jti, iat, installed_at, replaced_at) SELECT token, sub, jti, iat, installed_at, ? FROM license_installed WHERE slot = 1',
  );
  const removeInstalled = db.prepare('DELETE FROM license_installed WHERE slot = 1');
  const selectHistoryJti = db.prepare('SELECT 1 FROM license_history WHERE jti = ? LIMIT 1');
  const upsert = db.prepare(
    `INSERT INTO license_installed (slot, token, sub, jti, iat, installed_at) VALUES (1, @token, @sub, @jti, @iat, @installedAt)
     ON CONFLICT (slot) DO UPDATE SET token = excluded.token, sub = excluded.sub, jti = excluded.jti, iat = excluded.iat, installed_at = excluded.installed_at`,
  );
  return {
    installed() {
      const row = decodeOptionalRow(licenseRow, selectInstalled.get(), 'license_installed');
      return row && toStoredLicense(row);
    },
    history() {
      return selectHistory.all().map((r) => {
        const row = decodeRow(historyRow, r, 'license_history');
        return { ...toStoredLicense(row), id: row.id, replacedAtMs: row.replaced_at };
      });
    },
    newestIatFor(sub) {
      const row = decodeRow(z.object({ iat: z.number().int().nullable() }), selectNewestIat.get(sub, sub), 'license_installed');
      return row.iat;
    },
    inHistory(jti) {
      return selectHistoryJti.get(jti) !== undefined;
    },
    replace(license, nowMs) {
      archive.run(nowMs);
      upsert.run({ token: license.token, sub: license.sub, jti: license.jti, iat: license.iat, installedAt: license.installedAtMs });
    },
    remove(nowMs) {
      archive.run(nowMs);
      return removeInstalled.run().changes > 0;
    },
  };
}
