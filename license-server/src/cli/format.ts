// Output helpers for the commands: times, tables, record projections for --json.
// Projections leave out what is not for display (key hashes).
import { isoTime } from '../domain/iso-time.ts';
import type { ActivationRecord, LicenseRecord } from '../domain/server-storage.ts';

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function licenseJson(l: LicenseRecord): Record<string, unknown> {
  return {
    id: l.id,
    keyHint: l.keyHint,
    tenant: l.tenant,
    features: l.features,
    maxDevices: l.maxDevices,
    startsAt: isoTime(l.startsAtMs),
    expiresAt: isoTime(l.expiresAtMs),
    graceSeconds: l.graceSeconds,
    allowVirtual: l.allowVirtual,
    status: l.status,
    createdAt: isoTime(l.createdAtMs),
    revokedAt: l.revokedAtMs === null ? null : isoTime(l.revokedAtMs),
  };
}

export function activationJson(a: ActivationRecord): Record<string, unknown> {
  return {
    id: a.id,
    deviceId: a.deviceId,
    status: a.status,
    mode: a.mode,
    jkt: a.jkt,
    components: a.components,
    platform: a.platform,
    createdAt: isoTime(a.createdAtMs),
    updatedAt: isoTime(a.updatedAtMs),
    lastTokenJti: a.lastTokenJti,
    lastTokenIat: a.lastTokenIat === null ? null : isoTime(a.lastTokenIat * 1000),
  };
}

export function licenseSummary(l: LicenseRecord, activeDevices: number): string[] {
  const days = l.graceSeconds / 86_400;
  return [
    `tenant: ${l.tenant}`,
    `features: ${l.features.length ? l.features.join(', ') : '(none)'}`,
    `seats: ${activeDevices} of ${l.maxDevices} in use`,
    `valid: ${isoTime(l.startsAtMs)} to ${isoTime(l.expiresAtMs)}`,
    `grace: ${Number.isInteger(days) ? `${days} day(s)` : `${l.graceSeconds} s`}`,
    `virtual machines and containers: ${l.allowVirtual ? 'allowed' : 'refused'}`,
  ];
}
