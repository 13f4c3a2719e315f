// The OpenAPI 3.1 document of the HTTP API, served at GET /openapi.json. Written as a table of
// operations whose inputs and outputs are the very zod schemas the routes decode with;
// test/integration/license-server/http-openapi.test.ts keeps it true against the route table
// (every route documented with its method and scope, every documented path a route).
import { z } from 'zod';
import { activationBodySchema, deactivationResponseSchema, errorBodySchema, proofBodySchema, revocationsResponseSchema, tokenResponseSchema } from '../../../common/device-api.ts';
import { ERROR_CATALOGUE, type ErrorCode } from '../../../common/errors.ts';
import { trustedKeySetSchema } from '../../../common/trusted-keys.ts';
import { PRODUCT_VERSION } from '../../../common/version.ts';
import type { ApiScope } from '../domain/api-tokens.ts';
import {
  auditQuerySchema,
  createLicenseBodySchema,
  deactivationFileBodySchema,
  deviceParamsSchema,
  licenseRefParamsSchema,
  listDevicesQuerySchema,
  listLicensesQuerySchema,
} from './schemas.ts';
import { auditEntryViewSchema, deviceViewSchema, licenseViewSchema } from './views.ts';
import {
  catalogEditResultSchema,
  catalogViewSchema,
  fleetViewSchema,
  orderParamsSchema,
  ordersQuerySchema,
  orderViewSchema,
  priceBodySchema,
  productWithStockSchema,
  putProductBodySchema,
  skuParamsSchema,
  snapshotSchema,
  stockBodySchema,
  tenantParamsSchema,
} from './sync-schemas.ts';

export interface OperationSpec {
  readonly method: 'get' | 'post';
  /** OpenAPI form: /v1/licenses/{ref}. */
  readonly path: string;
  readonly summary: string;
  readonly tag: 'licenses' | 'devices' | 'audit' | 'catalog' | 'orders' | 'fleet' | 'device' | 'public';
  /** The API token scope, or 'public' (no token). */
  readonly access: ApiScope | 'public';
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  readonly ok: { readonly status: 200 | 201; readonly description: string; readonly schema: z.ZodType };
  /** Error codes it may answer (besides the authentication ones of vendor routes). */
  readonly errors: readonly ErrorCode[];
}

const licenseWithDevices = z.object({ license: licenseViewSchema, devices: z.array(deviceViewSchema) });
const VENDOR_ERRORS: readonly ErrorCode[] = ['UNAUTHORIZED', 'FORBIDDEN'];
const LICENSE_REF_ERRORS: readonly ErrorCode[] = ['NOT_FOUND', 'LICENSE_KEY_UNKNOWN', 'LICENSE_KEY_MALFORMED', 'VALIDATION_FAILED'];
const PROOF_ERRORS: readonly ErrorCode[] = ['VALIDATION_FAILED', 'TOKEN_MALFORMED', 'ALG_NOT_ALLOWED', 'KEY_UNKNOWN', 'SIGNATURE_INVALID', 'TYPE_INVALID', 'CLAIM_INVALID', 'EXPIRED', 'REVOKED', 'DEVICE_MISMATCH', 'TOKEN_REPLAYED', 'PAYLOAD_TOO_LARGE'];

export const OPERATIONS: readonly OperationSpec[] = [
  {
    method: 'post', path: '/v1/licenses', summary: 'Issue a license; the answer carries its key, shown this once', tag: 'licenses', access: 'licenses:write',
    body: createLicenseBodySchema,
    ok: { status: 201, description: 'the license and its key', schema: z.object({ license: licenseViewSchema, licenseKey: z.string().describe('XXXXX-XXXXX-XXXXX-XXXXX-CC; the server keeps only its hash') }) },
    errors: ['VALIDATION_FAILED'],
  },
  {
    method: 'get', path: '/v1/licenses', summary: 'List licenses (key hints only)', tag: 'licenses', access: 'licenses:read',
    query: listLicensesQuerySchema,
    ok: { status: 200, description: 'oldest first', schema: z.object({ licenses: z.array(licenseViewSchema) }) },
    errors: ['VALIDATION_FAILED'],
  },
  {
    method: 'get', path: '/v1/licenses/{ref}', summary: 'A license and its devices', tag: 'licenses', access: 'licenses:read',
    params: licenseRefParamsSchema,
    ok: { status: 200, description: 'the license; devices oldest first, active and deactivated', schema: licenseWithDevices },
    errors: LICENSE_REF_ERRORS,
  },
  {
    method: 'post', path: '/v1/licenses/{ref}/revoke', summary: 'Revoke a license (idempotent): no activation or renewal from now on', tag: 'licenses', access: 'licenses:write',
    params: licenseRefParamsSchema,
    ok: { status: 200, description: 'changed is false when it was revoked already', schema: z.object({ license: licenseViewSchema, changed: z.boolean() }) },
    errors: LICENSE_REF_ERRORS,
  },
  {
    method: 'get', path: '/v1/licenses/{ref}/devices', summary: 'The devices of a license', tag: 'devices', access: 'licenses:read',
    params: licenseRefParamsSchema, query: listDevicesQuerySchema,
    ok: { status: 200, description: 'oldest first', schema: z.object({ licenseId: z.string(), devices: z.array(deviceViewSchema) }) },
    errors: LICENSE_REF_ERRORS,
  },
  {
    method: 'post', path: '/v1/licenses/{ref}/devices/{deviceId}/deactivate', summary: 'Free a device\'s seat; the device joins the revocation list', tag: 'devices', access: 'devices:write',
    params: deviceParamsSchema,
    ok: { status: 200, description: 'deactivated, and the revocation list version that lists it', schema: deactivationResponseSchema },
    errors: LICENSE_REF_ERRORS,
  },
  {
    method: 'post', path: '/v1/deactivation-files', summary: 'Upload an offline deactivation file (kiosk-agent deactivate --out FILE)', tag: 'devices', access: 'devices:write',
    body: deactivationFileBodySchema,
    ok: { status: 200, description: 'deactivated', schema: deactivationResponseSchema },
    errors: PROOF_ERRORS,
  },
  {
    method: 'get', path: '/v1/audit', summary: 'The audit log, in seq order, a page at a time', tag: 'audit', access: 'audit:read',
    query: auditQuerySchema,
    ok: { status: 200, description: 'next: pass as ?after= for the next page; null on the last page', schema: z.object({ entries: z.array(auditEntryViewSchema), next: z.number().int().nullable() }) },
    errors: LICENSE_REF_ERRORS,
  },
  {
    method: 'get', path: '/v1/tenants/{tenant}/catalog', summary: 'The tenant\'s catalog at its head: products with stock levels, version, checksum', tag: 'catalog', access: 'catalog:read',
    params: tenantParamsSchema,
    ok: { status: 200, description: 'by SKU', schema: catalogViewSchema },
    errors: ['VALIDATION_FAILED'],
  },
  {
    method: 'get', path: '/v1/tenants/{tenant}/catalog/products/{sku}', summary: 'One product and its stock level', tag: 'catalog', access: 'catalog:read',
    params: skuParamsSchema,
    ok: { status: 200, description: 'the product', schema: productWithStockSchema },
    errors: ['VALIDATION_FAILED', 'NOT_FOUND'],
  },
  {
    method: 'post', path: '/v1/tenants/{tenant}/catalog/products', summary: 'Put a product (new or changed): a new catalog version, published to the devices', tag: 'catalog', access: 'catalog:write',
    params: tenantParamsSchema, body: putProductBodySchema,
    ok: { status: 200, description: 'the new version', schema: catalogEditResultSchema },
    errors: ['VALIDATION_FAILED'],
  },
  {
    method: 'post', path: '/v1/tenants/{tenant}/catalog/products/{sku}/delete', summary: 'Delete a product: a new catalog version', tag: 'catalog', access: 'catalog:write',
    params: skuParamsSchema,
    ok: { status: 200, description: 'the new version (product null)', schema: catalogEditResultSchema },
    errors: ['VALIDATION_FAILED', 'NOT_FOUND'],
  },
  {
    method: 'post', path: '/v1/tenants/{tenant}/catalog/products/{sku}/price', summary: 'Change a price (and optionally currency, tax rate): a new catalog version', tag: 'catalog', access: 'catalog:write',
    params: skuParamsSchema, body: priceBodySchema,
    ok: { status: 200, description: 'the new version', schema: catalogEditResultSchema },
    errors: ['VALIDATION_FAILED', 'NOT_FOUND'],
  },
  {
    method: 'post', path: '/v1/tenants/{tenant}/catalog/products/{sku}/stock', summary: 'Adjust a stock level (delta) or set it (level): a new catalog version', tag: 'catalog', access: 'catalog:write',
    params: skuParamsSchema, body: stockBodySchema,
    ok: { status: 200, description: 'the new version', schema: catalogEditResultSchema },
    errors: ['VALIDATION_FAILED'],
  },
  {
    method: 'get', path: '/v1/tenants/{tenant}/orders', summary: 'Orders the devices uploaded, oldest received first', tag: 'orders', access: 'orders:read',
    params: tenantParamsSchema, query: ordersQuerySchema,
    ok: { status: 200, description: 'the orders', schema: z.object({ orders: z.array(orderViewSchema) }) },
    errors: ['VALIDATION_FAILED'],
  },
  {
    method: 'get', path: '/v1/tenants/{tenant}/orders/{orderId}', summary: 'One order', tag: 'orders', access: 'orders:read',
    params: orderParamsSchema,
    ok: { status: 200, description: 'the order as received, with its outcome', schema: orderViewSchema },
    errors: ['VALIDATION_FAILED', 'NOT_FOUND'],
  },
  {
    method: 'get', path: '/v1/tenants/{tenant}/fleet', summary: 'Sync health per device: online, mode, versions, lag, outbox, seq gaps, clone alarms, last seen', tag: 'fleet', access: 'fleet:read',
    params: tenantParamsSchema,
    ok: { status: 200, description: 'by device id', schema: fleetViewSchema },
    errors: ['VALIDATION_FAILED'],
  },
  {
    method: 'get', path: '/v1/catalog/snapshot', summary: 'The device\'s tenant catalog at its head (Authorization: DeviceProof <proof>, single use)', tag: 'device', access: 'public',
    ok: { status: 200, description: 'verify the checksum, then swap the local catalog in one transaction', schema: snapshotSchema },
    errors: ['UNAUTHORIZED', ...PROOF_ERRORS],
  },
  {
    method: 'post', path: '/v1/activations', summary: 'Online activation: license key and activation request in, license token out (rate limited per client address)', tag: 'device', access: 'public',
    body: activationBodySchema,
    ok: { status: 201, description: 'the token, where to talk from now on, and the server time', schema: tokenResponseSchema },
    errors: ['VALIDATION_FAILED', 'ACTIVATION_REQUEST_INVALID', 'LICENSE_KEY_MALFORMED', 'LICENSE_KEY_UNKNOWN', 'SEATS_FULL', 'REVOKED', 'EXPIRED', 'NOT_YET_VALID', 'VIRTUAL_NOT_ALLOWED', 'RATE_LIMITED', 'PAYLOAD_TOO_LARGE'],
  },
  {
    method: 'post', path: '/v1/activations/refresh', summary: 'Renew the license token with a device proof', tag: 'device', access: 'public',
    body: proofBodySchema,
    ok: { status: 200, description: 'a renewed token', schema: tokenResponseSchema },
    errors: PROOF_ERRORS,
  },
  {
    method: 'post', path: '/v1/deactivations', summary: 'Give up the seat with a device proof', tag: 'device', access: 'public',
    body: proofBodySchema,
    ok: { status: 200, description: 'deactivated', schema: deactivationResponseSchema },
    errors: PROOF_ERRORS,
  },
  {
    method: 'get', path: '/v1/revocations', summary: 'The signed revocation list (ETag = its version; If-None-Match answers 304)', tag: 'device', access: 'public',
    ok: { status: 200, description: 'the list (typ kiosk-revocations+jwt) and its version', schema: revocationsResponseSchema },
    errors: [],
  },
  {
    method: 'get', path: '/.well-known/jwks.json', summary: 'The vendor\'s public key set: every trusted key (the next one too) and the issuer', tag: 'public', access: 'public',
    ok: { status: 200, description: 'what agents trust', schema: trustedKeySetSchema },
    errors: [],
  },
  {
    method: 'get', path: '/openapi.json', summary: 'This document', tag: 'public', access: 'public',
    ok: { status: 200, description: 'OpenAPI 3.1', schema: z.record(z.string(), z.unknown()) },
    errors: [],
  },
];

const jsonSchema = (schema: z.ZodType): Record<string, unknown> => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

function parameters(where: 'path' | 'query', schema: z.ZodObject | undefined): Record<string, unknown>[] {
  if (!schema) return [];
  return Object.entries(schema.shape).map(([name, field]) => {
    const s = jsonSchema(field as z.ZodType);
    const { description, ...rest } = s;
    return { name, in: where, required: where === 'path' || !(field as z.ZodType).safeParse(undefined).success, ...(description ? { description } : {}), schema: rest };
  });
}

function errorResponses(op: OperationSpec): Record<string, unknown> {
  const codes = [...(op.access === 'public' ? [] : VENDOR_ERRORS), ...op.errors, 'INTERNAL' as const];
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) byStatus.set(ERROR_CATALOGUE[code].http, [...(byStatus.get(ERROR_CATALOGUE[code].http) ?? []), code]);
  return Object.fromEntries(
    [...byStatus.entries()].sort(([a], [b]) => a - b).map(([status, list]) => [
      String(status),
      { description: list.join(', '), content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    ]),
  );
}

export function buildOpenApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const parameterList = [...parameters('path', op.params), ...parameters('query', op.query)];
    (paths[op.path] ??= {})[op.method] = {
      operationId: `${op.method}${op.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: op.summary,
      tags: [op.tag],
      security: op.access === 'public' ? [] : [{ apiToken: [op.access] }],
      'x-scope': op.access,
      ...(parameterList.length ? { parameters: parameterList } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body) } } } } : {}),
      responses: {
        [String(op.ok.status)]: { description: op.ok.description, content: { 'application/json': { schema: jsonSchema(op.ok.schema) } } },
        ...errorResponses(op),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'kiosk-agent license server',
      version: PRODUCT_VERSION,
      description: 'Vendor API (bearer API token with scopes), device API (common/device-api.ts) and public key set. Errors are {"error":{"code","message"}} with the status of the code (common/errors.ts). JSON bodies only.',
    },
    tags: [
      { name: 'licenses', description: 'vendor: licenses' },
      { name: 'devices', description: 'vendor: devices and deactivation' },
      { name: 'audit', description: 'vendor: the audit log' },
      { name: 'catalog', description: 'vendor: catalog, prices and stock (every edit is a catalog version)' },
      { name: 'orders', description: 'vendor: orders uploaded by the devices' },
      { name: 'fleet', description: 'vendor: the devices\' sync health' },
      { name: 'device', description: 'devices: activation, renewal, deactivation, revocations' },
      { name: 'public', description: 'public documents' },
    ],
    paths,
    components: {
      securitySchemes: {
        apiToken: { type: 'http', scheme: 'bearer', description: 'a vendor API token (license-server admin create-token); the scope each operation needs is in its security requirement and x-scope' },
      },
      schemas: { Error: jsonSchema(errorBodySchema) },
    },
  };
}
