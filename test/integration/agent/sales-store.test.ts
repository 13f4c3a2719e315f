// The sales store on real SQLite files: orders commit with synchronous=FULL on the connection
// that takes them, the outbox keeps seq strictly increasing, acked orders are pruned only once
// their stock is inside the local level, and a full disk refuses the order without corrupting
// anything (a real 1.5 MiB tmpfs when we may mount; PRAGMA max_page_count otherwise).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { catalogChecksum } from '../../../common/sync-messages.ts';
import { openAgentStore } from '../../../agent/src/store/agent-store.ts';
import { makeTempDir } from '../../helpers/tmp.ts';
import { PRODUCTS, startKiosk, uniqueTenant } from './helpers/sync-harness.ts';

const ctx = (nowMs: number) => ({ nowMs, mode: 'licensed' as const, dayStartMs: 0 });

describe('sales store', () => {
  it('orders commit on a connection with synchronous=FULL (2), WAL; seq strictly increasing', () => {
    const store = openAgentStore({ dataDir: makeTempDir() });
    onTestFinished(() => store.close());
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    store.sales.replaceCatalog({ version: 3, checksum: catalogChecksum(PRODUCTS), items: PRODUCTS }, 1);
    for (let i = 1; i <= 5; i++) store.sales.placeOrder({ orderId: `order-000${i}`, kind: 'sale', lines: [{ sku: 'CAKE-1', qty: 1 }] }, ctx(1000 + i));
    const seqs = store.sales.duePending(10_000, 100).map((e) => e.seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    expect(store.sales.product('CAKE-1')).toMatchObject({ stockLevel: 40, available: 35 });
  });

  it('stock overlay: unacked sales count, acked with stockVersion > L count, acked ≤ L do not; pruning keeps what the overlay needs', () => {
    const store = openAgentStore({ dataDir: makeTempDir() });
    onTestFinished(() => store.close());
    store.sales.replaceCatalog({ version: 3, checksum: catalogChecksum(PRODUCTS), items: PRODUCTS }, 1);
    for (let i = 1; i <= 3; i++) store.sales.placeOrder({ orderId: `order-000${i}`, kind: 'sale', lines: [{ sku: 'CAKE-1', qty: 2 }] }, ctx(1000));
    store.sales.recordAck({ type: 'ack', v: 1, orderId: 'order-0001', status: 'accepted', stockVersion: 3 }, 2000);
    store.sales.recordAck({ type: 'ack', v: 1, orderId: 'order-0002', status: 'accepted', stockVersion: 4 }, 2000);
    expect(store.sales.product('CAKE-1')?.available).toBe(40 - 4); // order 2 (v4 > 3) and order 3 (pending)
    expect(store.sales.pruneAcked(3000)).toBe(1); // only order 1: order 2's stock is not inside v3 yet
    expect(store.sales.applyDelta({ from: 4, to: 4, ops: [{ op: 'stock', sku: 'CAKE-1', level: 36 }] }, 4000)).toBe('applied');
    expect(store.sales.product('CAKE-1')?.available).toBe(34);
    expect(store.sales.pruneAcked(5000)).toBe(1);
    expect(store.sales.order('order-0003')?.sync?.state).toBe('pending');
    expect(store.integrityCheck()).toEqual(['ok']);
  });

  it('a full disk refuses the order with DISK_FULL (507): nothing half-written, earlier orders intact, integrity ok', async () => {
    const root = makeTempDir('kiosk-diskfull-');
    const mnt = join(root, 'mnt');
    mkdirSync(mnt);
    let mounted = false;
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1536k', 'tmpfs', mnt], { stdio: 'ignore' });
      mounted = true;
    } catch {
      mounted = false; // not root: fall back to a page limit below
    }
    if (mounted) {
      onTestFinished(() => {
        execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
        rmdirSync(mnt);
      });
    }
    const kiosk = await startKiosk({ mqttUrl: null, apiUrl: null, tenant: uniqueTenant(), dataDir: join(mnt, 'data') });
    kiosk.store.sales.replaceCatalog({ version: 1, checksum: catalogChecksum(PRODUCTS), items: PRODUCTS }, Date.now());
    if (!mounted) kiosk.store.db.pragma(`max_page_count = ${(kiosk.store.db.pragma('page_count', { simple: true }) as number) + 40}`);
    const lines = Array.from({ length: 3 }, (_, i) => ({ sku: PRODUCTS[i]!.product.sku, qty: 1 }));
    const accepted: string[] = [];
    let refused: { status: number; body: any } | null = null;
    for (let i = 0; i < 20_000 && refused === null; i++) {
      const orderId = `fill-${String(i).padStart(6, '0')}`;
      const r = await kiosk.post('/v1/orders', { orderId, lines });
      if (r.status === 201) accepted.push(orderId);
      else refused = r;
    }
    expect(refused?.status).toBe(507);
    expect(refused?.body.error.code).toBe('DISK_FULL');
    const stats = kiosk.store.sales.outboxStats();
    expect(stats.pending).toBe(accepted.length);
    expect(kiosk.store.sales.order(`fill-${String(accepted.length).padStart(6, '0')}`)).toBeNull();
    expect((await kiosk.get('/v1/status')).status).toBe(200);
    await kiosk.stop();
    const reopened = openAgentStore({ dataDir: join(mnt, 'data') });
    try {
      expect(reopened.integrityCheck()).toEqual(['ok']);
      expect(reopened.sales.outboxStats().pending).toBe(accepted.length);
      for (const id of accepted.slice(-3)) expect(reopened.sales.order(id)?.sync?.state).toBe('pending');
    } finally {
      reopened.close();
    }
  }, 120_000);
});
