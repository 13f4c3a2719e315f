// Activation (online or air-gapped) and renewal: a checked request and a license key in, a
// signed license token out (DESIGN §4.2, §4.3). Seat decisions and the token record happen in
// one transaction, so two devices racing for the last seat cannot both win.
import { KioskError } from '../../../common/errors.ts';
import { matchFingerprint, type ComponentHashes, type FingerprintMatch } from '../../../common/fingerprint.ts';
import { hashLicenseKey } from '../../../common/license-key.ts';
import { checkActivationRequest } from './activation-request.ts';
import type { DeviceKeyThumbprint, IssuanceDeps } from './deps.ts';
import { newActivationId, newTokenId } from './ids.ts';
import { isoTime } from './iso-time.ts';
import { unknownLicenseKey } from './licenses.ts';
import { supersedeSeatTokens, unlistReactivatedDevice } from './revocation-rules.ts';
import type { DocumentSigner } from './document-signer.ts';
import type { ActivationResult, PreparedActivation, SeatDecision, SeatTicket } from './seat.ts';
import type { ActivationMode, ActivationRecord, LicenseRecord, ServerStorage, StorageTransaction } from './server-storage.ts';
import { buildLicenseClaims } from './token-claims.ts';

export interface ActivateInput {
  readonly licenseKey: string;
  /** The request document, still unchecked (parsed JSON). */
  readonly request: unknown;
  readonly mode: ActivationMode;
  readonly actor: string;
}

export type { ActivationResult } from './seat.ts';

/** Refusals about a known license are audited (the fleet view shows them); others are not. */
const AUDITED_REFUSALS = new Set(['REVOKED', 'EXPIRED', 'NOT_YET_VALID', 'SEATS_FULL', 'VIRTUAL_NOT_ALLOWED']);

/**
 * Activation: check the request, take the seat (one transaction: seat, token record and audit
 * entry, committed), then sign the token — here, or on the seat worker thread (deps.activateSeat).
 */
export async function activate(deps: IssuanceDeps, input: ActivateInput): Promise<ActivationResult> {
  const prepared = await prepareActivation(input, deps.signer.issuer, deps.deviceKeyThumbprint);
  const nowMs = deps.clock.nowMs();
  const ticket: SeatTicket = { nowMs, activationId: newActivationId(deps.random, nowMs), jti: newTokenId(deps.random, nowMs), issuer: deps.signer.issuer };
  if (deps.activateSeat) return deps.activateSeat(prepared, ticket);
  return takeSeatAndSign(deps.storage, deps.signer, prepared, ticket);
}

/**
 * The seat, then its token. The token is signed after the commit, outside the write lock: a
 * failure to sign leaves a recorded seat whose token never left — as a dropped connection
 * does — and the device's next attempt matches and reuses that seat.
 */
export async function takeSeatAndSign(storage: ServerStorage, signer: DocumentSigner, prepared: PreparedActivation, ticket: SeatTicket): Promise<ActivationResult> {
  const decision = await takeSeat(storage, prepared, ticket);
  return { ...decision, token: await signer.signLicense(decision.claims) };
}

/** Every check of an activation that needs no database: the license key's form and the request. */
async function prepareActivation(input: ActivateInput, issuer: string, thumbprint: DeviceKeyThumbprint): Promise<PreparedActivation> {
  const keyHash = hashLicenseKey(input.licenseKey); // LICENSE_KEY_MALFORMED before anything else
  const { request, devicePublicJwk, virtualReason } = await checkActivationRequest(input.request, issuer, thumbprint);
  return { keyHash, request, devicePublicJwk, virtualReason, mode: input.mode, actor: input.actor };
}

/**
 * The seat decision in one transaction: the license usable, the seat matched or free, the
 * activation and the token record written, the audit entry appended. Refusals about a known
 * license are audited in a transaction of their own.
 */
async function takeSeat(storage: ServerStorage, prepared: PreparedActivation, ticket: SeatTicket): Promise<SeatDecision> {
  const { keyHash, request, mode, actor } = prepared;
  const { nowMs } = ticket;
  const outcome = await storage.transaction(async (tx): Promise<SeatDecision | { readonly refused: KioskError }> => {
    const license = await tx.findLicenseByKeyHash(keyHash);
    if (!license) throw unknownLicenseKey(); // nothing written: the savepoint is simply released
    try {
      return await decideSeat(tx, license, prepared, ticket);
    } catch (err) {
      // A refusal about a known license is audited in the same transaction (nothing else of
      // it was written: every refusal comes before the first write), then thrown.
      if (!(err instanceof KioskError) || !AUDITED_REFUSALS.has(err.code)) throw err;
      await tx.appendAudit({ atMs: nowMs, actor, action: 'activation.refused', licenseId: license.id, deviceId: request.deviceId, details: { code: err.code, mode } });
      return { refused: err };
    }
  });
  if ('refused' in outcome) throw outcome.refused;
  return outcome;
}

async function decideSeat(tx: StorageTransaction, license: LicenseRecord, prepared: PreparedActivation, ticket: SeatTicket): Promise<SeatDecision> {
  const { request, devicePublicJwk, virtualReason, mode, actor } = prepared;
  const { nowMs } = ticket;
  checkLicenseUsable(license, nowMs, virtualReason);
  // Only the seats that could be this device (its own id, or a shared component hash) are
  // read and matched: the same result as matching every active seat, without reading them all.
  const candidates = await tx.listSeatCandidates(license.id, request.deviceId, request.components);
  const matched = bestMatch(candidates, request.components);
  const activeCount = await tx.countActiveActivations(license.id);
  let activation: ActivationRecord;
  if (matched) {
    const refresh = { components: request.components, jkt: request.jkt, devicePublicJwk, platform: request.platform, mode, updatedAtMs: nowMs };
    // Another device key: the seat's earlier tokens are superseded (revocation list).
    if (matched.activation.jkt !== request.jkt) await supersedeSeatTokens(tx, matched.activation, nowMs);
    await tx.refreshActivation(matched.activation.id, refresh);
    activation = { ...matched.activation, ...refresh };
  } else {
    if (activeCount >= license.maxDevices) {
      throw new KioskError('SEATS_FULL', `all ${license.maxDevices} seat(s) of license ${license.id} are taken: deactivate a device or raise the seat count`);
    }
    activation = {
      id: ticket.activationId,
      licenseId: license.id,
      deviceId: request.deviceId,
      components: request.components,
      jkt: request.jkt,
      devicePublicJwk,
      platform: request.platform,
      mode,
      status: 'active',
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
      lastTokenJti: null,
      lastTokenIat: null,
    };
    await tx.insertActivation(activation);
    // A freed device coming back: its id leaves the revocation list, its old tokens stay listed.
    await unlistReactivatedDevice(tx, activation.deviceId, nowMs);
  }

  const claims = buildLicenseClaims({
    issuer: ticket.issuer,
    license,
    deviceId: activation.deviceId,
    components: request.components,
    jkt: request.jkt,
    mode,
    jti: ticket.jti,
    nowMs,
  });
  await tx.recordIssuedToken({ jti: claims.jti, licenseId: license.id, activationId: activation.id, iat: claims.iat, exp: claims.exp });
  await tx.appendAudit({
    atMs: nowMs,
    actor,
    action: matched ? 'activation.renew' : 'activation.new',
    licenseId: license.id,
    deviceId: activation.deviceId,
    details: {
      activationId: activation.id,
      mode,
      jti: claims.jti,
      exp: claims.exp,
      ...(request.deviceId !== activation.deviceId ? { requestDeviceId: request.deviceId } : {}),
      ...(matched ? { matched: matched.match.matched, differing: matched.match.differing } : {}),
      ...(virtualReason ? { virtual: virtualReason } : {}),
    },
  });
  return {
    claims,
    license,
    activation: { ...activation, lastTokenJti: claims.jti, lastTokenIat: claims.iat },
    seat: matched ? 'reused' : 'new',
    activeDevices: matched ? activeCount : activeCount + 1,
  } satisfies SeatDecision;
}

function checkLicenseUsable(license: LicenseRecord, nowMs: number, virtualReason: string | null): void {
  if (license.status === 'revoked') {
    throw new KioskError('REVOKED', `license ${license.id} was revoked on ${isoTime(license.revokedAtMs ?? nowMs)}`);
  }
  if (nowMs >= license.expiresAtMs) throw new KioskError('EXPIRED', `license ${license.id} expired on ${isoTime(license.expiresAtMs)}`);
  if (nowMs < license.startsAtMs) throw new KioskError('NOT_YET_VALID', `license ${license.id} starts on ${isoTime(license.startsAtMs)}`);
  if (virtualReason !== null && !license.allowVirtual) {
    throw new KioskError('VIRTUAL_NOT_ALLOWED', `license ${license.id} does not allow virtual machines or containers, and this device counts as one: ${virtualReason}`);
  }
}

/**
 * The active activation this device already holds: the best fingerprint match, newest on a tie
 * (the first in the given order — oldest first — on a full tie). A match needs at least one equal
 * component, so matching only the seats that share one (listSeatCandidates) gives the same result.
 */
export function bestMatch(active: readonly ActivationRecord[], current: ComponentHashes): { activation: ActivationRecord; match: FingerprintMatch } | undefined {
  let best: { activation: ActivationRecord; match: FingerprintMatch } | undefined;
  for (const activation of active) {
    const match = matchFingerprint(activation.components, current);
    if (match.outcome !== 'match') continue;
    if (!best) {
      best = { activation, match };
      continue;
    }
    const ratio = match.score / match.total;
    const bestRatio = best.match.score / best.match.total;
    if (ratio > bestRatio || (ratio === bestRatio && activation.updatedAtMs > best.activation.updatedAtMs)) best = { activation, match };
  }
  return best;
}
