// The behaviour every ServerStorage implementation must show (MQTT.js habit: one shared suite
// for every store). Run by one *.contract.test.ts per implementation, each test on a fresh,
// real database.
import { describe, expect, it, onTestFinished } from 'vitest';
import { KioskError } from '../../common/errors.ts';
import type {
  ActivationRecord,
  AuditEntryInput,
  LicenseRecord,
  ServerStorage,
} from '../../license-server/src/domain/server-storage.ts';

export interface StorageHarness {
  readonly storage: ServerStorage;
  /** Closes the storage and opens the same database again. */
  reopen(): Promise<ServerStorage>;
  /** Tries to change an audit entry beneath the interface (raw SQL); the database must refuse. */
  rewriteAuditEntry(seq: number): Promise<void>;
  /** Tries to delete an audit entry beneath the interface; the database must refuse. */
  deleteAuditEntry(seq: number): Promise<void>;
  dispose(): Promise<void>;
}

const T0 = 1_800_000_000_000;
const hex = (n: number, len = 32): string => n.toString(16).padStart(len, '0');

export function licenseRecord(n: number, over: Partial<LicenseRecord> = {}): LicenseRecord {
  return {
    id: `lic_${hex(n, 20)}`,
    keyHash: hex(n, 64),
    keyHint: 'AB12',
    tenant: 'shop-1',
    features: ['pos', 'sync'],
    maxDevices: 3,
    startsAtMs: T0,
    expiresAtMs: T0 + 365 * 86_400_000,
    graceSeconds: 7 * 86_400,
    allowVirtual: false,
    status: 'active',
    createdAtMs: T0 + n,
    revokedAtMs: null,
    ...over,
  };
}

export function activationRecord(n: number, licenseId: string, over: Partial<ActivationRecord> = {}): ActivationRecord {
  return {
    id: `act_${hex(n, 20)}`,
    licenseId,
    deviceId: hex(1000 + n),
    components: { dmi_uuid: hex(2000 + n), mac: hex(3000 + n) },
    jkt: 'j'.repeat(43),
    devicePublicJwk: { kty: 'EC', crv: 'P-256', x: 'x'.repeat(43), y: 'y'.repeat(43) },
    platform: { arch: 'x64', virtualization: null, container: null, extra: { nested: true } },
    mode: 'offline',
    status: 'active',
    createdAtMs: T0 + n,
    updatedAtMs: T0 + n,
    lastTokenJti: null,
    lastTokenIat: null,
    ...over,
  };
}

const audit = (n: number, over: Partial<AuditEntryInput> = {}): AuditEntryInput => ({
  atMs: T0 + n,
  actor: 'cli',
  action: 'test.event',
  licenseId: null,
  deviceId: null,
  details: { n, list: [1, 'two'], nested: { ok: true } },
  ...over,
});

async function rejection(promise: Promise<unknown>): Promise<KioskError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a rejection').toBeInstanceOf(KioskError);
  return err as KioskError;
}

/** Resolves after other queued work had a chance to run (macrotask). */
const yieldToOthers = (): Promise<void> => new Promise((r) => setImmediate(r));

export function describeServerStorageContract(name: string, factory: () => Promise<StorageHarness>): void {
  async function setup(): Promise<StorageHarness & { s: ServerStorage }> {
    const h = await factory();
    onTestFinished(() => h.dispose());
    return Object.assign(h, { s: h.storage });
  }

  describe(`ServerStorage contract: ${name}`, () => {
    describe('licenses', () => {
      it('stores a license and reads it back by id and by key hash, exactly', async () => {
        const { s } = await setup();
        const lic = licenseRecord(1, { allowVirtual: true, features: [] });
        await s.insertLicense(lic);
        expect(await s.getLicense(lic.id)).toEqual(lic);
        expect(await s.findLicenseByKeyHash(lic.keyHash)).toEqual(lic);
        expect(await s.getLicense('lic_missing')).toBeUndefined();
        expect(await s.findLicenseByKeyHash(hex(99, 64))).toBeUndefined();
      });

      it('refuses a second license with the same key hash, and keeps the first', async () => {
        const { s } = await setup();
        const first = licenseRecord(1);
        await s.insertLicense(first);
        const err = await rejection(s.insertLicense(licenseRecord(2, { keyHash: first.keyHash, tenant: 'other' })));
        expect(err.code).toBe('STORAGE_ERROR');
        expect(String(err.details?.conflict)).toContain('key_hash');
        expect(await s.findLicenseByKeyHash(first.keyHash)).toEqual(first);
        expect(await s.getLicense(licenseRecord(2).id)).toBeUndefined();
      });

      it('refuses a second license with the same id', async () => {
        const { s } = await setup();
        await s.insertLicense(licenseRecord(1));
        const err = await rejection(s.insertLicense(licenseRecord(1, { keyHash: hex(77, 64) })));
        expect(err.code).toBe('STORAGE_ERROR');
      });

      it('lists licenses oldest first with their active seat counts, optionally by tenant', async () => {
        const { s } = await setup();
        const a = licenseRecord(1, { createdAtMs: T0 + 20 });
        const b = licenseRecord(2, { createdAtMs: T0 + 10, tenant: 'shop-2' });
        const c = licenseRecord(3, { createdAtMs: T0 + 30 });
        for (const l of [a, b, c]) await s.insertLicense(l);
        await s.insertActivation(activationRecord(1, a.id));
        await s.insertActivation(activationRecord(2, a.id));
        await s.insertActivation(activationRecord(3, a.id, { status: 'deactivated' }));
        const all = await s.listLicenses();
        expect(all.map((r) => r.license.id)).toEqual([b.id, a.id, c.id]);
        expect(all.map((r) => r.activeDevices)).toEqual([0, 2, 0]);
        expect(all[1]?.license).toEqual(a);
        expect((await s.listLicenses({ tenant: 'shop-2' })).map((r) => r.license.id)).toEqual([b.id]);
        expect(await s.listLicenses({ tenant: 'nobody' })).toEqual([]);
      });

      it('revokes once: the first revocation time stays, unknown ids change nothing', async () => {
        const { s } = await setup();
        const lic = licenseRecord(1);
        await s.insertLicense(lic);
        expect(await s.revokeLicense(lic.id, T0 + 500)).toBe(true);
        expect(await s.getLicense(lic.id)).toEqual({ ...lic, status: 'revoked', revokedAtMs: T0 + 500 });
        expect(await s.revokeLicense(lic.id, T0 + 900)).toBe(false);
        expect((await s.getLicense(lic.id))?.revokedAtMs).toBe(T0 + 500);
        expect(await s.revokeLicense('lic_missing', T0)).toBe(false);
      });
    });

    describe('activations', () => {
      it('stores activations and lists them oldest first, by status, with counts', async () => {
        const { s } = await setup();
        const lic = licenseRecord(1);
        const other = licenseRecord(2);
        await s.insertLicense(lic);
        await s.insertLicense(other);
        const a1 = activationRecord(1, lic.id, { createdAtMs: T0 + 50 });
        const a2 = activationRecord(2, lic.id, { createdAtMs: T0 + 40, status: 'deactivated', mode: 'online' });
        const a3 = activationRecord(3, lic.id, { createdAtMs: T0 + 60 });
        const o1 = activationRecord(4, other.id);
        for (const a of [a1, a2, a3, o1]) await s.insertActivation(a);
        expect(await s.getActivation(a2.id)).toEqual(a2);
        expect(await s.getActivation('act_missing')).toBeUndefined();
        expect((await s.listActivations(lic.id)).map((a) => a.id)).toEqual([a2.id, a1.id, a3.id]);
        expect(await s.listActivations(lic.id, { status: 'active' })).toEqual([a1, a3]);
        expect(await s.listActivations(lic.id, { status: 'deactivated' })).toEqual([a2]);
        expect(await s.countActiveActivations(lic.id)).toBe(2);
        expect(await s.countActiveActivations(other.id)).toBe(1);
        expect(await s.countActiveActivations('lic_missing')).toBe(0);
      });

      it('refuses an activation of a license that does not exist', async () => {
        const { s } = await setup();
        const err = await rejection(s.insertActivation(activationRecord(1, 'lic_missing')));
        expect(err.code).toBe('STORAGE_ERROR');
        expect(await s.getActivation(activationRecord(1, 'lic_missing').id)).toBeUndefined();
      });

      it('holds one active seat per device and license; a deactivated one does not count', async () => {
        const { s } = await setup();
        const lic = licenseRecord(1);
        await s.insertLicense(lic);
        const first = activationRecord(1, lic.id);
        await s.insertActivation(first);
        const twin = activationRecord(2, lic.id, { deviceId: first.deviceId });
        const err = await rejection(s.insertActivation(twin));
        expect(err.code).toBe('STORAGE_ERROR');
        expect(err.details?.conflict).toBeDefined();
        expect(await s.deactivateActivation(first.id, T0 + 5)).toBe(true);
        await s.insertActivation(twin);
        expect((await s.listActivations(lic.id, { status: 'active' })).map((a) => a.id)).toEqual([twin.id]);
        // the same device on another license is another seat
        const lic2 = licenseRecord(2);
        await s.insertLicense(lic2);
        await s.insertActivation(activationRecord(3, lic2.id, { deviceId: first.deviceId }));
      });

      it('refreshes the device facts of an activation and keeps its identity', async () => {
        const { s } = await setup();
        const lic = licenseRecord(1);
        await s.insertLicense(lic);
        const a = activationRecord(1, lic.id);
        await s.insertActivation(a);
        const refresh = {
          components: { dmi_uuid: hex(7), storage_id: hex(8) },
          jkt: 'k'.repeat(43),
          devicePublicJwk: { kty: 'EC', crv: 'P-256', x: 'a'.repeat(43), y: 'b'.repeat(43) } as const,
          platform: { arch: 'arm64', virtualization: 'kvm', container: null },
          mode: 'online' as const,
          updatedAtMs: T0 + 999,
        };
        await s.refreshActivation(a.id, refresh);
        expect(await s.getActivation(a.id)).toEqual({ ...a, ...refresh });
        const err = await rejection(s.refreshActivation('act_missing', refresh));
        expect(err.code).toBe('NOT_FOUND');
      });

      it('deactivates once and frees the seat', async () => {
        const { s } = await setup();
        const lic = licenseRecord(1);
        await s.insertLicense(lic);
        const a = activationRecord(1, lic.id);
        await s.insertActivation(a);
        expect(await s.deactivateActivation(a.id, T0 + 77)).toBe(true);
        expect(await s.getActivation(a.id)).toEqual({ ...a, status: 'deactivated', updatedAtMs: T0 + 77 });
        expect(await s.deactivateActivation(a.id, T0 + 88)).toBe(false);
        expect(await s.countActiveActivations(lic.id)).toBe(0);
        expect(await s.deactivateActivation('act_missing', T0)).toBe(false);
      });
    });

    describe('issued tokens', () => {
      it('records tokens and makes each the activation\'s latest', async () => {
        const { s } = await setup();
        const lic = licenseRecord(1);
        await s.insertLicense(lic);
        const a = activationRecord(1, lic.id);
        await s.insertActivation(a);
        const t1 = { jti: 'jti-1', licenseId: lic.id, activationId: a.id, iat: 1_800_000_000, exp: 1_802_592_000 };
        const t2 = { jti: 'jti-2', licenseId: lic.id, activationId: a.id, iat: 1_800_000_100, exp: 1_802_592_100 };
        await s.recordIssuedToken(t1);
        await s.recordIssuedToken(t2);
        expect(await s.listIssuedTokens(lic.id)).toEqual([t1, t2]);
        expect(await s.getActivation(a.id)).toEqual({ ...a, lastTokenJti: 'jti-2', lastTokenIat: 1_800_000_100 });
        expect(await s.listIssuedTokens('lic_missing')).toEqual([]);
      });

      it('refuses a reused token id or a foreign activation, and changes nothing then', async () => {
        const { s } = await setup();
        const lic = licenseRecord(1);
        const other = licenseRecord(2);
        await s.insertLicense(lic);
        await s.insertLicense(other);
        const a = activationRecord(1, lic.id);
        const b = activationRecord(2, other.id);
        await s.insertActivation(a);
        await s.insertActivation(b);
        const t1 = { jti: 'jti-1', licenseId: lic.id, activationId: a.id, iat: 100, exp: 200 };
        await s.recordIssuedToken(t1);
        expect((await rejection(s.recordIssuedToken({ ...t1, iat: 150 }))).code).toBe('STORAGE_ERROR');
        expect((await rejection(s.recordIssuedToken({ jti: 'jti-x', licenseId: lic.id, activationId: b.id, iat: 300, exp: 400 }))).code).toBe('STORAGE_ERROR');
        expect((await rejection(s.recordIssuedToken({ jti: 'jti-y', licenseId: lic.id, activationId: 'act_missing', iat: 300, exp: 400 }))).code).toBe('STORAGE_ERROR');
        expect(await s.listIssuedTokens(lic.id)).toEqual([t1]);
        expect(await s.listIssuedTokens(other.id)).toEqual([]);
        expect((await s.getActivation(a.id))?.lastTokenJti).toBe('jti-1');
        expect((await s.getActivation(b.id))?.lastTokenJti).toBeNull();
      });
    });

    describe('audit log', () => {
      it('appends entries with increasing seq and lists them in order, filtered', async () => {
        const { s } = await setup();
        const e1 = await s.appendAudit(audit(1, { licenseId: 'lic_a', deviceId: hex(5) }));
        const e2 = await s.appendAudit(audit(2, { licenseId: 'lic_b' }));
        const e3 = await s.appendAudit(audit(3, { licenseId: 'lic_a', action: 'other' }));
        expect(e1).toEqual({ ...audit(1, { licenseId: 'lic_a', deviceId: hex(5) }), seq: e1.seq });
        expect(e2.seq).toBeGreaterThan(e1.seq);
        expect(e3.seq).toBeGreaterThan(e2.seq);
        expect(await s.listAudit()).toEqual([e1, e2, e3]);
        expect(await s.listAudit({ licenseId: 'lic_a' })).toEqual([e1, e3]);
        expect(await s.listAudit({ afterSeq: e1.seq })).toEqual([e2, e3]);
        expect(await s.listAudit({ limit: 2 })).toEqual([e1, e2]);
      });

      it('is append-only: the database refuses to change or delete an entry', async () => {
        const h = await setup();
        const e1 = await h.s.appendAudit(audit(1));
        await expect(h.rewriteAuditEntry(e1.seq)).rejects.toThrow(/append-only/);
        await expect(h.deleteAuditEntry(e1.seq)).rejects.toThrow(/append-only/);
        expect(await h.s.listAudit()).toEqual([e1]);
      });
    });

    describe('transactions', () => {
      it('commits all writes and returns the callback\'s value', async () => {
        const { s } = await setup();
        const lic = licenseRecord(1);
        const value = await s.transaction(async (tx) => {
          await tx.insertLicense(lic);
          await tx.insertActivation(activationRecord(1, lic.id));
          await tx.appendAudit(audit(1, { licenseId: lic.id }));
          return { done: await tx.countActiveActivations(lic.id) };
        });
        expect(value).toEqual({ done: 1 });
        expect(await s.getLicense(lic.id)).toEqual(lic);
        expect(await s.countActiveActivations(lic.id)).toBe(1);
        expect(await s.listAudit({ licenseId: lic.id })).toHaveLength(1);
      });

      it('rolls back every write when the callback rejects, passing the error through', async () => {
        const { s } = await setup();
        const lic = licenseRecord(1);
        const boom = new KioskError('SEATS_FULL', 'no');
        const err = await s
          .transaction(async (tx) => {
            await tx.insertLicense(lic);
            await tx.insertActivation(activationRecord(1, lic.id));
            await tx.appendAudit(audit(1));
            throw boom;
          })
          .catch((e: unknown) => e);
        expect(err).toBe(boom);
        expect(await s.getLicense(lic.id)).toBeUndefined();
        expect(await s.listAudit()).toEqual([]);
        // a failed operation inside also rolls back the earlier ones when it propagates
        await s.insertLicense(licenseRecord(2));
        await rejection(
          s.transaction(async (tx) => {
            await tx.insertLicense(licenseRecord(3));
            await tx.insertLicense(licenseRecord(4, { keyHash: licenseRecord(2).keyHash }));
          }),
        );
        expect(await s.getLicense(licenseRecord(3).id)).toBeUndefined();
      });

      it('makes the transaction\'s operations unusable once it ended', async () => {
        const { s } = await setup();
        let leaked: Parameters<Parameters<ServerStorage['transaction']>[0]>[0] | undefined;
        await s.transaction(async (tx) => {
          leaked = tx;
        });
        const err = await rejection(leaked!.insertLicense(licenseRecord(1)));
        expect(err.code).toBe('STORAGE_ERROR');
        expect(await s.getLicense(licenseRecord(1).id)).toBeUndefined();
      });

      it('refuses the storage itself inside a transaction instead of waiting for itself', async () => {
        const { s } = await setup();
        const inner = await s
          .transaction(async () => {
            const errs = await Promise.all([
              rejection(s.getLicense('lic_x')),
              rejection(s.insertLicense(licenseRecord(1))),
              rejection(s.transaction(async () => 1)),
            ]);
            return errs.map((e) => e.code);
          });
        expect(inner).toEqual(['STORAGE_ERROR', 'STORAGE_ERROR', 'STORAGE_ERROR']);
        expect(await s.getLicense(licenseRecord(1).id)).toBeUndefined();
      });

      it('never shows a running transaction\'s writes to others', async () => {
        const { s } = await setup();
        const lic = licenseRecord(1);
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        let inserted!: () => void;
        const didInsert = new Promise<void>((r) => (inserted = r));
        const tx = s
          .transaction(async (t) => {
            await t.insertLicense(lic);
            inserted();
            await gate;
            throw new KioskError('INTERNAL', 'abandon');
          })
          .catch((e: unknown) => e);
        await didInsert;
        const outside = s.getLicense(lic.id);
        const outsideCount = s.listLicenses();
        await yieldToOthers();
        release();
        expect(await tx).toBeInstanceOf(KioskError);
        expect(await outside).toBeUndefined();
        expect(await outsideCount).toEqual([]);
      });

      it('gives the last seat to exactly one of many concurrent transactions', async () => {
        const { s } = await setup();
        const lic = licenseRecord(1, { maxDevices: 3 });
        await s.insertLicense(lic);
        const attempts = Array.from({ length: 12 }, (_, i) =>
          s.transaction(async (tx) => {
            const used = await tx.countActiveActivations(lic.id);
            await yieldToOthers(); // give every other attempt the chance to interleave
            if (used >= lic.maxDevices) throw new KioskError('SEATS_FULL', 'full');
            await tx.insertActivation(activationRecord(10 + i, lic.id));
            return i;
          }),
        );
        const results = await Promise.allSettled(attempts);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won).toHaveLength(lic.maxDevices);
        expect(lost.map((r) => (r.reason as KioskError).code)).toEqual(Array(12 - lic.maxDevices).fill('SEATS_FULL'));
        expect(await s.countActiveActivations(lic.id)).toBe(lic.maxDevices);
      });

      it('lets independent transactions all commit', async () => {
        const { s } = await setup();
        await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            s.transaction(async (tx) => {
              await yieldToOthers();
              await tx.insertLicense(licenseRecord(i + 1));
              await tx.appendAudit(audit(i, { licenseId: licenseRecord(i + 1).id }));
            }),
          ),
        );
        expect(await s.listLicenses()).toHaveLength(8);
        expect(await s.listAudit()).toHaveLength(8);
      });
    });

    describe('durability', () => {
      it('keeps everything across close and reopen', async () => {
        const h = await setup();
        const lic = licenseRecord(1);
        const a = activationRecord(1, lic.id);
        const t = { jti: 'jti-1', licenseId: lic.id, activationId: a.id, iat: 100, exp: 200 };
        await h.s.insertLicense(lic);
        await h.s.insertActivation(a);
        await h.s.recordIssuedToken(t);
        const e = await h.s.appendAudit(audit(1, { licenseId: lic.id }));
        const again = await h.reopen();
        expect(await again.getLicense(lic.id)).toEqual(lic);
        expect(await again.getActivation(a.id)).toEqual({ ...a, lastTokenJti: 'jti-1', lastTokenIat: 100 });
        expect(await again.listIssuedTokens(lic.id)).toEqual([t]);
        expect(await again.listAudit()).toEqual([e]);
        const next = await again.appendAudit(audit(2));
        expect(next.seq).toBeGreaterThan(e.seq);
      });

      it('close waits for a running transaction, which commits', async () => {
        const h = await setup();
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        const running = h.s.transaction(async (tx) => {
          await gate;
          await tx.insertLicense(licenseRecord(1));
          return 'committed';
        });
        const closing = h.s.close();
        await yieldToOthers();
        release();
        expect(await running).toBe('committed');
        await closing;
        const again = await h.reopen();
        expect(await again.getLicense(licenseRecord(1).id)).toEqual(licenseRecord(1));
      });

      it('refuses every operation after close', async () => {
        const { s } = await setup();
        await s.close();
        expect((await rejection(s.getLicense('lic_x'))).code).toBe('STORAGE_ERROR');
        expect((await rejection(s.insertLicense(licenseRecord(1)))).code).toBe('STORAGE_ERROR');
        expect((await rejection(s.transaction(async () => 1))).code).toBe('STORAGE_ERROR');
        await Promise.all([s.close(), s.close()]); // closing again, even concurrently, is harmless
      });
    });
  });
}
