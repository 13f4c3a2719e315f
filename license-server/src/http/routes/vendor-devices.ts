// Vendor API, devices and audit: a license's devices, deactivating one (its seat is freed and
// it joins the revocation list), uploading an offline deactivation file, reading the audit log.
import type { FastifyInstance } from 'fastify';
import { MAX_DEVICE_BODY_BYTES } from '../../../../common/device-api.ts';
import { deactivateByFile, deactivateDevice } from '../../domain/deactivation.ts';
import { findLicense, getLicense } from '../../domain/licenses.ts';
import type { HttpAppDeps } from '../http-deps.ts';
import { parseInput } from '../input.ts';
import { auditQuerySchema, DEFAULT_AUDIT_LIMIT, deactivationFileBodySchema, deviceParamsSchema, emptyBodySchema, licenseRefParamsSchema, listDevicesQuerySchema } from '../schemas.ts';
import { apiActor } from '../route-access.ts';
import { auditEntryView, deactivationResponse, deviceView } from '../views.ts';

export function registerVendorDeviceRoutes(app: FastifyInstance, deps: HttpAppDeps): void {
  app.get('/v1/licenses/:ref/devices', { config: { scope: 'licenses:read' } }, async (request) => {
    const { ref } = parseInput(licenseRefParamsSchema, request.params, 'path');
    const { status } = parseInput(listDevicesQuerySchema, request.query, 'query');
    const { license, activations } = await getLicense(await deps.domainDeps(), ref);
    return { licenseId: license.id, devices: activations.filter((a) => status === undefined || a.status === status).map(deviceView) };
  });

  app.post('/v1/licenses/:ref/devices/:deviceId/deactivate', { config: { scope: 'devices:write' } }, async (request) => {
    const { ref, deviceId } = parseInput(deviceParamsSchema, request.params, 'path');
    parseInput(emptyBodySchema, request.body, 'body');
    return deactivationResponse(await deactivateDevice(await deps.domainDeps(), { licenseRef: ref, deviceId, actor: apiActor(request) }));
  });

  app.post('/v1/deactivation-files', { config: { scope: 'devices:write' }, bodyLimit: MAX_DEVICE_BODY_BYTES }, async (request) => {
    const { document } = parseInput(deactivationFileBodySchema, request.body, 'body');
    return deactivationResponse(await deactivateByFile(await deps.issuanceDeps(), { document, actor: apiActor(request) }));
  });

  app.get('/v1/audit', { config: { scope: 'audit:read' } }, async (request) => {
    const query = parseInput(auditQuerySchema, request.query, 'query');
    const domain = await deps.domainDeps();
    const licenseId = query.license === undefined ? undefined : (await findLicense(domain.storage, query.license)).id;
    const limit = query.limit ?? DEFAULT_AUDIT_LIMIT;
    const entries = await domain.storage.listAudit({ ...(licenseId === undefined ? {} : { licenseId }), afterSeq: query.after ?? 0, limit });
    const last = entries[entries.length - 1];
    return { entries: entries.map(auditEntryView), next: entries.length === limit && last ? last.seq : null };
  });
}
