// Table group "server link": where a device activated online talks to its license server
// (apiUrl, mqttUrl from the activation answer), the license it was activated for, the last
// renewal and the server's clock in it, and the last final refusal of a renewal. No row: the
// installed license came in offline and is never renewed online.
import { z } from 'zod';
import { isErrorCode, type ErrorCode } from '../../../common/errors.ts';
import type { SqliteDatabase } from './database.ts';
import { decodeOptionalRow } from './rows.ts';

const ms = z.number().int();
const linkRow = z.object({
  license_id: z.string().min(1),
  api_url: z.string().min(1),
  mqtt_url: z.string().min(1),
  linked_at: ms,
  last_refresh_at: ms.nullable(),
  server_time_ms: ms.nullable(),
  server_time_at: ms.nullable(),
  last_refusal_code: z.string().nullable(),
  last_refusal_jti: z.string().nullable(),
  last_refusal_at: ms.nullable(),
});

export interface ServerLink {
  /** The license (`sub`) activated online; renewal applies only while it is the installed one. */
  readonly licenseId: string;
  readonly apiUrl: string;
  readonly mqttUrl: string;
  readonly linkedAtMs: number;
  /** Device clock when the last token (activation or renewal) arrived. */
  readonly lastRefreshAtMs: number | null;
  /** The server's clock in that answer, and the device clock when it arrived. */
  readonly serverTime: { readonly serverTimeMs: number; readonly receivedAtMs: number } | null;
  readonly lastRefusal: { readonly code: ErrorCode; readonly jti: string; readonly atMs: number } | null;
}

/** What an activation or renewal answer sets. */
export interface ServerLinkUpdate {
  readonly licenseId: string;
  readonly apiUrl: string;
  readonly mqttUrl: string;
  readonly serverTimeMs: number;
  readonly receivedAtMs: number;
}

export interface ServerLinkTables {
  get(): ServerLink | null;
  /** Sets the link from a token answer (keeps linked_at of the same license). Call in a transaction. */
  putFromTokenAnswer(update: ServerLinkUpdate): void;
  /** Records a final refusal of a renewal; no-op without a link. */
  recordRefusal(refusal: { readonly code: ErrorCode; readonly jti: string; readonly atMs: number }): void;
  /** Removes the link (deactivation). */
  clear(): void;
}

export function serverLinkTables(db: SqliteDatabase): ServerLinkTables {
  const select = db.prepare(
    `SELECT license_id, api_url, mqtt_url, linked_at, last_refresh_at, server_time_ms, server_time_at,
            last_refusal_code, last_refusal_jti, last_refusal_at FROM server_link WHERE slot = 1`,
  );
  const upsert = db.prepare(
    `INSERT INTO server_link (slot, license_id, api_url, mqtt_url, linked_at, last_refresh_at, server_time_ms, server_time_at)
     VALUES (1, @licenseId, @apiUrl, @mqttUrl, @at, @at, @serverTimeMs, @at)
     ON CONFLICT (slot) DO UPDATE SET
       linked_at = CASE WHEN server_link.license_id = excluded.license_id THEN server_link.linked_at ELSE excluded.linked_at END,
       license_id = excluded.license_id, api_url = excluded.api_url, mqtt_url = excluded.mqtt_url,
       last_refresh_at = excluded.last_refresh_at, server_time_ms = excluded.server_time_ms, server_time_at = excluded.server_time_at,
       last_refusal_code = NULL, last_refusal_jti = NULL, last_refusal_at = NULL`,
  );
  const refusal = db.prepare('UPDATE server_link SET last_refusal_code = @code, last_refusal_jti = @jti, last_refusal_at = @at WHERE slot = 1');
  const remove = db.prepare('DELETE FROM server_link WHERE slot = 1');
  return {
    get() {
      const row = decodeOptionalRow(linkRow, select.get(), 'server_link');
      if (!row) return null;
      const code = row.last_refusal_code;
      return {
        licenseId: row.license_id,
        apiUrl: row.api_url,
        mqttUrl: row.mqtt_url,
        linkedAtMs: row.linked_at,
        lastRefreshAtMs: row.last_refresh_at,
        serverTime:
          row.server_time_ms === null || row.server_time_at === null ? null : { serverTimeMs: row.server_time_ms, receivedAtMs: row.server_time_at },
        lastRefusal:
          code !== null && isErrorCode(code) && row.last_refusal_jti !== null && row.last_refusal_at !== null
            ? { code, jti: row.last_refusal_jti, atMs: row.last_refusal_at }
            : null,
      };
    },
    putFromTokenAnswer(update) {
      upsert.run({
        licenseId: update.licenseId,
        apiUrl: update.apiUrl,
        mqttUrl: update.mqttUrl,
        at: Math.trunc(update.receivedAtMs),
        serverTimeMs: Math.trunc(update.serverTimeMs),
      });
    },
    recordRefusal(r) {
      refusal.run({ code: r.code, jti: r.jti, at: Math.trunc(r.atMs) });
    },
    clear() {
      remove.run();
    },
  };
}
