import { describe, expect, it } from 'vitest';
import {
  ackRetryAtMs,
  brokerUrlAllowed,
  CATCHUP_REPEAT_MS,
  catalogCheckDelayMs,
  planCatalog,
  planDelta,
  reconnectDelayMs,
  sendBudget,
  shouldRequestCatchup,
  statusDueAtMs,
} from '../../../../agent/src/domain/sync-plan.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe('sync planning', () => {
  it('deltas: contiguous or overlapping → apply, old → duplicate, ahead → gap', () => {
    expect(planDelta(5, { from: 6, to: 6 })).toBe('apply');
    expect(planDelta(5, { from: 6, to: 9 })).toBe('apply');
    expect(planDelta(5, { from: 3, to: 8 })).toBe('apply');
    expect(planDelta(5, { from: 5, to: 5 })).toBe('duplicate');
    expect(planDelta(5, { from: 1, to: 5 })).toBe('duplicate');
    expect(planDelta(5, { from: 7, to: 7 })).toBe('gap');
  });

  it('heads: catch-up, snapshot when too old / empty / behind / checksum differs, nothing when equal', () => {
    expect(planCatalog({ version: 5, checksum: A }, null)).toEqual({ kind: 'none' });
    expect(planCatalog({ version: 5, checksum: A }, { version: 9, checksum: B, oldestDeltaFrom: 1 })).toEqual({ kind: 'catchup', since: 5 });
    expect(planCatalog({ version: 5, checksum: A }, { version: 9, checksum: B, oldestDeltaFrom: 6 })).toEqual({ kind: 'catchup', since: 5 });
    expect(planCatalog({ version: 5, checksum: A }, { version: 9, checksum: B, oldestDeltaFrom: 7 })).toEqual({ kind: 'snapshot', why: 'too-old' });
    expect(planCatalog({ version: 0, checksum: A }, { version: 9, checksum: B, oldestDeltaFrom: 2 })).toEqual({ kind: 'snapshot', why: 'empty' });
    expect(planCatalog({ version: 9, checksum: A }, { version: 9, checksum: B, oldestDeltaFrom: 1 })).toEqual({ kind: 'snapshot', why: 'checksum-mismatch' });
    expect(planCatalog({ version: 9, checksum: A }, { version: 9, checksum: A, oldestDeltaFrom: 1 })).toEqual({ kind: 'none' });
    expect(planCatalog({ version: 10, checksum: A }, { version: 9, checksum: A, oldestDeltaFrom: 1 })).toEqual({ kind: 'snapshot', why: 'behind-local' });
  });

  it('catch-up requests: one per 30 s unless the last one was served', () => {
    expect(shouldRequestCatchup(null, 5, 0)).toBe(true);
    expect(shouldRequestCatchup({ atMs: 0, targetVersion: 9 }, 6, 1000)).toBe(false);
    expect(shouldRequestCatchup({ atMs: 0, targetVersion: 9 }, 9, 1000)).toBe(true);
    expect(shouldRequestCatchup({ atMs: 0, targetVersion: 9 }, 6, CATCHUP_REPEAT_MS)).toBe(true);
  });

  it('numbers: window, ack retry, reconnect backoff, catalog check, status throttle', () => {
    expect(sendBudget(10, 16)).toBe(6);
    expect(sendBudget(20, 16)).toBe(0);
    expect(ackRetryAtMs(0, 1, () => 0.5)).toBe(2_500);
    expect(ackRetryAtMs(0, 20, () => 0.999)).toBeLessThanOrEqual(300_000);
    expect(ackRetryAtMs(0, 1, () => 0)).toBe(1_000);
    expect(reconnectDelayMs(1, () => 0.5)).toBe(500);
    expect(reconnectDelayMs(10, () => 0.999)).toBeLessThanOrEqual(60_000);
    expect(catalogCheckDelayMs(() => 0)).toBe(15 * 60_000);
    expect(catalogCheckDelayMs(() => 0.999)).toBeLessThan(16 * 60_000);
    expect(statusDueAtMs(null, 100)).toBe(100);
    expect(statusDueAtMs(100, 5_000)).toBe(10_100);
    expect(statusDueAtMs(100, 20_000)).toBe(20_000);
  });

  it('broker URLs: TLS anywhere, plain MQTT only to loopback', () => {
    for (const ok of ['mqtts://broker.example.com', 'wss://b.example.com/mqtt', 'mqtt://127.0.0.1:1883', 'mqtt://localhost:1883', 'mqtt://[::1]:1883', 'ws://127.0.0.2:8080']) expect(brokerUrlAllowed(ok).ok, ok).toBe(true);
    for (const bad of ['mqtt://broker.example.com', 'ws://10.0.0.1', 'http://127.0.0.1', 'nonsense']) expect(brokerUrlAllowed(bad).ok, bad).toBe(false);
  });
});
