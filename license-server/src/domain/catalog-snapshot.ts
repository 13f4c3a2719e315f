// GET /v1/catalog/snapshot (docs/sync-protocol.md §3): the whole catalog of the device's tenant
// at its head, for a device that proves itself with a fresh device proof (single use). Tenant
// from the proof's license token; a revoked, deactivated or expired device gets nothing.
import { toSeconds } from '../../../common/clock.ts';
import { KioskError } from '../../../common/errors.ts';
import { sessionLimit } from './broker-access.ts';
import { readCatalog } from './catalog.ts';
import type { IssuanceDeps } from './deps.ts';
import { useProof, verifyDeviceProof } from './device-proof.ts';
import type { CatalogHeadRecord, ProductWithStock } from './sync-storage.ts';

export async function deviceCatalogSnapshot(deps: IssuanceDeps, proof: string): Promise<{ tenant: string; head: CatalogHeadRecord; products: ProductWithStock[] }> {
  const verified = await verifyDeviceProof(deps, proof);
  const nowMs = deps.clock.nowMs();
  return deps.storage.transaction(async (tx) => {
    const activation = await tx.getActivation(verified.activation.id);
    const license = await tx.getLicense(verified.activation.licenseId);
    if (!activation || !license) throw new KioskError('REVOKED', 'the seat of record is gone');
    const limit = await sessionLimit(tx, { activation, license, lic: verified.lic }, nowMs, (verified.lic.exp + verified.lic.grace) * 1000);
    if (limit !== null) {
      throw new KioskError(limit === 'EXPIRED' ? 'EXPIRED' : 'REVOKED', `device ${activation.deviceId} may not read the catalog (${limit}): renew or activate it again`);
    }
    await useProof(tx, verified.claims, toSeconds(nowMs));
    return { tenant: license.tenant, ...(await readCatalog(tx, license.tenant)) };
  });
}
