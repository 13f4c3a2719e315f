// Who may do what on the embedded broker (DESIGN §4.5, docs/sync-protocol.md §2). A device
// connects with client id = username = its device id and a fresh device proof as password; the
// proof's license token gives the SESSION identity (tenant, device id), and every topic rule
// below compares against that identity, never against what a topic claims.
//
// Full session: the seat is usable (active, same key, license neither revoked nor outside its
// term, token within exp + grace, nothing of it on the revocation list).
// Orders-only session: the proof verifies and the seat of record is known, but the license was
// revoked or expired, the device was deactivated, the token is past exp + grace, or it is listed
// — the device may still upload the orders it took (publish on …/orders) and hear their acks
// (subscribe to …/res); no catalog, no requests, no status.
import { toSeconds } from '../../../common/clock.ts';
import { KioskError } from '../../../common/errors.ts';
import { parseTopic, TOPIC_ROOT } from '../../../common/sync-messages.ts';
import type { IssuanceDeps } from './deps.ts';
import { requireUsableSeat, useProof, verifyDeviceProof } from './device-proof.ts';
import type { ActivationRecord, LicenseRecord, StorageOps } from './server-storage.ts';
import type { DeviceIdentity } from './sync-transport.ts';

export interface DeviceSession extends DeviceIdentity {
  readonly licenseId: string;
  readonly activationId: string;
  readonly tokenJti: string;
  /** Why the session is orders-only (a reason code); null for a full session. */
  readonly limitedBecause: string | null;
  /** A full session ends at this instant (token exp + grace); the broker drops it then. */
  readonly fullUntilMs: number;
}

/** Authenticates a connect; UNAUTHORIZED (details.reason) for a bad client id, proof or replay. */
export async function authenticateDeviceSession(deps: IssuanceDeps, connect: { readonly clientId: string; readonly username: string | undefined; readonly password: string }): Promise<DeviceSession> {
  if (connect.username !== connect.clientId) {
    throw new KioskError('UNAUTHORIZED', 'the MQTT username must equal the client id (the device id)', { details: { reason: 'CLAIM_INVALID' } });
  }
  const verified = await verifyDeviceProof(deps, connect.password);
  if (verified.claims.iss !== connect.clientId) {
    throw new KioskError('UNAUTHORIZED', `client id ${connect.clientId} is not the proof's device ${verified.claims.iss}`, { details: { reason: 'CLAIM_INVALID' } });
  }
  const nowMs = deps.clock.nowMs();
  return deps.storage.transaction(async (tx) => {
    const activation = await tx.getActivation(verified.activation.id);
    const license = await tx.getLicense(verified.activation.licenseId);
    if (!activation || !license) throw new KioskError('UNAUTHORIZED', 'the seat of record vanished', { details: { reason: 'CLAIM_INVALID' } });
    await useProof(tx, verified.claims, toSeconds(nowMs));
    const fullUntilMs = (verified.lic.exp + verified.lic.grace) * 1000;
    const limitedBecause = await sessionLimit(tx, { activation, license, lic: verified.lic }, nowMs, fullUntilMs);
    return {
      tenant: license.tenant,
      deviceId: activation.deviceId,
      ordersOnly: limitedBecause !== null,
      licenseId: license.id,
      activationId: activation.id,
      tokenJti: verified.lic.jti,
      limitedBecause,
      fullUntilMs,
    };
  });
}

/** Null when a full session is (still) allowed, else the reason code. */
export async function sessionLimit(
  ops: StorageOps,
  seat: { readonly activation: ActivationRecord; readonly license: LicenseRecord; readonly lic: { readonly jti: string; readonly cnf: { readonly jkt: string } } },
  nowMs: number,
  fullUntilMs: number,
): Promise<string | null> {
  try {
    requireUsableSeat(seat as Parameters<typeof requireUsableSeat>[0], nowMs);
  } catch (err) {
    if (err instanceof KioskError) return err.code;
    throw err;
  }
  if (nowMs >= fullUntilMs) return 'EXPIRED';
  const nowS = toSeconds(nowMs);
  for (const [kind, value] of [['license', seat.license.id], ['device', seat.activation.deviceId], ['token', seat.lic.jti]] as const) {
    const entry = await ops.getRevocationEntry(kind, value);
    if (entry && entry.untilS > nowS) return 'REVOKED';
  }
  return null;
}

/** Re-checks a live full session (after a revocation list change); the reason it must end, or null. */
export async function recheckSession(ops: StorageOps, session: DeviceSession, nowMs: number): Promise<string | null> {
  if (session.ordersOnly) return null;
  const activation = await ops.getActivation(session.activationId);
  const license = await ops.getLicense(session.licenseId);
  if (!activation || !license) return 'REVOKED';
  return sessionLimit(ops, { activation, license, lic: { jti: session.tokenJti, cnf: { jkt: activation.jkt } } }, nowMs, session.fullUntilMs);
}

/** May this session publish on `topic` (retained or not)? */
export function mayPublish(session: DeviceIdentity, topic: string, retain: boolean): boolean {
  const parsed = parseTopic(topic);
  if (!parsed || parsed.tenant !== session.tenant || !('deviceId' in parsed) || parsed.deviceId !== session.deviceId) return false;
  if (session.ordersOnly) return parsed.kind === 'deviceOrders' && !retain;
  if (parsed.kind === 'deviceStatus') return true; // retained, and the will
  return (parsed.kind === 'deviceOrders' || parsed.kind === 'deviceReq') && !retain;
}

/** May this session subscribe to `filter` (a topic or a wildcard filter)? */
export function maySubscribe(session: DeviceIdentity, filter: string): boolean {
  const tenantRoot = `${TOPIC_ROOT}/${session.tenant}`;
  const deviceRoot = `${tenantRoot}/devices/${session.deviceId}`;
  if (session.ordersOnly) return filter === `${deviceRoot}/res`;
  const allowed = [
    `${tenantRoot}/catalog/#`,
    `${tenantRoot}/catalog/+`,
    `${tenantRoot}/catalog/head`,
    `${tenantRoot}/catalog/delta`,
    `${tenantRoot}/revocations`,
    `${deviceRoot}/#`,
    `${deviceRoot}/+`,
    `${deviceRoot}/res`,
    `${deviceRoot}/status`,
  ];
  return allowed.includes(filter);
}

/**
 * May this session be sent a message published on `topic`? Checked again at every delivery —
 * also of messages queued for a persistent session before it became orders-only.
 */
export function mayReceive(session: DeviceIdentity, topic: string): boolean {
  const parsed = parseTopic(topic);
  if (!parsed || parsed.tenant !== session.tenant) return false;
  if ('deviceId' in parsed) {
    if (parsed.deviceId !== session.deviceId) return false;
    return session.ordersOnly ? parsed.kind === 'deviceRes' : true;
  }
  return !session.ordersOnly;
}
