// Vendor API, licenses: create (the key is shown once), list, get with devices, revoke.
// Thin: decode the input, call the domain, project the records (views.ts).
import type { FastifyInstance } from 'fastify';
import { createLicense, getLicense, listLicenses, revokeLicense } from '../../domain/licenses.ts';
import type { HttpAppDeps } from '../http-deps.ts';
import { parseInput } from '../input.ts';
import { createLicenseBodySchema, emptyBodySchema, licenseRefParamsSchema, listLicensesQuerySchema } from '../schemas.ts';
import { apiActor } from '../route-access.ts';
import { deviceView, licenseView } from '../views.ts';

export function registerVendorLicenseRoutes(app: FastifyInstance, deps: HttpAppDeps): void {
  app.post('/v1/licenses', { config: { scope: 'licenses:write' } }, async (request, reply) => {
    const body = parseInput(createLicenseBodySchema, request.body, 'body');
    const { license, licenseKey } = await createLicense(await deps.domainDeps(), { ...body, actor: apiActor(request) });
    reply.code(201);
    return { license: licenseView(license, 0), licenseKey };
  });

  app.get('/v1/licenses', { config: { scope: 'licenses:read' } }, async (request) => {
    const query = parseInput(listLicensesQuerySchema, request.query, 'query');
    const rows = await listLicenses(await deps.domainDeps(), query.tenant === undefined ? undefined : { tenant: query.tenant });
    return { licenses: rows.map((r) => licenseView(r.license, r.activeDevices)) };
  });

  app.get('/v1/licenses/:ref', { config: { scope: 'licenses:read' } }, async (request) => {
    const { ref } = parseInput(licenseRefParamsSchema, request.params, 'path');
    const { license, activations, activeDevices } = await getLicense(await deps.domainDeps(), ref);
    return { license: licenseView(license, activeDevices), devices: activations.map(deviceView) };
  });

  app.post('/v1/licenses/:ref/revoke', { config: { scope: 'licenses:write' } }, async (request) => {
    const { ref } = parseInput(licenseRefParamsSchema, request.params, 'path');
    parseInput(emptyBodySchema, request.body, 'body');
    const domain = await deps.domainDeps();
    const { license, changed } = await revokeLicense(domain, { ref, actor: apiActor(request) });
    const { activeDevices } = await getLicense(domain, license.id);
    return { license: licenseView(license, activeDevices), changed };
  });
}
