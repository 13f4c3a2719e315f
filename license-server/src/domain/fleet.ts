// The fleet view of a tenant (DESIGN §4.5, docs/sync-protocol.md §6): per device, what its
// retained status (or will) last said, how far its catalog lags the head, its outbox, the order
// seq it reached and how many seqs are missing (gaps), clone alarms and when it was last seen.
import type { DomainDeps } from './deps.ts';
import { requireTenant } from './catalog.ts';

export interface FleetDevice {
  readonly deviceId: string;
  readonly online: boolean;
  readonly mode: string | null;
  readonly reason: string | null;
  readonly agentVersion: string | null;
  readonly catalogVersion: number | null;
  /** Head version − the device's version (from the server's head, not the device's claim). */
  readonly catalogLag: number | null;
  readonly outboxDepth: number | null;
  readonly oldestPendingAgeS: number | null;
  readonly lastError: string | null;
  readonly orders: number;
  readonly maxSeq: number;
  /** Seqs below maxSeq not received (seq is per device, from 1, without gaps). */
  readonly missingSeqs: number;
  readonly cloneAlarms: number;
  readonly lastCloneAlarmAt: string | null;
  readonly lastSeenAt: string | null;
  readonly statusAt: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export async function fleetStatus(deps: DomainDeps, tenantInput: string): Promise<{ tenant: string; catalogVersion: number; devices: FleetDevice[] }> {
  const tenant = requireTenant(tenantInput);
  const head = await deps.storage.getCatalogHead(tenant);
  const states = new Map((await deps.storage.listDeviceSync(tenant)).map((s) => [s.deviceId, s]));
  const stats = new Map((await deps.storage.orderStats(tenant)).map((s) => [s.deviceId, s]));
  const ids = [...new Set([...states.keys(), ...stats.keys()])].sort();
  const devices = ids.map((deviceId): FleetDevice => {
    const state = states.get(deviceId);
    const stat = stats.get(deviceId);
    const status = state?.status ?? {};
    const catalogVersion = num(status.catalogVersion);
    return {
      deviceId,
      online: status.online === true,
      mode: str(status.mode),
      reason: str(status.reason),
      agentVersion: str(status.agentVersion),
      catalogVersion,
      catalogLag: catalogVersion === null ? null : Math.max(0, head.version - catalogVersion),
      outboxDepth: num(status.outboxDepth),
      oldestPendingAgeS: num(status.oldestPendingAgeS),
      lastError: str(status.lastError),
      orders: stat?.orders ?? 0,
      maxSeq: stat?.maxSeq ?? 0,
      missingSeqs: stat ? Math.max(0, stat.maxSeq - stat.orders) : 0,
      cloneAlarms: state?.cloneAlarms ?? 0,
      lastCloneAlarmAt: iso(state?.lastCloneAlarmAtMs ?? null),
      lastSeenAt: iso(Math.max(state?.lastSeenAtMs ?? 0, stat?.lastOrderAtMs ?? 0) || null),
      statusAt: iso(state?.statusAtMs ?? null),
    };
  });
  return { tenant, catalogVersion: head.version, devices };
}
