// Table group "time": the inputs of the trusted time floor. Values only ever rise.
import { z } from 'zod';
import type { TimeState } from '../domain/license-policy.ts';
import type { SqliteDatabase } from './database.ts';
import { decodeOptionalRow } from './rows.ts';

const timeRow = z.object({
  high_water_ms: z.number().int().nullable(),
  newest_iat: z.number().int().nonnegative().nullable(),
});

export interface TimeTables {
  get(): TimeState;
  /** Raises the high-water mark and/or the newest iat; a lower value never replaces a higher one. */
  raise(values: { readonly highWaterMs?: number | null; readonly newestIatS?: number | null }): void;
}

export function timeTables(db: SqliteDatabase): TimeTables {
  const select = db.prepare('SELECT high_water_ms, newest_iat FROM time_state WHERE slot = 1');
  const raise = db.prepare(
    `INSERT INTO time_state (slot, high_water_ms, newest_iat) VALUES (1, @hw, @iat)
     ON CONFLICT (slot) DO UPDATE SET
       high_water_ms = CASE WHEN excluded.high_water_ms IS NULL THEN high_water_ms
                            WHEN high_water_ms IS NULL OR excluded.high_water_ms > high_water_ms THEN excluded.high_water_ms
                            ELSE high_water_ms END,
       newest_iat    = CASE WHEN excluded.newest_iat IS NULL THEN newest_iat
                            WHEN newest_iat IS NULL OR excluded.newest_iat > newest_iat THEN excluded.newest_iat
                            ELSE newest_iat END`,
  );
  return {
    get() {
      const row = decodeOptionalRow(timeRow, select.get(), 'time_state');
      return { highWaterMs: row?.high_water_ms ?? null, newestIatS: row?.newest_iat ?? null };
    },
    raise(values) {
      const hw = values.highWaterMs ?? null;
      const iat = values.newestIatS ?? null;
      if (hw === null && iat === null) return;
      raise.run({ hw, iat });
    },
  };
}
