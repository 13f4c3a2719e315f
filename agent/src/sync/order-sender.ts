// Orders up (docs/sync-protocol.md §4): pending outbox rows are published in seq order with at
// most `window` in flight, QoS 1, only while the session is ready. A row is done only on the
// application ack; without it within ackTimeoutMs it goes back to pending with backoff and is
// sent again with the same orderId. Nothing relies on the MQTT client's memory: when the
// connection goes, in-flight rows are pending again at once.
import type { Clock } from '../../../common/clock.ts';
import type { AckMessage } from '../../../common/sync-messages.ts';
import type { ServiceLogger as DaemonLogger, Scheduler, TimerHandle } from '../domain/sync-runtime.ts';
import type { RandomUnit } from '../domain/backoff.ts';
import type { SyncCounters, SyncStorePort } from '../domain/sales-types.ts';
import { ackRetryAtMs, sendBudget } from '../domain/sync-plan.ts';

export interface OrderSenderDeps {
  readonly store: SyncStorePort;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly random: RandomUnit;
  readonly logger: DaemonLogger;
  readonly counters: SyncCounters;
  readonly window: number;
  readonly ackTimeoutMs: number;
  /** Publishes one order payload (QoS 1); false when the session is not ready. */
  readonly publish: (payload: string) => boolean;
  readonly onChange: () => void;
}

export interface OrderSender {
  /** Sends what is due (call on ready, new orders, acks, timers). */
  pump(): void;
  onAck(ack: AckMessage): void;
  /** The session is gone: forget in-flight timers, rows back to pending. */
  onDisconnected(): void;
  stop(): void;
  inflight(): number;
}

export function createOrderSender(deps: OrderSenderDeps): OrderSender {
  const { store, clock, logger } = deps;
  const inflight = new Map<string, TimerHandle>();
  let ready = false;
  let wake: { atMs: number; handle: TimerHandle } | null = null;

  function scheduleWake(): void {
    const next = store.nextPendingAtMs();
    const now = clock.nowMs();
    if (next === null || next <= now || !ready) return;
    if (wake && wake.atMs <= next) return;
    wake?.handle.cancel();
    wake = { atMs: next, handle: deps.scheduler.schedule(next - now, () => { wake = null; safePump(); }) };
  }

  function safePump(): void {
    try {
      pump();
    } catch (err) {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'sending orders failed');
    }
  }

  function onAckTimeout(orderId: string, attempts: number): void {
    if (!inflight.delete(orderId)) return;
    const now = clock.nowMs();
    const retryAt = ackRetryAtMs(now, attempts, deps.random);
    if (store.retryLater(orderId, retryAt, `no ack within ${Math.round(deps.ackTimeoutMs / 1000)} s`)) {
      logger.warn({ orderId, attempts, retryAt: new Date(retryAt).toISOString() }, 'order not acked in time; sending again later');
    }
    deps.onChange();
    safePump();
  }

  function pump(): void {
    ready = true;
    const now = clock.nowMs();
    const budget = sendBudget(inflight.size, deps.window);
    if (budget > 0) {
      for (const entry of store.duePending(now, budget)) {
        if (inflight.has(entry.orderId)) continue;
        store.markInflight(entry.orderId, now);
        if (!deps.publish(JSON.stringify(entry.message))) {
          store.retryLater(entry.orderId, now, 'not connected');
          ready = false;
          return;
        }
        const attempts = entry.attempts + 1;
        inflight.set(entry.orderId, deps.scheduler.schedule(deps.ackTimeoutMs, () => onAckTimeout(entry.orderId, attempts)));
        deps.counters.ordersSent();
      }
    }
    scheduleWake();
  }

  return {
    pump: safePump,
    onAck(ack) {
      inflight.get(ack.orderId)?.cancel();
      inflight.delete(ack.orderId);
      const changed = store.recordAck(ack, clock.nowMs());
      deps.counters.ackReceived(ack.status);
      if (ack.status === 'rejected' && changed) logger.error({ orderId: ack.orderId, reason: ack.reason ?? null }, 'the server rejected an order; kept for the operator');
      else logger.debug({ orderId: ack.orderId, status: ack.status, stockVersion: ack.stockVersion, changed }, 'order acked');
      deps.onChange();
      safePump();
    },
    onDisconnected() {
      ready = false;
      for (const t of inflight.values()) t.cancel();
      inflight.clear();
      wake?.handle.cancel();
      wake = null;
      store.requeueInflight(clock.nowMs());
    },
    stop() {
      ready = false;
      for (const t of inflight.values()) t.cancel();
      inflight.clear();
      wake?.handle.cancel();
      wake = null;
    },
    inflight: () => inflight.size,
  };
}
