// Creating, finding, listing and revoking licenses. Every change is audited in the same
// transaction. The raw license key leaves createLicense once and is never stored or logged.
import { KioskError } from '../../../common/errors.ts';
import { generateLicenseKey, hashLicenseKey, licenseKeyHint } from '../../../common/license-key.ts';
import type { DomainDeps } from './deps.ts';
import { newLicenseId } from './ids.ts';
import { isoTime } from './iso-time.ts';
import { resolveLicenseTerms, type LicenseTermsInput } from './license-terms.ts';
import { listRevokedLicense } from './revocation-rules.ts';
import type { ActivationRecord, LicenseRecord, LicenseWithSeats, StorageOps } from './server-storage.ts';

export interface CreatedLicense {
  readonly license: LicenseRecord;
  /** The only copy of the key: show it once, never store or log it. */
  readonly licenseKey: string;
}

export async function createLicense(deps: DomainDeps, input: LicenseTermsInput & { readonly actor: string }): Promise<CreatedLicense> {
  const nowMs = deps.clock.nowMs();
  const terms = resolveLicenseTerms(input, nowMs);
  const licenseKey = generateLicenseKey(deps.random);
  const license: LicenseRecord = {
    id: newLicenseId(deps.random),
    keyHash: hashLicenseKey(licenseKey),
    keyHint: licenseKeyHint(licenseKey),
    ...terms,
    status: 'active',
    createdAtMs: nowMs,
    revokedAtMs: null,
  };
  await deps.storage.transaction(async (tx) => {
    await tx.insertLicense(license);
    await tx.appendAudit({
      atMs: nowMs,
      actor: input.actor,
      action: 'license.create',
      licenseId: license.id,
      deviceId: null,
      details: {
        tenant: license.tenant,
        features: license.features,
        maxDevices: license.maxDevices,
        expiresAt: isoTime(license.expiresAtMs),
        graceSeconds: license.graceSeconds,
        allowVirtual: license.allowVirtual,
        keyHint: license.keyHint,
      },
    });
  });
  return { license, licenseKey };
}

/** `lic_…` ids are looked up as ids, anything else as a license key (checked and hashed first). */
export async function findLicense(ops: StorageOps, ref: string): Promise<LicenseRecord> {
  if (ref.startsWith('lic_')) {
    const license = await ops.getLicense(ref);
    if (!license) throw new KioskError('NOT_FOUND', `no license ${ref}`);
    return license;
  }
  const license = await ops.findLicenseByKeyHash(hashLicenseKey(ref));
  if (!license) throw unknownLicenseKey();
  return license;
}

export const unknownLicenseKey = (): KioskError =>
  new KioskError('LICENSE_KEY_UNKNOWN', 'no license has this key: check it against the one you were given');

export interface LicenseDetails {
  readonly license: LicenseRecord;
  /** All activations, active and deactivated, oldest first. */
  readonly activations: readonly ActivationRecord[];
  readonly activeDevices: number;
}

export async function getLicense(deps: Pick<DomainDeps, 'storage'>, ref: string): Promise<LicenseDetails> {
  const license = await findLicense(deps.storage, ref);
  const activations = await deps.storage.listActivations(license.id);
  return { license, activations, activeDevices: activations.filter((a) => a.status === 'active').length };
}

export function listLicenses(deps: Pick<DomainDeps, 'storage'>, filter?: { readonly tenant?: string }): Promise<LicenseWithSeats[]> {
  return deps.storage.listLicenses(filter);
}

export interface RevokedLicense {
  readonly license: LicenseRecord;
  /** False when the license was revoked already. */
  readonly changed: boolean;
  /** The revocation list version that lists the license. */
  readonly revocationVersion: number;
}

/** Revokes by key or id; idempotent. New activations and renewals are refused from now on. */
export async function revokeLicense(deps: DomainDeps, input: { readonly ref: string; readonly actor: string }): Promise<RevokedLicense> {
  const nowMs = deps.clock.nowMs();
  return deps.storage.transaction(async (tx) => {
    const found = await findLicense(tx, input.ref);
    const changed = await tx.revokeLicense(found.id, nowMs);
    // Listed in the same transaction, so the list's version moves with the revocation.
    const revocationVersion = changed ? await listRevokedLicense(tx, found, nowMs) : await tx.getRevocationVersion();
    if (changed) {
      await tx.appendAudit({ atMs: nowMs, actor: input.actor, action: 'license.revoke', licenseId: found.id, deviceId: null, details: { revocationVersion } });
    }
    const license = await tx.getLicense(found.id);
    if (!license) throw new KioskError('INTERNAL', `license ${found.id} vanished during revocation`);
    return { license, changed, revocationVersion };
  });
}
