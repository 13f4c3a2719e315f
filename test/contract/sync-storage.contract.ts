// The sync part of the storage contract (domain/sync-storage.ts): catalog head and change log,
// products and stock ledger, idempotent orders, the fleet's sync state — on every implementation.
import { describe, expect, it } from 'vitest';
import type { OrderMessage, Product } from '../../common/sync-messages.ts';
import type { StoredOrder } from '../../license-server/src/domain/sync-storage.ts';
import type { StorageHarness } from './server-storage.contract.ts';

const DEV = 'd'.repeat(32);
const product = (sku: string): Product => ({ sku, name: sku, priceMinor: 100, currency: 'EUR', taxRateBp: 700, active: true });
const order = (orderId: string, seq: number): StoredOrder => ({
  tenant: 'shop-1',
  deviceId: DEV,
  order: { type: 'order', v: 1, orderId, seq, kind: 'sale', createdAt: '2027-01-01T00:00:00.000Z', catalogVersion: 0, currency: 'EUR', lines: [{ sku: 'A', qty: 1, unitPriceMinor: 100, taxMinor: 7 }], totalMinor: 100, taxMinor: 7 } as OrderMessage,
  receivedAtMs: 1_000 + seq,
  status: 'accepted',
  reason: null,
  stockVersion: seq,
  oversold: false,
});
const version = (v: number) => ({ version: v, ops: [{ op: 'stock' as const, sku: 'A', level: v }], checksum: v.toString(16).padStart(64, '0'), atMs: v });

export function describeSyncStorageContract(name: string, makeHarness: () => Promise<StorageHarness>): void {
  describe(`sync storage contract: ${name}`, () => {
    it('a tenant without a catalog is at version 0; versions follow the head by one; the log keeps a window', async () => {
      const h = await makeHarness();
      try {
        const s = h.storage;
        expect(await s.getCatalogHead('shop-1')).toEqual({ tenant: 'shop-1', version: 0, checksum: '0'.repeat(64), oldestDeltaFrom: 1 });
        await expect(s.appendCatalogVersion('shop-1', version(2), 3)).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
        for (let v = 1; v <= 5; v++) await s.appendCatalogVersion('shop-1', version(v), 3);
        expect(await s.getCatalogHead('shop-1')).toEqual({ tenant: 'shop-1', version: 5, checksum: version(5).checksum, oldestDeltaFrom: 3 });
        expect((await s.listCatalogVersions('shop-1', 1, 10)).map((r) => r.version)).toEqual([3, 4, 5]);
        expect(await s.listCatalogVersions('shop-1', 4, 1)).toEqual([version(4)]);
        expect(await s.listCatalogTenants()).toEqual(['shop-1']);
        expect((await s.getCatalogHead('shop-2')).version).toBe(0);
      } finally {
        await h.dispose();
      }
    });

    it('products and stock levels per tenant; a rolled-back transaction leaves nothing', async () => {
      const h = await makeHarness();
      try {
        const s = h.storage;
        await s.setProduct('shop-1', 'A', product('A'));
        await s.setStockLevel('shop-1', 'A', -3);
        await s.setStockLevel('shop-1', 'Z', 9); // a SKU without a product
        expect(await s.listProducts('shop-1')).toEqual([{ product: product('A'), stockLevel: -3 }]);
        expect(await s.getStockLevel('shop-1', 'Z')).toBe(9);
        expect(await s.getStockLevel('shop-1', 'nope')).toBe(0);
        expect(await s.listProducts('shop-2')).toEqual([]);
        await expect(
          s.transaction(async (tx) => {
            await tx.setProduct('shop-1', 'B', product('B'));
            await tx.appendCatalogVersion('shop-1', version(1), 10);
            throw new Error('abort');
          }),
        ).rejects.toThrow('abort');
        expect(await s.getProduct('shop-1', 'B')).toBeUndefined();
        expect((await s.getCatalogHead('shop-1')).version).toBe(0);
        await s.setProduct('shop-1', 'A', null);
        expect(await s.listProducts('shop-1')).toEqual([]);
      } finally {
        await h.dispose();
      }
    });

    it('orders are unique by (tenant, orderId) and survive a reopen; stats per device; fleet state', async () => {
      const h = await makeHarness();
      try {
        expect(await h.storage.insertOrder(order('order-0001', 1))).toBe(true);
        expect(await h.storage.insertOrder({ ...order('order-0001', 9), stockVersion: 99 })).toBe(false);
        expect(await h.storage.insertOrder(order('order-0003', 3))).toBe(true);
        const s = await h.reopen();
        expect(await s.getOrder('shop-1', 'order-0001')).toEqual(order('order-0001', 1));
        expect(await s.getOrder('shop-2', 'order-0001')).toBeUndefined();
        expect((await s.listOrders('shop-1', { limit: 10 })).map((o) => o.order.orderId)).toEqual(['order-0001', 'order-0003']);
        expect((await s.listOrders('shop-1', { limit: 10, sinceMs: 1_002 })).map((o) => o.order.orderId)).toEqual(['order-0003']);
        expect(await s.listOrders('shop-1', { limit: 10, deviceId: 'e'.repeat(32) })).toEqual([]);
        expect(await s.orderStats('shop-1')).toEqual([{ deviceId: DEV, orders: 2, maxSeq: 3, lastOrderAtMs: 1_003 }]);

        await s.touchDevice('shop-1', DEV, 5);
        await s.recordDeviceStatus('shop-1', DEV, { type: 'status', online: true }, 7);
        await s.recordCloneAlarm('shop-1', DEV, 8);
        await s.recordCloneAlarm('shop-1', DEV, 9);
        await s.touchDevice('shop-1', DEV, 6); // never moves last seen back
        expect(await s.listDeviceSync('shop-1')).toEqual([
          { tenant: 'shop-1', deviceId: DEV, status: { type: 'status', online: true }, statusAtMs: 7, lastSeenAtMs: 7, cloneAlarms: 2, lastCloneAlarmAtMs: 9 },
        ]);
      } finally {
        await h.dispose();
      }
    });
  });
}
