// The vendor API's inputs (bodies, path parameters, query strings) as zod schemas: decoded at
// the edge by the routes, and described by the OpenAPI document from the same schemas.
import { z } from 'zod';
import { DEVICE_ID_PATTERN } from '../../../common/fingerprint.ts';
import { MAX_DEVICES_LIMIT, MAX_GRACE_DAYS, MAX_LICENSE_DAYS } from '../domain/license-terms.ts';

export const createLicenseBodySchema = z
  .strictObject({
    tenant: z.string().min(1).max(64).describe('the vendor\'s customer: [A-Za-z0-9_-]{1,64} (the MQTT topic prefix)'),
    features: z.array(z.string().min(1).max(64)).max(256),
    maxDevices: z.number().int().min(1).max(MAX_DEVICES_LIMIT),
    days: z.number().int().min(1).max(MAX_LICENSE_DAYS).optional().describe('length from now; or give expires'),
    expires: z.string().max(64).optional().describe('YYYY-MM-DD (valid through that day, UTC) or an ISO date-time with a zone'),
    graceDays: z.number().int().min(0).max(MAX_GRACE_DAYS).optional(),
    allowVirtual: z.boolean().optional(),
  })
  .refine((b) => (b.days === undefined) !== (b.expires === undefined), { message: 'give either days or expires, not both and not neither' });

export const licenseRefParamsSchema = z.strictObject({
  ref: z.string().min(1).max(128).describe('a license id (lic_…) or its license key'),
});

export const deviceParamsSchema = licenseRefParamsSchema.extend({
  deviceId: z.string().regex(DEVICE_ID_PATTERN, 'must be a device id (32 hex digits)'),
});

export const listLicensesQuerySchema = z.strictObject({ tenant: z.string().min(1).max(64).optional() });

export const listDevicesQuerySchema = z.strictObject({ status: z.enum(['active', 'deactivated']).optional() });

/** Actions that take no input: no body, or an empty JSON object. */
export const emptyBodySchema = z.strictObject({}).optional();

export const deactivationFileBodySchema = z.strictObject({
  document: z.string().min(16).max(32 * 1024).describe('the file `kiosk-agent deactivate --out FILE` wrote (a compact JWS, typ kiosk-deactivation+jwt)'),
});

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;
const wholeText = (min: number, max: number) =>
  z.string().regex(/^\d{1,15}$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

export const auditQuerySchema = z.strictObject({
  license: z.string().min(1).max(128).optional().describe('a license id (lic_…) or key: only its entries'),
  after: wholeText(0, Number.MAX_SAFE_INTEGER).optional().describe('only entries with seq above this (the previous page\'s next)'),
  limit: wholeText(1, MAX_AUDIT_LIMIT).optional().describe(`at most this many entries (default ${DEFAULT_AUDIT_LIMIT}, at most ${MAX_AUDIT_LIMIT})`),
});
