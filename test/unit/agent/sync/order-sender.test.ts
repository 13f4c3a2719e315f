// The order sender against an in-memory outbox and a fake scheduler (no broker, no SQLite):
// the in-flight window, done only on the application ack, ack timeout → pending again with the
// same orderId and a backoff, everything in flight pending again when the session goes.
import { describe, expect, it } from 'vitest';
import type { OutboxEntry, SyncStorePort } from '../../../../agent/src/domain/sales-types.ts';
import { createOrderSender } from '../../../../agent/src/sync/order-sender.ts';

function fakes(count: number) {
  let now = 1_000;
  const rows = new Map<string, { seq: number; state: string; attempts: number; next: number }>();
  for (let i = 1; i <= count; i++) rows.set(`order-${String(i).padStart(4, '0')}`, { seq: i, state: 'pending', attempts: 0, next: 0 });
  const entry = (id: string): OutboxEntry => {
    const r = rows.get(id)!;
    return {
      orderId: id, seq: r.seq, state: r.state as OutboxEntry['state'], attempts: r.attempts, nextAttemptAtMs: r.next, createdAtMs: 0, ackedAtMs: null, stockVersion: null, error: null,
      message: { type: 'order', v: 1, orderId: id, seq: r.seq, kind: 'sale', createdAt: new Date(0).toISOString(), catalogVersion: 1, currency: 'EUR', lines: [{ sku: 'A', qty: 1, unitPriceMinor: 1, taxMinor: 0 }], totalMinor: 1, taxMinor: 0 },
    };
  };
  const store = {
    duePending: (nowMs: number, limit: number) => [...rows.entries()].filter(([, r]) => r.state === 'pending' && r.next <= nowMs).sort((a, b) => a[1].seq - b[1].seq).slice(0, limit).map(([id]) => entry(id)),
    nextPendingAtMs: () => Math.min(...[...rows.values()].filter((r) => r.state === 'pending').map((r) => r.next)),
    markInflight: (id: string) => void Object.assign(rows.get(id)!, { state: 'inflight', attempts: rows.get(id)!.attempts + 1 }),
    recordAck: (ack: { orderId: string }) => {
      const r = rows.get(ack.orderId)!;
      const changed = r.state === 'pending' || r.state === 'inflight';
      if (changed) r.state = 'acked';
      return changed;
    },
    retryLater: (id: string, at: number) => {
      const r = rows.get(id)!;
      if (r.state !== 'inflight') return false;
      Object.assign(r, { state: 'pending', next: at });
      return true;
    },
    requeueInflight: () => {
      let n = 0;
      for (const r of rows.values()) if (r.state === 'inflight') (r.state = 'pending'), n++;
      return n;
    },
  } as unknown as SyncStorePort;
  const timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  const scheduler = {
    schedule(delayMs: number, fn: () => void) {
      const t = { at: now + delayMs, fn, cancelled: false };
      timers.push(t);
      return { cancel: () => void (t.cancelled = true) };
    },
  };
  const published: string[] = [];
  const noop = () => undefined;
  const sender = createOrderSender({
    store, clock: { nowMs: () => now }, scheduler, random: () => 0.5,
    logger: { debug: noop, info: noop, warn: noop, error: noop },
    counters: { ordersSent: noop, ackReceived: noop, malformedMessage: noop, deltaApplied: noop, snapshotSwapped: noop },
    window: 16, ackTimeoutMs: 30_000,
    publish: (p) => {
      published.push(JSON.parse(p).orderId);
      return true;
    },
    onChange: noop,
  });
  const fireUntil = (ms: number) => {
    now = ms;
    for (const t of timers.filter((x) => !x.cancelled && x.at <= ms)) {
      t.cancelled = true;
      t.fn();
    }
  };
  return { rows, sender, published, fireUntil };
}

describe('order sender', () => {
  it('at most 16 in flight, in seq order; each ack lets the next one go', () => {
    const f = fakes(40);
    f.sender.pump();
    expect(f.published).toEqual([...Array(16)].map((_, i) => `order-${String(i + 1).padStart(4, '0')}`));
    f.sender.onAck({ type: 'ack', v: 1, orderId: 'order-0003', status: 'accepted', stockVersion: 2 });
    expect(f.published.at(-1)).toBe('order-0017');
    expect(f.sender.inflight()).toBe(16);
    expect(f.rows.get('order-0003')?.state).toBe('acked');
  });

  it('no ack within the timeout → pending again with backoff, resent with the same orderId; a late ack still settles it once', () => {
    const f = fakes(1);
    f.sender.pump();
    f.fireUntil(1_000 + 30_000);
    expect(f.rows.get('order-0001')).toMatchObject({ state: 'pending', next: 31_000 + 2_500 });
    f.fireUntil(31_000 + 2_500);
    expect(f.published).toEqual(['order-0001', 'order-0001']);
    f.sender.onAck({ type: 'ack', v: 1, orderId: 'order-0001', status: 'accepted', stockVersion: 2 });
    f.sender.onAck({ type: 'ack', v: 1, orderId: 'order-0001', status: 'duplicate', stockVersion: 2 });
    expect(f.rows.get('order-0001')?.state).toBe('acked');
    expect(f.sender.inflight()).toBe(0);
  });

  it('a lost session puts every in-flight row back to pending and cancels its timers', () => {
    const f = fakes(5);
    f.sender.pump();
    f.sender.onDisconnected();
    expect([...f.rows.values()].every((r) => r.state === 'pending')).toBe(true);
    expect(f.sender.inflight()).toBe(0);
    f.fireUntil(10_000_000);
    expect(f.published).toHaveLength(5);
  });
});
