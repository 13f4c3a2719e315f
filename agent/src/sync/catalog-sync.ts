// Catalog and stock down (docs/sync-protocol.md §3): heads, deltas, catch-up requests, resets and
// the HTTP snapshot. The decisions are domain/sync-plan.ts; this module carries them out. A
// delta is applied only when from = local + 1 (the store re-checks inside its transaction);
// duplicates are ignored; a gap asks for catch-up (at most every 30 s for the same `since`); a
// reset, a head too far ahead or a checksum that differs at the head's version fetches the
// snapshot, which is verified by its checksum and swapped in one transaction.
import type { Clock } from '../../../common/clock.ts';
import type { CatalogOp } from '../../../common/sync-messages.ts';
import type { ServiceLogger as DaemonLogger, Scheduler, TimerHandle } from '../domain/sync-runtime.ts';
import type { RandomUnit } from '../domain/backoff.ts';
import type { SyncCounters, SyncStorePort } from '../domain/sales-types.ts';
import { CATCHUP_REPEAT_MS, planCatalog, planDelta, shouldRequestCatchup, snapshotRetryDelayMs, type CatalogAction } from '../domain/sync-plan.ts';
import { verifySnapshot, type SnapshotFetcher } from './snapshot-fetch.ts';

export interface CatalogSyncDeps {
  readonly store: SyncStorePort;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly random: RandomUnit;
  readonly logger: DaemonLogger;
  readonly counters: SyncCounters;
  readonly fetchSnapshot: SnapshotFetcher;
  readonly apiUrl: () => string | null;
  readonly deviceProof: () => Promise<string | null>;
  /** Publishes a catch-up request; false when not connected. */
  readonly requestCatchup: (since: number) => boolean;
  readonly onChange: () => void;
}

export interface CatalogSync {
  onHead(head: { version: number; checksum: string; oldestDeltaFrom: number }): void;
  onDelta(delta: { from: number; to: number; ops: readonly CatalogOp[] }): void;
  onReset(version: number): void;
  /** Compares local state with the last head seen and acts (on connect, periodically). */
  reconcile(): void;
  /** Resolves when no snapshot is running (tests, stop). */
  idle(): Promise<void>;
  stop(): void;
}

export function createCatalogSync(deps: CatalogSyncDeps): CatalogSync {
  const { store, clock, logger } = deps;
  let lastCatchup: { atMs: number; targetVersion: number } | null = null;
  let recheck: TimerHandle | null = null;
  let snapshot: Promise<void> | null = null;
  let snapshotFailures = 0;
  let retry: TimerHandle | null = null;
  let stopped = false;

  function act(action: CatalogAction): void {
    if (action.kind === 'catchup') {
      const now = clock.nowMs();
      if (!shouldRequestCatchup(lastCatchup, action.since, now)) {
        // asked recently: look again once the repeat interval has passed (a lost answer must not stall us)
        if (recheck === null && lastCatchup !== null) {
          recheck = deps.scheduler.schedule(Math.max(0, lastCatchup.atMs + CATCHUP_REPEAT_MS - now), () => {
            recheck = null;
            reconcileSafely();
          });
        }
        return;
      }
      if (deps.requestCatchup(action.since)) {
        const head = store.syncState().head?.version ?? action.since + 1;
        lastCatchup = { atMs: now, targetVersion: Math.max(head, action.since + 1) };
        logger.info({ since: action.since }, 'catalog catch-up requested');
      }
    } else if (action.kind === 'snapshot') {
      startSnapshot(action.why);
    }
  }

  function reconcile(): void {
    const s = store.syncState();
    act(planCatalog({ version: s.catalogVersion, checksum: s.catalogChecksum }, s.head));
  }

  function startSnapshot(why: string): void {
    if (snapshot || stopped) return;
    retry?.cancel();
    retry = null;
    snapshot = runSnapshot(why).finally(() => {
      snapshot = null;
    });
  }

  async function runSnapshot(why: string): Promise<void> {
    const apiUrl = deps.apiUrl();
    try {
      if (apiUrl === null) throw new Error('no license server URL to fetch the catalog snapshot from');
      const proof = await deps.deviceProof();
      if (proof === null) throw new Error('no device proof (no license installed)');
      logger.info({ why }, 'fetching the catalog snapshot');
      const snap = verifySnapshot(await deps.fetchSnapshot(apiUrl, proof));
      if (stopped) return;
      const local = store.syncState();
      if (snap.version < local.catalogVersion && why !== 'behind-local') {
        logger.info({ version: snap.version, local: local.catalogVersion }, 'catalog snapshot older than the local catalog: ignored');
      } else {
        store.replaceCatalog({ version: snap.version, checksum: snap.checksum, items: snap.products }, clock.nowMs());
        deps.counters.snapshotSwapped();
        logger.info({ version: snap.version, products: snap.products.length, previous: local.catalogVersion }, 'catalog snapshot swapped in');
      }
      snapshotFailures = 0;
      store.setLastError(null);
      deps.onChange();
      // newer deltas: the head may be ahead of the snapshot
      const after = store.syncState();
      const next = planCatalog({ version: after.catalogVersion, checksum: after.catalogChecksum }, after.head);
      if (next.kind === 'catchup') act(next);
      else if (next.kind === 'snapshot' && next.why === 'checksum-mismatch') logger.warn({ version: after.catalogVersion }, 'the snapshot does not match the head checksum of its version');
    } catch (err) {
      snapshotFailures += 1;
      const message = err instanceof Error ? err.message : String(err);
      const delay = snapshotRetryDelayMs(snapshotFailures, deps.random);
      logger.warn({ why, failures: snapshotFailures, detail: message, retryInS: Math.round(delay / 1000) }, 'catalog snapshot failed');
      try {
        store.setLastError(`catalog snapshot: ${message}`);
      } catch {
        // the error is logged already
      }
      if (!stopped) retry = deps.scheduler.schedule(delay, () => { retry = null; reconcileSafely(); });
    }
  }

  function reconcileSafely(): void {
    try {
      reconcile();
    } catch (err) {
      logger.error({ detail: err instanceof Error ? err.message : String(err) }, 'catalog check failed');
    }
  }

  return {
    onHead(head) {
      store.recordHead(head, clock.nowMs());
      deps.onChange();
      reconcile();
    },
    onDelta(delta) {
      const local = store.syncState().catalogVersion;
      const plan = planDelta(local, delta);
      if (plan === 'duplicate') {
        logger.debug({ from: delta.from, to: delta.to, local }, 'catalog delta ignored: duplicate');
        return;
      }
      if (plan === 'gap' || store.applyDelta(delta, clock.nowMs()) === 'gap') {
        logger.info({ from: delta.from, to: delta.to, local }, 'catalog delta gap');
        act({ kind: 'catchup', since: local });
        return;
      }
      deps.counters.deltaApplied();
      deps.onChange();
      logger.debug({ from: delta.from, to: delta.to }, 'catalog delta applied');
      reconcile();
    },
    onReset(version) {
      logger.info({ version }, 'catalog reset: the gap is too old for catch-up');
      startSnapshot('reset');
    },
    reconcile: reconcileSafely,
    idle: async () => {
      while (snapshot) await snapshot;
    },
    stop() {
      stopped = true;
      recheck?.cancel();
      recheck = null;
      retry?.cancel();
      retry = null;
    },
  };
}
