// The online-licensing operations (migration 2) as synchronous statements on the connection:
// tokens by id, a device's seats, the revocation list and its version, used proof ids, API
// tokens. sqlite-ops.ts merges them into the storage's operations.
import type Database from 'better-sqlite3';
import { KioskError } from '../../../../common/errors.ts';
import type { ProofJtiUse, RevocationChange, RevocationSnapshot, StorageOps } from '../../domain/server-storage.ts';
import { decodeActivation, decodeIssuedToken } from './rows.ts';
import { decodeApiToken, decodeRevocationEntry, encodeApiToken } from './online-rows.ts';

type OnlineOpName =
  | 'getIssuedToken'
  | 'listActivationTokens'
  | 'listDeviceActivations'
  | 'getRevocationVersion'
  | 'readRevocations'
  | 'getRevocationEntry'
  | 'changeRevocations'
  | 'useProofJti'
  | 'insertApiToken'
  | 'getApiToken'
  | 'findApiTokenByHash'
  | 'listApiTokens'
  | 'revokeApiToken'
  | 'touchApiToken';

type SyncOf<K extends keyof StorageOps> = {
  [P in K]: StorageOps[P] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never;
};

/** The operations here that write; outside a transaction each gets one of its own. */
export const ONLINE_WRITE_OPS: readonly OnlineOpName[] = [
  'changeRevocations',
  'useProofJti',
  'insertApiToken',
  'revokeApiToken',
  'touchApiToken',
];

export function createOnlineOps(db: Database.Database): SyncOf<OnlineOpName> {
  const s = {
    getIssuedToken: db.prepare('SELECT * FROM issued_tokens WHERE jti = ?'),
    listActivationTokens: db.prepare('SELECT * FROM issued_tokens WHERE activation_id = ? ORDER BY iat, jti'),
    listDeviceActivations: db.prepare('SELECT * FROM activations WHERE device_id = ? ORDER BY created_at, id'),
    version: db.prepare('SELECT version FROM revocation_state WHERE id = 1'),
    bumpVersion: db.prepare('UPDATE revocation_state SET version = version + 1 WHERE id = 1 RETURNING version'),
    listEntries: db.prepare('SELECT * FROM revocation_entries WHERE until_s > ? ORDER BY kind, value'),
    getEntry: db.prepare('SELECT * FROM revocation_entries WHERE kind = ? AND value = ?'),
    upsertEntry: db.prepare(`INSERT INTO revocation_entries (kind, value, until_s) VALUES (@kind, @value, @until_s)
      ON CONFLICT (kind, value) DO UPDATE SET until_s = max(until_s, excluded.until_s)`),
    removeEntry: db.prepare('DELETE FROM revocation_entries WHERE kind = ? AND value = ?'),
    pruneEntries: db.prepare('DELETE FROM revocation_entries WHERE until_s <= ?'),
    forgetJtis: db.prepare('DELETE FROM used_proof_jtis WHERE exp_s < ?'),
    useJti: db.prepare('INSERT INTO used_proof_jtis (issuer, jti, exp_s) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    insertApiToken: db.prepare(`INSERT INTO api_tokens (id, name, token_hash, scopes, created_at, revoked_at, last_used_at)
      VALUES (@id, @name, @token_hash, @scopes, @created_at, @revoked_at, @last_used_at)`),
    getApiToken: db.prepare('SELECT * FROM api_tokens WHERE id = ?'),
    findApiTokenByHash: db.prepare('SELECT * FROM api_tokens WHERE token_hash = ?'),
    listApiTokens: db.prepare('SELECT * FROM api_tokens ORDER BY created_at, id'),
    revokeApiToken: db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    touchApiToken: db.prepare(`UPDATE api_tokens SET last_used_at = @at WHERE id = @id
      AND (last_used_at IS NULL OR last_used_at <= @stale_before)`),
  };

  const version = (): number => {
    const row = s.version.get() as { version?: unknown } | undefined;
    if (typeof row?.version !== 'number') throw new KioskError('STORAGE_ERROR', 'the revocation list version is missing from the database');
    return row.version;
  };

  // better-sqlite3 transactions: BEGIN … COMMIT alone, a SAVEPOINT inside an open transaction.
  const readRevocations = db.transaction((nowS: number): RevocationSnapshot => {
    const lists = { license: [] as string[], device: [] as string[], token: [] as string[] };
    for (const row of s.listEntries.all(nowS)) {
      const e = decodeRevocationEntry(row);
      lists[e.kind].push(e.value);
    }
    return { version: version(), licenses: lists.license, devices: lists.device, tokens: lists.token };
  });

  const changeRevocations = db.transaction((change: RevocationChange, nowS: number): number => {
    for (const e of change.remove ?? []) s.removeEntry.run(e.kind, e.value);
    for (const e of change.add ?? []) s.upsertEntry.run({ kind: e.kind, value: e.value, until_s: e.untilS });
    s.pruneEntries.run(nowS);
    const row = s.bumpVersion.get() as { version?: unknown } | undefined;
    if (typeof row?.version !== 'number') throw new KioskError('STORAGE_ERROR', 'the revocation list version is missing from the database');
    return row.version;
  });

  const useProofJti = db.transaction((use: ProofJtiUse, forgetBeforeS: number): boolean => {
    s.forgetJtis.run(forgetBeforeS);
    return s.useJti.run(use.issuer, use.jti, use.expS).changes === 1;
  });

  return {
    getIssuedToken(jti) {
      const row = s.getIssuedToken.get(jti);
      return row === undefined ? undefined : decodeIssuedToken(row);
    },
    listActivationTokens: (activationId) => s.listActivationTokens.all(activationId).map(decodeIssuedToken),
    listDeviceActivations: (deviceId) => s.listDeviceActivations.all(deviceId).map(decodeActivation),
    getRevocationVersion: version,
    readRevocations: (nowS) => readRevocations(nowS),
    getRevocationEntry(kind, value) {
      const row = s.getEntry.get(kind, value);
      return row === undefined ? undefined : decodeRevocationEntry(row);
    },
    changeRevocations: (change, nowS) => changeRevocations(change, nowS),
    useProofJti: (use, forgetBeforeS) => useProofJti(use, forgetBeforeS),
    insertApiToken(token) {
      s.insertApiToken.run(encodeApiToken(token));
    },
    getApiToken(id) {
      const row = s.getApiToken.get(id);
      return row === undefined ? undefined : decodeApiToken(row);
    },
    findApiTokenByHash(tokenHash) {
      const row = s.findApiTokenByHash.get(tokenHash);
      return row === undefined ? undefined : decodeApiToken(row);
    },
    listApiTokens: () => s.listApiTokens.all().map(decodeApiToken),
    revokeApiToken: (id, atMs) => s.revokeApiToken.run(atMs, id).changes === 1,
    touchApiToken: (id, atMs, staleBeforeMs) => s.touchApiToken.run({ id, at: atMs, stale_before: staleBeforeMs }).changes === 1,
  };
}
