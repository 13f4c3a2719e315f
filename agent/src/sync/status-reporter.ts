// The device's retained status (docs/sync-protocol.md §6) on …/devices/{id}/status, also the
// will with online: false. Published on connect, on change at most every 10 s, and every 5 min
// (the heartbeat also prunes acked orders past their retention).
import type { Clock } from '../../../common/clock.ts';
import { PRODUCT_VERSION } from '../../../common/version.ts';
import type { ServiceLogger as DaemonLogger, Scheduler, TimerHandle } from '../domain/sync-runtime.ts';
import type { LicenseMode } from '../domain/license-policy.ts';
import type { SyncStorePort } from '../domain/sales-types.ts';
import { STATUS_HEARTBEAT_MS, statusDueAtMs } from '../domain/sync-plan.ts';

export interface StatusFacts {
  readonly mode: LicenseMode | null;
  readonly reason: string | null;
}

export interface StatusReporterDeps {
  readonly store: SyncStorePort;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: DaemonLogger;
  readonly facts: () => StatusFacts;
  /** Publishes retained; false when not connected. */
  readonly publish: (payload: string) => boolean;
  readonly prune: () => void;
}

export interface StatusReporter {
  start(): void;
  connected(): void;
  disconnected(): void;
  /** Something shown in the status may have changed. */
  changed(): void;
  offlinePayload(): string;
  stop(): void;
}

export function createStatusReporter(deps: StatusReporterDeps): StatusReporter {
  const { clock, scheduler } = deps;
  let lastSentAtMs: number | null = null;
  let lastBody: string | null = null;
  let pending: TimerHandle | null = null;
  let heartbeat: TimerHandle | null = null;
  let online = false;

  function body(isOnline: boolean): Record<string, unknown> {
    const nowMs = clock.nowMs();
    const s = deps.store.syncState();
    const o = deps.store.outboxStats();
    const f = deps.facts();
    return {
      type: 'status',
      v: 1,
      online: isOnline,
      agentVersion: PRODUCT_VERSION.slice(0, 64),
      ...(f.mode === null ? {} : { mode: f.mode }),
      reason: f.reason === null ? null : f.reason.slice(0, 64),
      catalogVersion: s.catalogVersion,
      catalogLag: s.head ? Math.max(0, s.head.version - s.catalogVersion) : 0,
      outboxDepth: o.depth,
      oldestPendingAgeS: o.oldestPendingCreatedAtMs === null ? null : Math.max(0, Math.floor((nowMs - o.oldestPendingCreatedAtMs) / 1000)),
      lastError: s.lastError === null ? null : s.lastError.slice(0, 500),
    };
  }

  function send(force: boolean): void {
    if (!online) return;
    const b = body(true);
    const key = JSON.stringify(b);
    if (!force && key === lastBody) return;
    const payload = JSON.stringify({ ...b, at: new Date(clock.nowMs()).toISOString() });
    if (deps.publish(payload)) {
      lastBody = key;
      lastSentAtMs = clock.nowMs();
    }
  }

  function schedule(): void {
    if (pending || !online) return;
    const due = statusDueAtMs(lastSentAtMs, clock.nowMs());
    pending = scheduler.schedule(due - clock.nowMs(), () => {
      pending = null;
      safely(() => send(false));
    });
  }

  function safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      deps.logger.warn({ detail: err instanceof Error ? err.message : String(err) }, 'status report failed');
    }
  }

  function beat(): void {
    heartbeat = scheduler.schedule(STATUS_HEARTBEAT_MS, () => {
      safely(() => deps.prune());
      safely(() => send(true));
      beat();
    });
  }

  return {
    start() {
      safely(() => deps.prune());
      beat();
    },
    connected() {
      online = true;
      safely(() => send(true));
    },
    disconnected() {
      online = false;
      pending?.cancel();
      pending = null;
    },
    changed: () => schedule(),
    offlinePayload: () => JSON.stringify({ ...body(false), at: new Date(clock.nowMs()).toISOString() }),
    stop() {
      online = false;
      pending?.cancel();
      heartbeat?.cancel();
      pending = heartbeat = null;
    },
  };
}
