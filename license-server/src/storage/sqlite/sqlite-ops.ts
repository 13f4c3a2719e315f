// The storage operations as synchronous statements on one better-sqlite3 connection.
// sqlite-storage.ts wraps them into the async, locked, transactional ServerStorage.
import type Database from 'better-sqlite3';
import { KioskError } from '../../../../common/errors.ts';
import type { IssuedTokenRecord, StorageOps } from '../../domain/server-storage.ts';
import { decodeActivation, decodeAudit, decodeIssuedToken, decodeLicense, encodeActivation, encodeLicense } from './rows.ts';
import { createOnlineOps, ONLINE_WRITE_OPS } from './online-ops.ts';
import { createSyncOps, SYNC_WRITE_OPS } from './sync-ops.ts';

/** StorageOps with plain (synchronous) results. */
export type SyncOps = {
  [K in keyof StorageOps]: StorageOps[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never;
};

/** The operations that write; run outside a transaction they get one of their own. */
export const WRITE_OPS: ReadonlySet<keyof StorageOps> = new Set<keyof StorageOps>([
  'insertLicense',
  'revokeLicense',
  'insertActivation',
  'refreshActivation',
  'deactivateActivation',
  'recordIssuedToken',
  'appendAudit',
  ...ONLINE_WRITE_OPS,
  ...SYNC_WRITE_OPS,
]);

export function createSqliteOps(db: Database.Database): SyncOps {
  const s = {
    insertLicense: db.prepare(`INSERT INTO licenses (id, key_hash, key_hint, tenant, features, max_devices, starts_at, expires_at,
      grace_seconds, allow_virtual, status, created_at, revoked_at) VALUES (@id, @key_hash, @key_hint, @tenant, @features,
      @max_devices, @starts_at, @expires_at, @grace_seconds, @allow_virtual, @status, @created_at, @revoked_at)`),
    getLicense: db.prepare('SELECT * FROM licenses WHERE id = ?'),
    findLicenseByKeyHash: db.prepare('SELECT * FROM licenses WHERE key_hash = ?'),
    listLicenses: db.prepare(`SELECT l.*, (SELECT count(*) FROM activations a WHERE a.license_id = l.id AND a.status = 'active') AS active_devices
      FROM licenses l WHERE (@tenant IS NULL OR l.tenant = @tenant) ORDER BY l.created_at, l.id`),
    revokeLicense: db.prepare(`UPDATE licenses SET status = 'revoked', revoked_at = ? WHERE id = ? AND status = 'active'`),
    insertActivation: db.prepare(`INSERT INTO activations (id, license_id, device_id, components, jkt, device_public_jwk, platform, mode,
      status, created_at, updated_at, last_token_jti, last_token_iat) VALUES (@id, @license_id, @device_id, @components, @jkt,
      @device_public_jwk, @platform, @mode, @status, @created_at, @updated_at, @last_token_jti, @last_token_iat)`),
    getActivation: db.prepare('SELECT * FROM activations WHERE id = ?'),
    listActivations: db.prepare(`SELECT * FROM activations WHERE license_id = @license_id AND (@status IS NULL OR status = @status)
      ORDER BY created_at, id`),
    // kept by triggers (migration 3): no count over every seat of a big license
    countActiveActivations: db.prepare(`SELECT coalesce((SELECT active FROM license_seats WHERE license_id = ?), 0) AS n`),
    // The seat index (migration 3): the device's own seat, and the seats sharing a component hash.
    listSeatCandidates: db.prepare(`SELECT * FROM activations WHERE id IN (
        SELECT id FROM activations WHERE license_id = @license_id AND device_id = @device_id AND status = 'active'
        UNION
        SELECT c.activation_id FROM json_each(@components) j CROSS JOIN activation_components c
          ON c.license_id = @license_id AND c.component_name = j.key AND c.component_hash = j.value
      ) AND status = 'active' ORDER BY created_at, id`),
    refreshActivation: db.prepare(`UPDATE activations SET components = @components, jkt = @jkt, device_public_jwk = @device_public_jwk,
      platform = @platform, mode = @mode, updated_at = @updated_at WHERE id = @id`),
    deactivateActivation: db.prepare(`UPDATE activations SET status = 'deactivated', updated_at = ? WHERE id = ? AND status = 'active'`),
    insertIssuedToken: db.prepare('INSERT INTO issued_tokens (jti, license_id, activation_id, iat, exp) VALUES (@jti, @license_id, @activation_id, @iat, @exp)'),
    setLastToken: db.prepare('UPDATE activations SET last_token_jti = ?, last_token_iat = ? WHERE id = ? AND license_id = ?'),
    listIssuedTokens: db.prepare('SELECT * FROM issued_tokens WHERE license_id = ? ORDER BY iat, jti'),
    appendAudit: db.prepare(`INSERT INTO audit_log (at, actor, action, license_id, device_id, details)
      VALUES (@at, @actor, @action, @license_id, @device_id, @details) RETURNING *`),
    listAudit: db.prepare(`SELECT * FROM audit_log WHERE (@license_id IS NULL OR license_id = @license_id) AND seq > @after_seq
      ORDER BY seq LIMIT @limit`),
  };

  // Two statements, one unit: better-sqlite3 makes this a SAVEPOINT inside an open transaction.
  const recordIssuedToken = db.transaction((t: IssuedTokenRecord): void => {
    s.insertIssuedToken.run({ jti: t.jti, license_id: t.licenseId, activation_id: t.activationId, iat: t.iat, exp: t.exp });
    if (s.setLastToken.run(t.jti, t.iat, t.activationId, t.licenseId).changes !== 1) {
      throw new KioskError('STORAGE_ERROR', `activation ${t.activationId} does not belong to license ${t.licenseId}`);
    }
  });

  return {
    ...createOnlineOps(db),
    ...createSyncOps(db),
    insertLicense(license) {
      s.insertLicense.run(encodeLicense(license));
    },
    getLicense(id) {
      const row = s.getLicense.get(id);
      return row === undefined ? undefined : decodeLicense(row);
    },
    findLicenseByKeyHash(keyHash) {
      const row = s.findLicenseByKeyHash.get(keyHash);
      return row === undefined ? undefined : decodeLicense(row);
    },
    listLicenses(filter) {
      return s.listLicenses.all({ tenant: filter?.tenant ?? null }).map((row) => {
        const { active_devices: activeDevices, ...license } = row as Record<string, unknown>;
        return { license: decodeLicense(license), activeDevices: Number(activeDevices) };
      });
    },
    revokeLicense(id, atMs) {
      return s.revokeLicense.run(atMs, id).changes === 1;
    },
    insertActivation(activation) {
      s.insertActivation.run(encodeActivation(activation));
    },
    getActivation(id) {
      const row = s.getActivation.get(id);
      return row === undefined ? undefined : decodeActivation(row);
    },
    listActivations(licenseId, filter) {
      return s.listActivations.all({ license_id: licenseId, status: filter?.status ?? null }).map(decodeActivation);
    },
    countActiveActivations(licenseId) {
      return Number((s.countActiveActivations.get(licenseId) as { n: number }).n);
    },
    listSeatCandidates(licenseId, deviceId, components) {
      return s.listSeatCandidates.all({ license_id: licenseId, device_id: deviceId, components: JSON.stringify(components) }).map(decodeActivation);
    },
    refreshActivation(id, r) {
      const changes = s.refreshActivation.run({
        id,
        components: JSON.stringify(r.components),
        jkt: r.jkt,
        device_public_jwk: JSON.stringify(r.devicePublicJwk),
        platform: JSON.stringify(r.platform),
        mode: r.mode,
        updated_at: r.updatedAtMs,
      }).changes;
      if (changes !== 1) throw new KioskError('NOT_FOUND', `no activation ${id}`);
    },
    deactivateActivation(id, atMs) {
      return s.deactivateActivation.run(atMs, id).changes === 1;
    },
    recordIssuedToken(token) {
      recordIssuedToken(token);
    },
    listIssuedTokens(licenseId) {
      return s.listIssuedTokens.all(licenseId).map(decodeIssuedToken);
    },
    appendAudit(e) {
      return decodeAudit(
        s.appendAudit.get({
          at: e.atMs,
          actor: e.actor,
          action: e.action,
          license_id: e.licenseId,
          device_id: e.deviceId,
          details: JSON.stringify(e.details),
        }),
      );
    },
    listAudit(filter) {
      return s.listAudit
        .all({ license_id: filter?.licenseId ?? null, after_seq: filter?.afterSeq ?? 0, limit: filter?.limit ?? -1 })
        .map(decodeAudit);
    },
  };
}
