// What each event puts on, or takes off, the revocation list — always inside the event's own
// transaction, which also raises the list's version (docs/revocation.md):
//  - a license revoked: its id, until lexp + grace + margin;
//  - a seat deactivated: the device id when the device holds no other seat, else the seat's tokens;
//  - a listed device activated again: its id leaves the list, its old seats' tokens take its place;
//  - a seat activated again with another device key: the seat's earlier tokens.
// A token entry lasts until exp + grace + margin: after that an agent refuses the token anyway.
import { toSeconds } from '../../../common/clock.ts';
import type { ActivationRecord, LicenseRecord, RevocationEntry, StorageOps } from './server-storage.ts';

/** Kept on the list this long after the last moment an agent could still honour the revoked thing. */
export const REVOCATION_MARGIN_S = 86_400;

export function licenseListing(license: LicenseRecord): RevocationEntry {
  return { kind: 'license', value: license.id, untilS: toSeconds(license.expiresAtMs) + license.graceSeconds + REVOCATION_MARGIN_S };
}

/** Lists a license that was just revoked; returns the new version. */
export function listRevokedLicense(tx: StorageOps, license: LicenseRecord, nowMs: number): Promise<number> {
  return tx.changeRevocations({ add: [licenseListing(license)] }, toSeconds(nowMs));
}

export interface SeatListing {
  readonly version: number;
  /** What was listed: the device id, or (the device holds another seat) this seat's tokens. */
  readonly listed: 'device' | 'tokens';
}

/** After `activation` was deactivated in this transaction: lists what its tokens can no longer be used for. */
export async function listDeactivatedSeat(tx: StorageOps, activation: ActivationRecord, nowMs: number): Promise<SeatListing> {
  const nowS = toSeconds(nowMs);
  const seats = await tx.listDeviceActivations(activation.deviceId);
  if (seats.some((a) => a.status === 'active' && a.id !== activation.id)) {
    // Listing the device would also refuse its seat on the other license: list this seat's tokens.
    const add = await tokenListings(tx, [activation], nowS);
    return { version: await tx.changeRevocations({ add }, nowS), listed: 'tokens' };
  }
  const tokens = await tokenListings(tx, seats, nowS);
  const untilS = tokens.reduce((max, t) => Math.max(max, t.untilS), nowS + REVOCATION_MARGIN_S);
  return { version: await tx.changeRevocations({ add: [{ kind: 'device', value: activation.deviceId, untilS }] }, nowS), listed: 'device' };
}

/**
 * A new seat for `deviceId` was made in this transaction: if the device id is listed, it leaves
 * the list and the still-honoured tokens of its freed seats are listed instead, so the new token
 * works and the old ones stay refused. Returns the new version, or null when nothing changed.
 */
export async function unlistReactivatedDevice(tx: StorageOps, deviceId: string, nowMs: number): Promise<number | null> {
  if (!(await tx.getRevocationEntry('device', deviceId))) return null;
  const nowS = toSeconds(nowMs);
  const freed = (await tx.listDeviceActivations(deviceId)).filter((a) => a.status === 'deactivated');
  const add = await tokenListings(tx, freed, nowS);
  return tx.changeRevocations({ add, remove: [{ kind: 'device', value: deviceId }] }, nowS);
}

/**
 * `activation` is being activated again with another device key (call before its new token is
 * recorded): its earlier tokens, bound to the old key, are superseded. Null when none is still honoured.
 */
export async function supersedeSeatTokens(tx: StorageOps, activation: ActivationRecord, nowMs: number): Promise<number | null> {
  const nowS = toSeconds(nowMs);
  const add = await tokenListings(tx, [activation], nowS);
  return add.length === 0 ? null : tx.changeRevocations({ add }, nowS);
}

/** The tokens of these seats that an agent could still honour at nowS (exp + grace + margin ahead). */
async function tokenListings(tx: StorageOps, seats: readonly ActivationRecord[], nowS: number): Promise<RevocationEntry[]> {
  const graceByLicense = new Map<string, number>();
  const out: RevocationEntry[] = [];
  for (const seat of seats) {
    let grace = graceByLicense.get(seat.licenseId);
    if (grace === undefined) {
      grace = (await tx.getLicense(seat.licenseId))?.graceSeconds ?? 0;
      graceByLicense.set(seat.licenseId, grace);
    }
    for (const token of await tx.listActivationTokens(seat.id)) {
      const untilS = token.exp + grace + REVOCATION_MARGIN_S;
      if (untilS > nowS) out.push({ kind: 'token', value: token.jti, untilS });
    }
  }
  return out;
}
