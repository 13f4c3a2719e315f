// POST /v1/activations/refresh: a device renews its online token with a proof signed by its
// device key (DESIGN §4.7). The token it holds may be past `exp` (a device offline beyond its
// grace still renews), but its seat must be active, bound to the same key, and its license
// neither revoked nor past its end. The new token is made exactly as an online activation makes
// one; checks, the proof's jti and the token record share one transaction.
import { toSeconds } from '../../../common/clock.ts';
import { KioskError } from '../../../common/errors.ts';
import type { LicenseClaims } from '../../../common/license-token.ts';
import type { IssuanceDeps } from './deps.ts';
import { requireUsableSeat, useProof, verifyDeviceProof } from './device-proof.ts';
import { newTokenId } from './ids.ts';
import { buildLicenseClaims } from './token-claims.ts';

/** Refusals of an authenticated device are audited (the fleet view shows them). */
const AUDITED_REFUSALS = new Set(['REVOKED', 'EXPIRED', 'NOT_YET_VALID']);

export async function refreshActivation(deps: IssuanceDeps, input: { proof: string }): Promise<{ token: string; claims: LicenseClaims; activationId: string }> {
  const verified = await verifyDeviceProof(deps, input.proof);
  const nowMs = deps.clock.nowMs();
  const { deviceId, licenseId } = verified.activation;
  try {
    return await deps.storage.transaction(async (tx) => {
      // Read again under the write lock: a deactivation, revoke or re-activation may have committed meanwhile.
      const activation = await tx.getActivation(verified.activation.id);
      const license = await tx.getLicense(licenseId);
      if (!activation || !license) throw new KioskError('INTERNAL', `activation ${verified.activation.id} vanished during a refresh`);
      requireUsableSeat({ activation, license, lic: verified.lic }, nowMs);
      await useProof(tx, verified.claims, toSeconds(nowMs));

      const claims = buildLicenseClaims({
        issuer: deps.signer.issuer,
        license,
        deviceId: activation.deviceId,
        components: activation.components,
        jkt: activation.jkt,
        mode: 'online',
        jti: newTokenId(deps.random, nowMs),
        nowMs,
      });
      const token = await deps.signer.signLicense(claims);
      await tx.recordIssuedToken({ jti: claims.jti, licenseId: license.id, activationId: activation.id, iat: claims.iat, exp: claims.exp });
      await tx.appendAudit({
        atMs: nowMs,
        actor: `device:${deviceId}`,
        action: 'activation.refresh',
        licenseId: license.id,
        deviceId,
        details: { activationId: activation.id, jti: claims.jti, exp: claims.exp, previousJti: verified.lic.jti },
      });
      return { token, claims, activationId: activation.id };
    });
  } catch (err) {
    if (err instanceof KioskError && AUDITED_REFUSALS.has(err.code)) {
      await deps.storage.appendAudit({
        atMs: nowMs,
        actor: `device:${deviceId}`,
        action: 'activation.refresh.refused',
        licenseId,
        deviceId,
        details: { code: err.code, activationId: verified.activation.id },
      });
    }
    throw err;
  }
}
