// The seat worker: an activation's transaction and signature on a thread of its own, with its
// own connection to the SQLite file the main thread also writes. Real file, real thread (the
// worker loads the TypeScript source through tsx as the server does).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { KioskError } from '../../../common/errors.ts';
import { licenseClaimsSchema } from '../../../common/license-token.ts';
import { activate, takeSeatAndSign, type ActivationResult } from '../../../license-server/src/domain/activation.ts';
import type { IssuanceDeps } from '../../../license-server/src/domain/deps.ts';
import type { DocumentSigner } from '../../../license-server/src/domain/document-signer.ts';
import { ACTIVATION_ID_PATTERN } from '../../../license-server/src/domain/ids.ts';
import { createLicense, revokeLicense } from '../../../license-server/src/domain/licenses.ts';
import { startSeatWorker } from '../../../license-server/src/seat-worker/seat-worker.ts';
import { generateKey } from '../../../license-server/src/signing/key-dir.ts';
import { makeActivationRequest, physicalDevice } from '../../helpers/activation-request.ts';
import { makeTempDir } from '../../helpers/tmp.ts';
import { ISSUER, onlineFixture } from './helpers/online-fixture.ts';

/** The online fixture's deps (fake clock, real file and keys), and the same with a seat worker on its file. */
async function setup(options: { keys?: boolean } = {}): Promise<{ deps: IssuanceDeps; threaded: IssuanceDeps; close: () => Promise<void> }> {
  const f = await onlineFixture();
  const threadKeys = options.keys === false ? join(f.dir, 'no-keys') : f.keysDir;
  if (options.keys === false) mkdirSync(threadKeys);
  const worker = startSeatWorker({ file: f.dbFile, keysDir: threadKeys });
  const close = async (): Promise<void> => {
    await worker.close();
    await f.deps.storage.close();
  };
  onTestFinished(close);
  return { deps: f.deps, threaded: { ...f.deps, activateSeat: worker.activateSeat }, close };
}

const codeOf = (r: PromiseSettledResult<unknown>): string | undefined => (r.status === 'rejected' ? (r.reason as KioskError).code : undefined);

describe('the seat worker thread', () => {
  it('100 new devices racing for the last 5 seats on the thread, while the main thread writes the same file: exactly 5 win', async () => {
    const { deps, threaded } = await setup();
    const { licenseKey, license } = await createLicense(deps, { tenant: 't1', features: ['pos'], maxDevices: 20, days: 30, actor: 'test' });
    const held = await Promise.all(Array.from({ length: 15 }, (_, i) => makeActivationRequest(ISSUER, physicalDevice(i + 1))));
    for (const request of held) await activate(threaded, { licenseKey, request, mode: 'online', actor: 'test' });

    const newcomers = await Promise.all(Array.from({ length: 100 }, (_, i) => makeActivationRequest(ISSUER, physicalDevice(500 + i))));
    const race = Promise.allSettled(newcomers.map((request) => activate(threaded, { licenseKey, request, mode: 'online', actor: 'test' })));
    // meanwhile the main thread's connection takes SQLite's write lock too
    const mainWrites = Promise.all(Array.from({ length: 20 }, (_, i) => createLicense(deps, { tenant: `other-${i}`, features: [], maxDevices: 1, days: 1, actor: 'test' })));
    const [results] = await Promise.all([race, mainWrites]);

    const won = results.filter((r): r is PromiseFulfilledResult<ActivationResult> => r.status === 'fulfilled');
    expect(won).toHaveLength(5);
    expect(new Set(results.filter((r) => r.status === 'rejected').map(codeOf))).toEqual(new Set(['SEATS_FULL']));
    expect(await deps.storage.countActiveActivations(license.id)).toBe(20);
    const refused = (await deps.storage.listAudit({ licenseId: license.id })).filter((e) => e.action === 'activation.refused');
    expect(refused).toHaveLength(95);
    expect(refused[0]?.details).toMatchObject({ code: 'SEATS_FULL', mode: 'online' });
  });

  it('signs on the thread with the key set the agents trust; the token carries the ticket made on the main thread', async () => {
    const { threaded } = await setup();
    const { licenseKey, license } = await createLicense(threaded, { tenant: 't1', features: ['pos', 'loyalty'], maxDevices: 2, days: 30, actor: 'test' });
    const request = await makeActivationRequest(ISSUER, physicalDevice(1));
    const result = await activate(threaded, { licenseKey, request, mode: 'online', actor: 'test' });
    expect(result.activation.id).toMatch(ACTIVATION_ID_PATTERN);
    expect(result.seat).toBe('new');
    const [header, payload] = result.token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>);
    expect(header).toMatchObject({ alg: 'ES256', kid: threaded.signer.kid });
    expect(licenseClaimsSchema.parse(payload)).toMatchObject({ sub: license.id, jti: result.claims.jti, iss: ISSUER });
    const keySet = await threaded.serverKeySet();
    const key = keySet.keys.find((k) => k.kid === header?.kid);
    expect(key).toBeDefined();
    expect(await threaded.verifyEs256(result.token, key as never)).toBe(true);
    // the same device again: its seat, a new token
    const again = await activate(threaded, { licenseKey, request, mode: 'online', actor: 'test' });
    expect([again.seat, again.activation.id]).toEqual(['reused', result.activation.id]);
    expect(again.claims.jti).not.toBe(result.claims.jti);
  });

  it('refusals cross the thread with their code and message; nothing is taken', async () => {
    const { deps, threaded } = await setup();
    const { licenseKey, license } = await createLicense(deps, { tenant: 't1', features: [], maxDevices: 3, days: 30, actor: 'test' });
    const request = await makeActivationRequest(ISSUER, physicalDevice(7));
    const unknown = await activate(threaded, { licenseKey: licenseKey.replace(/^(.....)/, 'ZZZZZ'), request, mode: 'online', actor: 'test' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(KioskError);
    expect(['LICENSE_KEY_UNKNOWN', 'LICENSE_KEY_MALFORMED']).toContain((unknown as KioskError).code);
    await revokeLicense(deps, { ref: license.id, actor: 'test' });
    const revoked = await activate(threaded, { licenseKey, request, mode: 'online', actor: 'test' }).catch((e: unknown) => e as KioskError);
    expect(revoked).toBeInstanceOf(KioskError);
    expect((revoked as KioskError).code).toBe('REVOKED');
    expect((revoked as KioskError).message).toContain(license.id);
    expect((revoked as KioskError).httpStatus).toBe(new KioskError('REVOKED', '').httpStatus);
    expect(await deps.storage.countActiveActivations(license.id)).toBe(0);
  });

  it('a thread without signing keys refuses before it takes a seat', async () => {
    const { deps, threaded } = await setup({ keys: false });
    const { licenseKey, license } = await createLicense(deps, { tenant: 't1', features: [], maxDevices: 3, days: 30, actor: 'test' });
    const err = await activate(threaded, { licenseKey, request: await makeActivationRequest(ISSUER, physicalDevice(3)), mode: 'online', actor: 'test' }).catch((e: unknown) => e as KioskError);
    expect((err as KioskError).code).toBe('KEYS_MISSING');
    expect(await deps.storage.countActiveActivations(license.id)).toBe(0);
  });

  it('close() lets the activations in flight finish, then refuses new ones', async () => {
    const { deps, threaded, close } = await setup();
    const { licenseKey } = await createLicense(deps, { tenant: 't1', features: [], maxDevices: 100, days: 30, actor: 'test' });
    const requests = await Promise.all(Array.from({ length: 40 }, (_, i) => makeActivationRequest(ISSUER, physicalDevice(100 + i))));
    const inFlight = Promise.allSettled(requests.map((request) => activate(threaded, { licenseKey, request, mode: 'online', actor: 'test' })));
    await new Promise((r) => setImmediate(r)); // the requests are posted
    await close();
    const results = await inFlight;
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(40);
    const late = await activate(threaded, { licenseKey, request: await makeActivationRequest(ISSUER, physicalDevice(999)), mode: 'online', actor: 'test' }).catch((e: unknown) => e as KioskError);
    expect((late as KioskError).code).toBe('STORAGE_ERROR');
  });
});

describe('the seat worker starting', () => {
  it('ready() resolves once the thread has its connection and signer; a thread that cannot open the database says why', async () => {
    const dir = makeTempDir();
    await generateKey(join(dir, 'keys'), { issuer: ISSUER });
    const good = startSeatWorker({ file: join(dir, 'server.db'), keysDir: join(dir, 'keys') });
    onTestFinished(() => good.close());
    await expect(good.ready()).resolves.toBeUndefined();

    writeFileSync(join(dir, 'not-a-dir'), 'x');
    const bad = startSeatWorker({ file: join(dir, 'not-a-dir', 'server.db'), keysDir: join(dir, 'keys') });
    onTestFinished(() => bad.close());
    const err = await bad.ready().catch((e: unknown) => e as KioskError);
    expect(err).toBeInstanceOf(KioskError);
    expect((err as KioskError).message).toMatch(/^the activation thread cannot start: cannot create .*not-a-dir/);
  });
});

describe('the token is signed after the commit', () => {
  it('a signer that fails leaves the seat recorded; the device comes back and reuses it', async () => {
    const { deps } = await setup();
    const { licenseKey, license } = await createLicense(deps, { tenant: 't1', features: [], maxDevices: 1, days: 30, actor: 'test' });
    const request = await makeActivationRequest(ISSUER, physicalDevice(42));
    const broken: DocumentSigner = { ...deps.signer, signLicense: () => Promise.reject(new KioskError('KEYS_INVALID', 'the key directory changed under the signer')) };
    const failed = await activate({ ...deps, signer: broken }, { licenseKey, request, mode: 'online', actor: 'test' }).catch((e: unknown) => e as KioskError);
    expect((failed as KioskError).code).toBe('KEYS_INVALID');
    expect(await deps.storage.countActiveActivations(license.id)).toBe(1); // the only seat, held by this device
    const retried = await activate(deps, { licenseKey, request, mode: 'online', actor: 'test' });
    expect(retried.seat).toBe('reused');
    // takeSeatAndSign is what the thread runs: the same outcome in process
    const again = await takeSeatAndSign(deps.storage, deps.signer, { keyHash: retried.license.keyHash, request, devicePublicJwk: retried.activation.devicePublicJwk, virtualReason: null, mode: 'online', actor: 'test' }, { nowMs: deps.clock.nowMs(), activationId: 'act_00000000000000000000', jti: 'j-test', issuer: ISSUER });
    expect(again.seat).toBe('reused');
  });
});
