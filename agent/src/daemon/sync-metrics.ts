// The agent's Prometheus metrics (GET /metrics on the local API): a registry of its own, never
// prom-client's global one, so two agents in one process (tests) do not share counters.
import { Counter, Gauge, Registry } from 'prom-client';
import type { MetricsSource, SyncCounters, SyncStorePort } from '../domain/sales-types.ts';

export interface SyncMetrics extends MetricsSource {
  readonly counters: SyncCounters;
}

export function createSyncMetrics(store: Pick<SyncStorePort, 'outboxStats' | 'syncState'>): SyncMetrics {
  const registry = new Registry();
  const sent = new Counter({ name: 'kiosk_orders_sent_total', help: 'order publishes (first sends and resends)', registers: [registry] });
  const acks = new Counter({ name: 'kiosk_order_acks_total', help: 'application acks received', labelNames: ['status'], registers: [registry] });
  const malformed = new Counter({ name: 'kiosk_sync_malformed_messages_total', help: 'MQTT payloads dropped', labelNames: ['reason'], registers: [registry] });
  const deltas = new Counter({ name: 'kiosk_catalog_deltas_applied_total', help: 'catalog deltas applied', registers: [registry] });
  const snapshots = new Counter({ name: 'kiosk_catalog_snapshots_total', help: 'catalog snapshots swapped in', registers: [registry] });
  new Gauge({
    name: 'kiosk_outbox_orders',
    help: 'orders in the outbox by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const s = store.outboxStats();
      for (const state of ['pending', 'inflight', 'acked', 'rejected'] as const) this.set({ state }, s[state]);
    },
  });
  new Gauge({
    name: 'kiosk_outbox_depth',
    help: 'orders not acked yet (pending + inflight)',
    registers: [registry],
    collect() {
      this.set(store.outboxStats().depth);
    },
  });
  new Gauge({
    name: 'kiosk_catalog_version',
    help: 'the local catalog version',
    registers: [registry],
    collect() {
      this.set(store.syncState().catalogVersion);
    },
  });
  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    counters: {
      ordersSent: () => sent.inc(),
      ackReceived: (status) => acks.inc({ status }),
      malformedMessage: (reason) => malformed.inc({ reason }),
      deltaApplied: () => deltas.inc(),
      snapshotSwapped: () => snapshots.inc(),
    },
  };
}
