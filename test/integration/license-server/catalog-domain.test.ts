// The catalog domain on real SQLite: the checksum kept incrementally equals the checksum of the
// whole catalog after any sequence of edits and stock movements; catch-up pages are whole,
// contiguous versions; edits of missing products are NOT_FOUND.
import { describe, expect, it } from 'vitest';
import { catalogChecksum, type Product } from '../../../common/sync-messages.ts';
import { commitCatalogChanges, editCatalog, planCatchUp, type CatalogChange } from '../../../license-server/src/domain/catalog.ts';
import { onlineFixture } from './helpers/online-fixture.ts';

const product = (sku: string, priceMinor: number): Product => ({ sku, name: `P ${sku}`, priceMinor, currency: 'EUR', taxRateBp: 700, active: priceMinor % 2 === 0 });

describe('catalog versions', () => {
  it('keeps the checksum equal to the checksum of the whole catalog, version after version', async () => {
    const f = await onlineFixture();
    const settings = { keepVersions: 10_000 };
    let seed = 7;
    const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let v = 1; v <= 60; v++) {
      const changes: CatalogChange[] = Array.from({ length: 1 + rnd(4) }, () => {
        const sku = `SKU-${rnd(6)}`;
        switch (rnd(4)) {
          case 0: return { kind: 'put', product: product(sku, rnd(1000)) };
          case 1: return { kind: 'del', sku };
          case 2: return { kind: 'stockDelta', sku, delta: rnd(7) - 4 };
          default: return { kind: 'stockSet', sku, level: rnd(50) };
        }
      });
      const committed = await f.deps.storage.transaction((tx) => commitCatalogChanges(tx, 'shop-1', changes, v, settings));
      expect(committed.head.version).toBe(v);
      expect(committed.head.checksum).toBe(catalogChecksum(await f.deps.storage.listProducts('shop-1')));
    }
    const answer = await planCatchUp(f.deps.storage, 'shop-1', 10, 8);
    if (answer.kind !== 'pages') throw new Error('expected pages');
    expect(answer.pages[0]?.from).toBe(11);
    expect(answer.pages[answer.pages.length - 1]?.to).toBe(60);
    answer.pages.reduce((prev, p) => (expect(p.from).toBe(prev + 1), p.to), 10);
    for (const p of answer.pages) expect(p.ops.length).toBeLessThanOrEqual(8);
    expect(await planCatchUp(f.deps.storage, 'shop-1', 60)).toEqual({ kind: 'pages', pages: [] });
    expect(await planCatchUp(f.deps.storage, 'shop-1', 61)).toEqual({ kind: 'reset', version: 60 });
  });

  it('a price change or delete of a missing product is NOT_FOUND and makes no version', async () => {
    const f = await onlineFixture();
    const deps = { ...f.deps, catalog: { keepVersions: 100 } };
    await expect(editCatalog(deps, { tenant: 'shop-1', edit: { kind: 'price', sku: 'NOPE', priceMinor: 1 }, actor: 'test' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(editCatalog(deps, { tenant: 'shop-1', edit: { kind: 'delete', sku: 'NOPE' }, actor: 'test' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(editCatalog(deps, { tenant: 'bad tenant', edit: { kind: 'delete', sku: 'NOPE' }, actor: 'test' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await f.deps.storage.getCatalogHead('shop-1')).version).toBe(0);
  });
});
