// Table group "revocations": the newest signed revocation list. An older version never
// replaces a newer one (DESIGN §4.5).
import { z } from 'zod';
import type { StoredRevocationList } from '../domain/license-policy.ts';
import type { SqliteDatabase } from './database.ts';
import { decodeOptionalRow } from './rows.ts';

const revocationRow = z.object({
  version: z.number().int().nonnegative(),
  iat: z.number().int().nonnegative(),
  document: z.string().min(1),
  stored_at: z.number().int(),
});

export interface RevocationTables {
  get(): StoredRevocationList | null;
  /** Stores the list when its version is newer than the stored one; returns whether it did. */
  putIfNewer(list: StoredRevocationList): boolean;
}

export function revocationTables(db: SqliteDatabase): RevocationTables {
  const select = db.prepare('SELECT version, iat, document, stored_at FROM revocation_list WHERE slot = 1');
  const upsert = db.prepare(
    `INSERT INTO revocation_list (slot, version, iat, document, stored_at) VALUES (1, @version, @iat, @document, @storedAt)
     ON CONFLICT (slot) DO UPDATE SET version = excluded.version, iat = excluded.iat, document = excluded.document, stored_at = excluded.stored_at
     WHERE excluded.version > revocation_list.version`,
  );
  return {
    get() {
      const row = decodeOptionalRow(revocationRow, select.get(), 'revocation_list');
      return row && { version: row.version, iat: row.iat, document: row.document, storedAtMs: row.stored_at };
    },
    putIfNewer(list) {
      return upsert.run({ version: list.version, iat: list.iat, document: list.document, storedAt: list.storedAtMs }).changes > 0;
    },
  };
}
