// The online-licensing part of the ServerStorage contract (tokens by id, a device's seats, the
// revocation list and its version, used proof ids, API tokens): every implementation passes it
// beside server-storage.contract.ts, each test on a fresh, real database.
import { describe, expect, it, onTestFinished } from 'vitest';
import { KioskError } from '../../common/errors.ts';
import type { RevocationEntry, ServerStorage, StoredApiToken } from '../../license-server/src/domain/server-storage.ts';
import { activationRecord, licenseRecord, type StorageHarness } from './server-storage.contract.ts';

const T0_S = 1_800_000_000;
const yieldToOthers = (): Promise<void> => new Promise((r) => setImmediate(r));

const entry = (kind: RevocationEntry['kind'], value: string, untilS = T0_S + 1000): RevocationEntry => ({ kind, value, untilS });

export function apiTokenRecord(n: number, over: Partial<StoredApiToken> = {}): StoredApiToken {
  return {
    id: `atk_${n.toString(16).padStart(20, '0')}`,
    name: `token ${n}`,
    tokenHash: n.toString(16).padStart(64, 'a'),
    scopes: ['licenses:read', 'future:scope'],
    createdAtMs: T0_S * 1000 + n,
    revokedAtMs: null,
    lastUsedAtMs: null,
    ...over,
  };
}

async function rejection(promise: Promise<unknown>): Promise<KioskError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a rejection').toBeInstanceOf(KioskError);
  return err as KioskError;
}

export function describeOnlineStorageContract(name: string, factory: () => Promise<StorageHarness>): void {
  async function setup(): Promise<StorageHarness & { s: ServerStorage }> {
    const h = await factory();
    onTestFinished(() => h.dispose());
    return Object.assign(h, { s: h.storage });
  }

  describe(`ServerStorage contract, online licensing: ${name}`, () => {
    describe('tokens and seats', () => {
      it('finds an issued token by jti, lists a seat\'s tokens and a device\'s seats on every license', async () => {
        const { s } = await setup();
        const l1 = licenseRecord(1);
        const l2 = licenseRecord(2);
        await s.insertLicense(l1);
        await s.insertLicense(l2);
        const a = activationRecord(1, l1.id);
        const b = activationRecord(2, l2.id, { deviceId: a.deviceId, createdAtMs: a.createdAtMs + 5 });
        const c = activationRecord(3, l1.id);
        for (const x of [a, b, c]) await s.insertActivation(x);
        const t1 = { jti: 'jti-1', licenseId: l1.id, activationId: a.id, iat: 200, exp: 300 };
        const t2 = { jti: 'jti-2', licenseId: l1.id, activationId: a.id, iat: 100, exp: 400 };
        const t3 = { jti: 'jti-3', licenseId: l2.id, activationId: b.id, iat: 150, exp: 500 };
        for (const t of [t1, t2, t3]) await s.recordIssuedToken(t);
        expect(await s.getIssuedToken('jti-3')).toEqual(t3);
        expect(await s.getIssuedToken('jti-missing')).toBeUndefined();
        expect(await s.listActivationTokens(a.id)).toEqual([t2, t1]);
        expect(await s.listActivationTokens('act_missing')).toEqual([]);
        expect((await s.listDeviceActivations(a.deviceId)).map((x) => x.id)).toEqual([a.id, b.id]);
        expect(await s.listDeviceActivations(c.deviceId)).toEqual([c]);
        expect(await s.listDeviceActivations('f'.repeat(32))).toEqual([]);
      });
    });

    describe('revocation list', () => {
      it('starts at version 0 and empty; every change raises the version by exactly one', async () => {
        const { s } = await setup();
        expect(await s.getRevocationVersion()).toBe(0);
        expect(await s.readRevocations(T0_S)).toEqual({ version: 0, licenses: [], devices: [], tokens: [] });
        expect(await s.changeRevocations({ add: [entry('license', 'lic_b'), entry('license', 'lic_a')] }, T0_S)).toBe(1);
        expect(await s.changeRevocations({ add: [entry('device', 'd1'), entry('token', 't1')] }, T0_S)).toBe(2);
        expect(await s.changeRevocations({}, T0_S)).toBe(3);
        expect(await s.getRevocationVersion()).toBe(3);
        expect(await s.readRevocations(T0_S)).toEqual({ version: 3, licenses: ['lic_a', 'lic_b'], devices: ['d1'], tokens: ['t1'] });
      });

      it('upserts keeping the later untilS, removes, and drops entries whose time has passed', async () => {
        const { s } = await setup();
        await s.changeRevocations({ add: [entry('token', 't1', T0_S + 100), entry('token', 't2', T0_S + 50), entry('device', 'd1', T0_S + 100)] }, T0_S);
        await s.changeRevocations({ add: [entry('token', 't1', T0_S + 10)] }, T0_S);
        expect(await s.getRevocationEntry('token', 't1')).toEqual(entry('token', 't1', T0_S + 100));
        await s.changeRevocations({ add: [entry('token', 't1', T0_S + 900)] }, T0_S);
        expect(await s.getRevocationEntry('token', 't1')).toEqual(entry('token', 't1', T0_S + 900));
        expect(await s.getRevocationEntry('device', 't1')).toBeUndefined(); // kinds are apart

        // read filters by time; a later change prunes
        expect((await s.readRevocations(T0_S + 50)).tokens).toEqual(['t1']);
        expect((await s.readRevocations(T0_S + 49)).tokens).toEqual(['t1', 't2']);
        expect(await s.getRevocationEntry('token', 't2')).toEqual(entry('token', 't2', T0_S + 50));
        await s.changeRevocations({ remove: [{ kind: 'device', value: 'd1' }, { kind: 'device', value: 'never-listed' }] }, T0_S + 60);
        expect(await s.getRevocationEntry('token', 't2')).toBeUndefined();
        expect(await s.getRevocationEntry('device', 'd1')).toBeUndefined();
        expect(await s.readRevocations(T0_S)).toEqual({ version: 4, licenses: [], devices: [], tokens: ['t1'] });
      });

      it('a change in a transaction that rolls back leaves version and entries as they were', async () => {
        const { s } = await setup();
        await s.changeRevocations({ add: [entry('license', 'lic_a')] }, T0_S);
        const boom = new KioskError('INTERNAL', 'abandon');
        const err = await s
          .transaction(async (tx) => {
            expect(await tx.changeRevocations({ add: [entry('device', 'd1')], remove: [{ kind: 'license', value: 'lic_a' }] }, T0_S)).toBe(2);
            expect(await tx.readRevocations(T0_S)).toEqual({ version: 2, licenses: [], devices: ['d1'], tokens: [] }); // its own writes
            throw boom;
          })
          .catch((e: unknown) => e);
        expect(err).toBe(boom);
        expect(await s.readRevocations(T0_S)).toEqual({ version: 1, licenses: ['lic_a'], devices: [], tokens: [] });
      });

      it('concurrent changes get distinct, consecutive versions', async () => {
        const { s } = await setup();
        const versions = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            s.transaction(async (tx) => {
              const before = await tx.getRevocationVersion();
              await yieldToOthers();
              const after = await tx.changeRevocations({ add: [entry('token', `t${i}`)] }, T0_S);
              expect(after).toBe(before + 1);
              return after;
            }),
          ),
        );
        expect([...versions].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect((await s.readRevocations(T0_S)).tokens).toHaveLength(10);
      });

      it('keeps version and entries across close and reopen', async () => {
        const h = await setup();
        await h.s.changeRevocations({ add: [entry('device', 'd1'), entry('license', 'lic_a')] }, T0_S);
        await h.s.changeRevocations({}, T0_S);
        const again = await h.reopen();
        expect(await again.readRevocations(T0_S)).toEqual({ version: 2, licenses: ['lic_a'], devices: ['d1'], tokens: [] });
        expect(await again.changeRevocations({}, T0_S)).toBe(3);
      });
    });

    describe('used proof ids', () => {
      it('a jti is used once per issuer until forgotten after its expiry; a rollback un-uses it', async () => {
        const { s } = await setup();
        const use = { issuer: 'd1', jti: 'proof-0000000001', expS: T0_S + 300 };
        expect(await s.useProofJti(use, T0_S)).toBe(true);
        expect(await s.useProofJti(use, T0_S)).toBe(false);
        expect(await s.useProofJti({ ...use, expS: T0_S + 999 }, T0_S)).toBe(false);
        expect(await s.useProofJti({ ...use, issuer: 'd2' }, T0_S)).toBe(true);
        expect(await s.useProofJti(use, T0_S + 300)).toBe(false); // forgotten only when expS < forgetBeforeS
        expect(await s.useProofJti(use, T0_S + 301)).toBe(true);

        const fresh = { issuer: 'd3', jti: 'proof-0000000002', expS: T0_S + 300 };
        await rejection(
          s.transaction(async (tx) => {
            expect(await tx.useProofJti(fresh, T0_S)).toBe(true);
            throw new KioskError('INTERNAL', 'abandon');
          }),
        );
        expect(await s.useProofJti(fresh, T0_S)).toBe(true);
      });

      it('of many concurrent uses of one jti, exactly one wins', async () => {
        const { s } = await setup();
        const use = { issuer: 'd1', jti: 'proof-raced-00001', expS: T0_S + 300 };
        const results = await Promise.all(Array.from({ length: 8 }, () => s.transaction((tx) => tx.useProofJti(use, T0_S))));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('API tokens', () => {
      it('stores tokens and reads them back by id and by hash, exactly; lists oldest first', async () => {
        const { s } = await setup();
        const a = apiTokenRecord(1, { createdAtMs: T0_S * 1000 + 50 });
        const b = apiTokenRecord(2, { createdAtMs: T0_S * 1000 + 10, scopes: [] });
        await s.insertApiToken(a);
        await s.insertApiToken(b);
        expect(await s.getApiToken(a.id)).toEqual(a);
        expect(await s.findApiTokenByHash(b.tokenHash)).toEqual(b);
        expect(await s.getApiToken('atk_missing')).toBeUndefined();
        expect(await s.findApiTokenByHash('0'.repeat(64))).toBeUndefined();
        expect(await s.listApiTokens()).toEqual([b, a]);
      });

      it('refuses a duplicate hash or id, and keeps the first', async () => {
        const { s } = await setup();
        const a = apiTokenRecord(1);
        await s.insertApiToken(a);
        const dupHash = await rejection(s.insertApiToken(apiTokenRecord(2, { tokenHash: a.tokenHash })));
        expect(dupHash.code).toBe('STORAGE_ERROR');
        expect(String(dupHash.details?.conflict)).toContain('token_hash');
        expect((await rejection(s.insertApiToken(apiTokenRecord(1, { tokenHash: 'b'.repeat(64) })))).code).toBe('STORAGE_ERROR');
        expect(await s.listApiTokens()).toEqual([a]);
      });

      it('revokes once (the first time stays); touches lastUsed only when stale', async () => {
        const { s } = await setup();
        const a = apiTokenRecord(1);
        await s.insertApiToken(a);
        const t = T0_S * 1000;
        expect(await s.touchApiToken(a.id, t, t - 60_000)).toBe(true);
        expect(await s.touchApiToken(a.id, t + 30_000, t + 30_000 - 60_000)).toBe(false);
        expect((await s.getApiToken(a.id))?.lastUsedAtMs).toBe(t);
        expect(await s.touchApiToken(a.id, t + 60_000, t)).toBe(true);
        expect((await s.getApiToken(a.id))?.lastUsedAtMs).toBe(t + 60_000);
        expect(await s.touchApiToken('atk_missing', t, t)).toBe(false);

        expect(await s.revokeApiToken(a.id, t + 5)).toBe(true);
        expect(await s.revokeApiToken(a.id, t + 9)).toBe(false);
        expect(await s.getApiToken(a.id)).toEqual({ ...a, lastUsedAtMs: t + 60_000, revokedAtMs: t + 5 });
        expect(await s.revokeApiToken('atk_missing', t)).toBe(false);
      });
    });
  });
}
