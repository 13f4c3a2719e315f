// Table group "trial": when the offline trial started.
import { z } from 'zod';
import type { TrialState } from '../domain/trial.ts';
import type { SqliteDatabase } from './database.ts';
import { decodeOptionalRow } from './rows.ts';

const trialRow = z.object({ started_at: z.number().int() });

export interface TrialTables {
  get(): TrialState;
  /** Records the start unless the trial has started already; returns the (possibly earlier) state. */
  startIfNeeded(startedAtMs: number): TrialState;
}

export function trialTables(db: SqliteDatabase): TrialTables {
  const select = db.prepare('SELECT started_at FROM trial WHERE slot = 1');
  const insert = db.prepare('INSERT INTO trial (slot, started_at) VALUES (1, ?) ON CONFLICT (slot) DO NOTHING');
  const get = (): TrialState => ({ startedAtMs: decodeOptionalRow(trialRow, select.get(), 'trial')?.started_at ?? null });
  return {
    get,
    startIfNeeded(startedAtMs) {
      insert.run(Math.trunc(startedAtMs));
      return get();
    },
  };
}
