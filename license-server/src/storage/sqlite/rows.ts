// Rows ↔ records. A row is `unknown` until its schema decodes it (STYLE: validate at the edges);
// JSON columns are decoded too, so a damaged row fails loudly instead of leaking into a token.
import { z } from 'zod';
import { KioskError } from '../../../../common/errors.ts';
import type {
  ActivationRecord,
  AuditEntry,
  IssuedTokenRecord,
  LicenseRecord,
} from '../../domain/server-storage.ts';

const int = z.number().int();

const licenseRow = z.object({
  id: z.string(),
  key_hash: z.string(),
  key_hint: z.string(),
  tenant: z.string(),
  features: z.string(),
  max_devices: int,
  starts_at: int,
  expires_at: int,
  grace_seconds: int,
  allow_virtual: z.union([z.literal(0), z.literal(1)]),
  status: z.enum(['active', 'revoked']),
  created_at: int,
  revoked_at: int.nullable(),
});

const activationRow = z.object({
  id: z.string(),
  license_id: z.string(),
  device_id: z.string(),
  components: z.string(),
  jkt: z.string(),
  device_public_jwk: z.string(),
  platform: z.string(),
  mode: z.enum(['online', 'offline']),
  status: z.enum(['active', 'deactivated']),
  created_at: int,
  updated_at: int,
  last_token_jti: z.string().nullable(),
  last_token_iat: int.nullable(),
});

const issuedTokenRow = z.object({ jti: z.string(), license_id: z.string(), activation_id: z.string(), iat: int, exp: int });

const auditRow = z.object({
  seq: int,
  at: int,
  actor: z.string(),
  action: z.string(),
  license_id: z.string().nullable(),
  device_id: z.string().nullable(),
  details: z.string(),
});

const featuresJson = z.array(z.string());
const componentsJson = z.record(z.string(), z.string());
const publicJwkJson = z.object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string() });
const objectJson = z.record(z.string(), z.unknown());

export function decodeLicense(row: unknown): LicenseRecord {
  const r = decode(licenseRow, row, 'licenses');
  return {
    id: r.id,
    keyHash: r.key_hash,
    keyHint: r.key_hint,
    tenant: r.tenant,
    features: decodeJson(featuresJson, r.features, 'licenses.features'),
    maxDevices: r.max_devices,
    startsAtMs: r.starts_at,
    expiresAtMs: r.expires_at,
    graceSeconds: r.grace_seconds,
    allowVirtual: r.allow_virtual === 1,
    status: r.status,
    createdAtMs: r.created_at,
    revokedAtMs: r.revoked_at,
  };
}

export function encodeLicense(l: LicenseRecord): Record<string, string | number | null> {
  return {
    id: l.id,
    key_hash: l.keyHash,
    key_hint: l.keyHint,
    tenant: l.tenant,
    features: JSON.stringify(l.features),
    max_devices: l.maxDevices,
    starts_at: l.startsAtMs,
    expires_at: l.expiresAtMs,
    grace_seconds: l.graceSeconds,
    allow_virtual: l.allowVirtual ? 1 : 0,
    status: l.status,
    created_at: l.createdAtMs,
    revoked_at: l.revokedAtMs,
  };
}

export function decodeActivation(row: unknown): ActivationRecord {
  const r = decode(activationRow, row, 'activations');
  return {
    id: r.id,
    licenseId: r.license_id,
    deviceId: r.device_id,
    components: decodeJson(componentsJson, r.components, 'activations.components'),
    jkt: r.jkt,
    devicePublicJwk: decodeJson(publicJwkJson, r.device_public_jwk, 'activations.device_public_jwk'),
    platform: decodeJson(objectJson, r.platform, 'activations.platform'),
    mode: r.mode,
    status: r.status,
    createdAtMs: r.created_at,
    updatedAtMs: r.updated_at,
    lastTokenJti: r.last_token_jti,
    lastTokenIat: r.last_token_iat,
  };
}

export function encodeActivation(a: ActivationRecord): Record<string, string | number | null> {
  return {
    id: a.id,
    license_id: a.licenseId,
    device_id: a.deviceId,
    components: JSON.stringify(a.components),
    jkt: a.jkt,
    device_public_jwk: JSON.stringify(a.devicePublicJwk),
    platform: JSON.stringify(a.platform),
    mode: a.mode,
    status: a.status,
    created_at: a.createdAtMs,
    updated_at: a.updatedAtMs,
    last_token_jti: a.lastTokenJti,
    last_token_iat: a.lastTokenIat,
  };
}

export function decodeIssuedToken(row: unknown): IssuedTokenRecord {
  const r = decode(issuedTokenRow, row, 'issued_tokens');
  return { jti: r.jti, licenseId: r.license_id, activationId: r.activation_id, iat: r.iat, exp: r.exp };
}

export function decodeAudit(row: unknown): AuditEntry {
  const r = decode(auditRow, row, 'audit_log');
  return {
    seq: r.seq,
    atMs: r.at,
    actor: r.actor,
    action: r.action,
    licenseId: r.license_id,
    deviceId: r.device_id,
    details: decodeJson(objectJson, r.details, 'audit_log.details'),
  };
}

export function decode<T>(schema: z.ZodType<T>, row: unknown, table: string): T {
  const parsed = schema.safeParse(row);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new KioskError('STORAGE_ERROR', `a row of ${table} is damaged (${first?.path.join('.')}: ${first?.message})`);
  }
  return parsed.data;
}

export function decodeJson<T>(schema: z.ZodType<T>, text: string, column: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KioskError('STORAGE_ERROR', `${column} holds damaged JSON`);
  }
  return decode(schema, value, column);
}
