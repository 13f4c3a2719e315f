// What the vendor API shows of the records: schemas (they also feed the OpenAPI document) and
// the projections that fill them. Key hashes never leave the server; the license key is shown
// once, in the answer to its creation.
import { z } from 'zod';
import type { DeactivationResponse } from '../../../common/device-api.ts';
import type { DeactivationOutcome } from '../domain/deactivation.ts';
import { isoTime } from '../domain/iso-time.ts';
import type { ActivationRecord, AuditEntry, LicenseRecord } from '../domain/server-storage.ts';

const instant = z.string().describe('UTC, ISO 8601 (2027-06-30T12:00:00Z)');

export const licenseViewSchema = z.object({
  id: z.string(),
  keyHint: z.string().describe('the last symbols of the key, for recognising it'),
  tenant: z.string(),
  features: z.array(z.string()),
  maxDevices: z.number().int(),
  activeDevices: z.number().int(),
  startsAt: instant,
  expiresAt: instant,
  graceSeconds: z.number().int(),
  allowVirtual: z.boolean(),
  status: z.enum(['active', 'revoked']),
  createdAt: instant,
  revokedAt: instant.nullable(),
});
export type LicenseView = z.infer<typeof licenseViewSchema>;

export const deviceViewSchema = z.object({
  activationId: z.string(),
  deviceId: z.string(),
  status: z.enum(['active', 'deactivated']),
  mode: z.enum(['online', 'offline']),
  jkt: z.string().describe('RFC 7638 thumbprint of the device key (the token\'s cnf.jkt)'),
  components: z.record(z.string(), z.string()),
  platform: z.record(z.string(), z.unknown()),
  createdAt: instant,
  updatedAt: instant,
  lastTokenJti: z.string().nullable(),
  lastTokenAt: instant.nullable(),
});
export type DeviceView = z.infer<typeof deviceViewSchema>;

export const auditEntryViewSchema = z.object({
  seq: z.number().int(),
  at: instant,
  actor: z.string(),
  action: z.string(),
  licenseId: z.string().nullable(),
  deviceId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditEntryView = z.infer<typeof auditEntryViewSchema>;

export function licenseView(l: LicenseRecord, activeDevices: number): LicenseView {
  return {
    id: l.id,
    keyHint: l.keyHint,
    tenant: l.tenant,
    features: [...l.features],
    maxDevices: l.maxDevices,
    activeDevices,
    startsAt: isoTime(l.startsAtMs),
    expiresAt: isoTime(l.expiresAtMs),
    graceSeconds: l.graceSeconds,
    allowVirtual: l.allowVirtual,
    status: l.status,
    createdAt: isoTime(l.createdAtMs),
    revokedAt: l.revokedAtMs === null ? null : isoTime(l.revokedAtMs),
  };
}

export function deviceView(a: ActivationRecord): DeviceView {
  return {
    activationId: a.id,
    deviceId: a.deviceId,
    status: a.status,
    mode: a.mode,
    jkt: a.jkt,
    components: { ...a.components },
    platform: { ...a.platform },
    createdAt: isoTime(a.createdAtMs),
    updatedAt: isoTime(a.updatedAtMs),
    lastTokenJti: a.lastTokenJti,
    lastTokenAt: a.lastTokenIat === null ? null : isoTime(a.lastTokenIat * 1000),
  };
}

export function auditEntryView(e: AuditEntry): AuditEntryView {
  return {
    seq: e.seq,
    at: isoTime(e.atMs),
    actor: e.actor,
    action: e.action,
    licenseId: e.licenseId,
    deviceId: e.deviceId,
    details: { ...e.details },
  };
}

export function deactivationResponse(outcome: DeactivationOutcome): DeactivationResponse {
  return { deactivated: true, licenseId: outcome.licenseId, deviceId: outcome.deviceId, revocationVersion: outcome.revocationVersion };
}
