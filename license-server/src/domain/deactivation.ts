// Freeing a seat (DESIGN §4.7): by the device online (a proof), by the vendor with the device's
// offline deactivation file, or by the vendor alone. The seat becomes free, the revocation list
// names what can no longer be used (revocation-rules.ts) and its version rises, all in one
// transaction with the audit entry. Idempotent: a seat freed already gives the same outcome.
import { toSeconds } from '../../../common/clock.ts';
import { KioskError } from '../../../common/errors.ts';
import { DEVICE_ID_PATTERN } from '../../../common/fingerprint.ts';
import type { DomainDeps, IssuanceDeps } from './deps.ts';
import { useProof, verifyDeactivationDocument, verifyDeviceProof, type VerifiedDeviceDocument } from './device-proof.ts';
import { isoTime } from './iso-time.ts';
import { findLicense } from './licenses.ts';
import { listDeactivatedSeat } from './revocation-rules.ts';
import type { ActivationRecord, StorageTransaction } from './server-storage.ts';

export interface DeactivationOutcome {
  licenseId: string;
  deviceId: string;
  /** The revocation list version that lists the device (or, beside another seat, its tokens). */
  revocationVersion: number;
}

/** POST /v1/deactivations: the device gives up its seat; the proof is single use. */
export async function deactivateByProof(deps: IssuanceDeps, input: { proof: string }): Promise<DeactivationOutcome> {
  const verified = await verifyDeviceProof(deps, input.proof);
  const nowMs = deps.clock.nowMs();
  return deps.storage.transaction(async (tx) => {
    const activation = await currentSeat(tx, verified);
    if (activation.status !== 'active') return outcome(activation, await tx.getRevocationVersion());
    await useProof(tx, verified.claims, toSeconds(nowMs));
    return freeSeat(tx, activation, nowMs, `device:${activation.deviceId}`, { via: 'proof', jti: verified.lic.jti });
  });
}

/**
 * The offline deactivation file (`kiosk-agent deactivate --out FILE`), uploaded by the vendor.
 * A file written before the seat's latest token was issued is stale (the device was activated
 * again since) and refused with TOKEN_REPLAYED; `device deactivate` frees such a seat.
 */
export async function deactivateByFile(deps: IssuanceDeps, input: { document: string; actor: string }): Promise<DeactivationOutcome> {
  const verified = await verifyDeactivationDocument(deps, input.document);
  const nowMs = deps.clock.nowMs();
  return deps.storage.transaction(async (tx) => {
    const activation = await currentSeat(tx, verified);
    if (activation.status !== 'active') return outcome(activation, await tx.getRevocationVersion());
    const written = verified.claims.iat;
    if (activation.lastTokenJti !== verified.lic.jti && activation.lastTokenIat !== null && written < activation.lastTokenIat) {
      throw new KioskError(
        'TOKEN_REPLAYED',
        `this deactivation file was written ${isoTime(written * 1000)}, before the seat's latest token (issued ${isoTime(activation.lastTokenIat * 1000)}): the device was activated again since; to free the seat anyway use license-server device deactivate --license ${activation.licenseId} --device ${activation.deviceId}`,
      );
    }
    return freeSeat(tx, activation, nowMs, input.actor, { via: 'file', jti: verified.lic.jti, fileJti: verified.claims.jti });
  });
}

/** The vendor frees a device's seat of a license (key or id). NOT_FOUND when the device never held one. */
export async function deactivateDevice(deps: DomainDeps, input: { licenseRef: string; deviceId: string; actor: string }): Promise<DeactivationOutcome> {
  if (!DEVICE_ID_PATTERN.test(input.deviceId)) {
    throw new KioskError('VALIDATION_FAILED', 'a device id is 32 lowercase hex digits (license-server license show lists them)');
  }
  const nowMs = deps.clock.nowMs();
  return deps.storage.transaction(async (tx) => {
    const license = await findLicense(tx, input.licenseRef);
    const seats = (await tx.listActivations(license.id)).filter((a) => a.deviceId === input.deviceId);
    const active = seats.find((a) => a.status === 'active');
    if (active) return freeSeat(tx, active, nowMs, input.actor, { via: 'vendor' });
    const last = seats[seats.length - 1];
    if (last) return outcome(last, await tx.getRevocationVersion());
    throw new KioskError('NOT_FOUND', `device ${input.deviceId} holds no seat of license ${license.id}`);
  });
}

async function currentSeat(tx: StorageTransaction, verified: VerifiedDeviceDocument<unknown>): Promise<ActivationRecord> {
  const activation = await tx.getActivation(verified.activation.id);
  if (!activation) throw new KioskError('INTERNAL', `activation ${verified.activation.id} vanished during a deactivation`);
  return activation;
}

async function freeSeat(
  tx: StorageTransaction,
  activation: ActivationRecord,
  nowMs: number,
  actor: string,
  details: Readonly<Record<string, unknown>>,
): Promise<DeactivationOutcome> {
  if (!(await tx.deactivateActivation(activation.id, nowMs))) return outcome(activation, await tx.getRevocationVersion());
  const { version, listed } = await listDeactivatedSeat(tx, activation, nowMs);
  await tx.appendAudit({
    atMs: nowMs,
    actor,
    action: 'activation.deactivate',
    licenseId: activation.licenseId,
    deviceId: activation.deviceId,
    details: { activationId: activation.id, ...details, listed, revocationVersion: version },
  });
  return outcome(activation, version);
}

const outcome = (activation: ActivationRecord, revocationVersion: number): DeactivationOutcome => ({
  licenseId: activation.licenseId,
  deviceId: activation.deviceId,
  revocationVersion,
});
