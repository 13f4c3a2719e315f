// What concurrent transactions must show when an implementation commits them in groups (SQLite:
// SAVEPOINTs inside one BEGIN IMMEDIATE … COMMIT): a failing transaction rolls back only its
// own writes, no caller hears back before the commit that makes its writes durable, and the
// seat rule still admits exactly maxDevices winners under heavy concurrency. Also the seat
// lookup (listSeatCandidates) kept inside the same transactions as the writes it follows.
import { describe, expect, it, onTestFinished } from 'vitest';
import { KioskError } from '../../common/errors.ts';
import type { ServerStorage } from '../../license-server/src/domain/server-storage.ts';
import { activationRecord, licenseRecord } from './server-storage.contract.ts';

export interface BatchingHarnessOptions {
  /** Awaited just before a group's commit with the number of transactions in it; throwing fails that commit. */
  readonly beforeCommit?: (transactions: number) => void | Promise<void>;
}

const yieldToOthers = (): Promise<void> => new Promise((r) => setImmediate(r));

export function describeTransactionBatchingContract(name: string, open: (options: BatchingHarnessOptions) => Promise<ServerStorage>): void {
  async function setup(options: BatchingHarnessOptions = {}): Promise<ServerStorage> {
    const s = await open(options);
    onTestFinished(() => s.close());
    return s;
  }

  describe(`ServerStorage contract, concurrent transactions: ${name}`, () => {
    it('a failing transaction among concurrent ones rolls back only its own writes', async () => {
      const s = await setup();
      const outcomes = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) =>
          s.transaction(async (tx) => {
            await tx.insertLicense(licenseRecord(i + 1));
            await tx.appendAudit({ atMs: i, actor: 'test', action: 'batch', licenseId: licenseRecord(i + 1).id, deviceId: null, details: {} });
            if (i % 3 === 1) throw new KioskError('SEATS_FULL', `no ${i}`);
            if (i % 3 === 2) await tx.insertLicense(licenseRecord(1000 + i, { keyHash: licenseRecord(1).keyHash })); // a constraint failure inside
            return i;
          }),
        ),
      );
      outcomes.forEach((o, i) => {
        if (i % 3 === 0) expect(o).toEqual({ status: 'fulfilled', value: i });
        else expect(o.status).toBe('rejected');
      });
      const stored = (await s.listLicenses()).map((l) => l.license.id).sort();
      expect(stored).toEqual(Array.from({ length: 10 }, (_, k) => licenseRecord(3 * k + 1).id).sort());
      expect(await s.listAudit()).toHaveLength(10);
    });

    it('no caller hears back before the commit that holds its writes has returned', async () => {
      const settled: number[] = [];
      const commits: Array<{ size: number; settledBefore: number }> = [];
      const s = await setup({
        beforeCommit: async (size) => {
          // give any early settlement every chance to show before the commit
          await yieldToOthers();
          await yieldToOthers();
          commits.push({ size, settledBefore: settled.length });
        },
      });
      const all = Array.from({ length: 40 }, (_, i) =>
        s
          .transaction(async (tx) => {
            await tx.insertLicense(licenseRecord(i + 1));
            if (i === 7) throw new KioskError('INTERNAL', 'a failure settles after the commit too');
          })
          .then(
            () => settled.push(i),
            () => settled.push(i),
          ),
      );
      await Promise.all(all);
      expect(settled).toHaveLength(40);
      // every commit happened with nothing of its group settled yet: the settled count before a
      // commit is exactly the size of the groups committed earlier
      let before = 0;
      for (const c of commits) {
        expect(c.settledBefore).toBe(before);
        before += c.size;
      }
      expect(before).toBe(40);
      expect(commits.some((c) => c.size > 1), 'concurrent transactions share a commit').toBe(true);
    });

    it('a commit that fails rejects every transaction of its group and keeps none of their writes', async () => {
      let failNext = true;
      const s = await setup({
        beforeCommit: () => {
          if (failNext) {
            failNext = false;
            throw new KioskError('STORAGE_ERROR', 'disk gone (injected)');
          }
        },
      });
      const outcomes = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => s.transaction((tx) => tx.insertLicense(licenseRecord(i + 1)))));
      expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
      expect(await s.listLicenses()).toEqual([]);
      await s.insertLicense(licenseRecord(9)); // the storage works on afterwards
      expect((await s.listLicenses()).map((l) => l.license.id)).toEqual([licenseRecord(9).id]);
    });

    it('gives the last seats to exactly maxDevices of 200 concurrent activations', async () => {
      const s = await setup();
      const lic = licenseRecord(1, { maxDevices: 50 });
      await s.insertLicense(lic);
      for (let i = 0; i < 45; i++) await s.insertActivation(activationRecord(i, lic.id)); // 5 seats left
      const attempts = Array.from({ length: 200 }, (_, i) =>
        s.transaction(async (tx) => {
          const a = activationRecord(1000 + i, lic.id);
          if ((await tx.listSeatCandidates(lic.id, a.deviceId, a.components)).length > 0) throw new KioskError('INTERNAL', 'not a new device');
          const used = await tx.countActiveActivations(lic.id);
          if (i % 4 === 0) await yieldToOthers(); // some attempts wait in the middle, as a slow request would
          if (used >= lic.maxDevices) throw new KioskError('SEATS_FULL', 'full');
          await tx.insertActivation(a);
          return a.id;
        }),
      );
      const results = await Promise.allSettled(attempts);
      const won = results.filter((r): r is PromiseFulfilledResult<string> => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(5);
      expect(new Set(lost.map((r) => (r.reason as KioskError).code))).toEqual(new Set(['SEATS_FULL']));
      expect(await s.countActiveActivations(lic.id)).toBe(lic.maxDevices);
      for (const w of won) expect((await s.getActivation(w.value))?.status).toBe('active');
    });

    it('keeps the seat lookup in step with the writes, rolled-back ones included', async () => {
      const s = await setup();
      const lic = licenseRecord(1);
      await s.insertLicense(lic);
      const a = activationRecord(1, lic.id, { components: { dmi_uuid: 'u1', mac: 'm1' } });
      await s.transaction(async (tx) => {
        await tx.insertActivation(a);
        expect((await tx.listSeatCandidates(lic.id, 'x', { mac: 'm1' })).map((c) => c.id)).toEqual([a.id]);
      });
      await s
        .transaction(async (tx) => {
          await tx.refreshActivation(a.id, { ...a, components: { dmi_uuid: 'u1', mac: 'm9' } });
          expect((await tx.listSeatCandidates(lic.id, 'x', { mac: 'm9' })).map((c) => c.id)).toEqual([a.id]);
          throw new KioskError('INTERNAL', 'abandon');
        })
        .catch(() => undefined);
      expect((await s.listSeatCandidates(lic.id, 'x', { mac: 'm1' })).map((c) => c.id)).toEqual([a.id]);
      expect(await s.listSeatCandidates(lic.id, 'x', { mac: 'm9' })).toEqual([]);
      await s.refreshActivation(a.id, { ...a, components: { storage_id: 's1' } });
      expect(await s.listSeatCandidates(lic.id, 'x', { dmi_uuid: 'u1' })).toEqual([]);
      expect((await s.listSeatCandidates(lic.id, 'x', { storage_id: 's1' })).map((c) => c.id)).toEqual([a.id]);
      await s.deactivateActivation(a.id, 5);
      expect(await s.listSeatCandidates(lic.id, a.deviceId, { storage_id: 's1' })).toEqual([]);
    });
  });
}
