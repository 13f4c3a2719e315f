// The revocation list (domain/revocations.ts, revocation-rules.ts): versions rise in the same
// transaction as every change, contents follow docs/revocation.md, the signed document is what
// an agent accepts, and a change made by another connection shows at once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { DOCUMENT_TYPES } from '../../../common/license-token.ts';
import { revocationListClaimsSchema } from '../../../common/revocation-list.ts';
import { deactivateDevice } from '../../../license-server/src/domain/deactivation.ts';
import { revokeLicense } from '../../../license-server/src/domain/licenses.ts';
import { REVOCATION_MARGIN_S } from '../../../license-server/src/domain/revocation-rules.ts';
import { currentRevocationList } from '../../../license-server/src/domain/revocations.ts';
import { DAY_MS, ISSUER, makeTestDevice, NOW_S, onlineFixture, type OnlineFixture } from './helpers/online-fixture.ts';

async function decodeList(f: OnlineFixture, list: string) {
  const jwks = createLocalJWKSet(JSON.parse(readFileSync(join(f.keysDir, 'jwks.json'), 'utf8')));
  const { payload, protectedHeader } = await compactVerify(list, jwks, { algorithms: ['ES256'] });
  expect(protectedHeader.typ).toBe(DOCUMENT_TYPES.revocationList);
  return revocationListClaimsSchema.parse(JSON.parse(new TextDecoder().decode(payload)));
}

describe('revocation list', () => {
  it('starts at version 0, empty, signed as kiosk-revocations+jwt for the agents', async () => {
    const f = await onlineFixture();
    const { list, version } = await currentRevocationList(f.deps);
    expect(version).toBe(0);
    expect(decodeProtectedHeader(list)).toEqual({ alg: 'ES256', typ: 'kiosk-revocations+jwt', kid: f.deps.signer.kid });
    expect(await decodeList(f, list)).toEqual({ iss: ISSUER, aud: 'kiosk-agent', iat: NOW_S, version: 0, licenses: [], devices: [], tokens: [] });
  });

  it('a license revoke lists the license in the same transaction; a second revoke changes nothing', async () => {
    const f = await onlineFixture();
    const { license } = await f.createLicense({ graceDays: 3 });
    const first = await revokeLicense(f.deps, { ref: license.id, actor: 'test' });
    expect(first).toMatchObject({ changed: true, revocationVersion: 1 });
    const again = await revokeLicense(f.deps, { ref: license.id, actor: 'test' });
    expect(again).toMatchObject({ changed: false, revocationVersion: 1 });
    const { list, version } = await currentRevocationList(f.deps);
    expect(version).toBe(1);
    expect((await decodeList(f, list)).licenses).toEqual([license.id]);
    expect(await f.deps.storage.getRevocationEntry('license', license.id)).toEqual({
      kind: 'license',
      value: license.id,
      untilS: license.expiresAtMs / 1000 + 3 * 86_400 + REVOCATION_MARGIN_S,
    });
    expect((await f.deps.storage.listAudit({ licenseId: license.id })).at(-1)).toMatchObject({ action: 'license.revoke', details: { revocationVersion: 1 } });
  });

  it('a deactivation lists the device id; a device holding another seat gets its seat\'s tokens listed instead', async () => {
    const f = await onlineFixture();
    const a = await f.createLicense();
    const b = await f.createLicense();
    const device = await makeTestDevice(1);
    const onA = await f.activate(a.licenseKey, device);
    const onB = await f.activate(b.licenseKey, device);
    const first = await deactivateDevice(f.deps, { licenseRef: a.license.id, deviceId: device.deviceId, actor: 'test' });
    expect(first.revocationVersion).toBe(1);
    let claims = await decodeList(f, (await currentRevocationList(f.deps)).list);
    expect(claims).toMatchObject({ version: 1, devices: [], tokens: [onA.claims.jti] }); // its seat on B keeps working
    const second = await deactivateDevice(f.deps, { licenseRef: b.license.id, deviceId: device.deviceId, actor: 'test' });
    expect(second.revocationVersion).toBe(2);
    claims = await decodeList(f, (await currentRevocationList(f.deps)).list);
    expect(claims).toMatchObject({ version: 2, devices: [device.deviceId], tokens: [onA.claims.jti] });
    expect(claims.tokens).not.toContain(onB.claims.jti); // covered by the device id
  });

  it('a listed device activated again leaves the list; its old token is listed in its place', async () => {
    const f = await onlineFixture();
    const { licenseKey, license } = await f.createLicense({ maxDevices: 1 });
    const device = await makeTestDevice(1);
    const first = await f.activate(licenseKey, device);
    await deactivateDevice(f.deps, { licenseRef: license.id, deviceId: device.deviceId, actor: 'test' });
    f.deps.clock.advance(DAY_MS);
    const again = await f.activate(licenseKey, device); // the same device and key: a new seat
    expect(again.seat).toBe('new');
    expect(again.activation.id).not.toBe(first.activation.id);
    const { list, version } = await currentRevocationList(f.deps);
    expect(version).toBe(2);
    const claims = await decodeList(f, list);
    expect(claims.devices).toEqual([]);
    expect(claims.tokens).toEqual([first.claims.jti]);
    expect(claims.tokens).not.toContain(again.claims.jti);
  });

  it('a seat activated again with another device key supersedes its earlier tokens; the same key changes nothing', async () => {
    const f = await onlineFixture();
    const { licenseKey } = await f.createLicense();
    const device = await makeTestDevice(1);
    const first = await f.activate(licenseKey, device);
    const renewed = await f.activate(licenseKey, device); // same key: an ordinary renewal
    expect(await f.deps.storage.getRevocationVersion()).toBe(0);
    const rekeyed = await f.activate(licenseKey, await makeTestDevice(1));
    expect(rekeyed.seat).toBe('reused');
    const claims = await decodeList(f, (await currentRevocationList(f.deps)).list);
    expect(claims.version).toBe(1);
    expect([...claims.tokens].sort()).toEqual([first.claims.jti, renewed.claims.jti].sort());
  });

  it('signs once per version: the same document until the version moves, also when another connection moves it', async () => {
    const f = await onlineFixture();
    const { license } = await f.createLicense();
    const one = await currentRevocationList(f.deps);
    f.deps.clock.advance(60_000);
    const two = await currentRevocationList(f.deps);
    expect(two.list).toBe(one.list); // cached: the same iat, not signed again

    // `license revoke` from the CLI: another connection to the same database
    const cli = await f.openOtherStorage();
    await revokeLicense({ storage: cli, clock: f.deps.clock, random: f.deps.random }, { ref: license.id, actor: 'cli' });
    const three = await currentRevocationList(f.deps);
    expect(three.version).toBe(1);
    expect((await decodeList(f, three.list)).licenses).toEqual([license.id]);
    expect((await decodeList(f, three.list)).iat).toBe(NOW_S + 60);
  });

  it('entries leave the list once an agent would refuse them by time anyway (exp + grace + margin)', async () => {
    const f = await onlineFixture();
    const { licenseKey, license } = await f.createLicense({ maxDevices: 2, graceDays: 2 });
    const device = await makeTestDevice(1);
    const first = await f.activate(licenseKey, device);
    await f.activate(licenseKey, await makeTestDevice(1)); // re-key: first token superseded
    const tokenUntil = first.claims.exp + 2 * 86_400 + REVOCATION_MARGIN_S;
    expect((await f.deps.storage.readRevocations(tokenUntil - 1)).tokens).toEqual([first.claims.jti]);
    expect((await f.deps.storage.readRevocations(tokenUntil)).tokens).toEqual([]);
    await revokeLicense(f.deps, { ref: license.id, actor: 'test' });
    const licenseUntil = license.expiresAtMs / 1000 + 2 * 86_400 + REVOCATION_MARGIN_S;
    expect((await f.deps.storage.readRevocations(licenseUntil - 1)).licenses).toEqual([license.id]);
    expect((await f.deps.storage.readRevocations(licenseUntil)).licenses).toEqual([]);
  });

  it('the version strictly increases across many concurrent changes', async () => {
    const f = await onlineFixture();
    const made = await Promise.all(Array.from({ length: 6 }, () => f.createLicense()));
    const devices = await Promise.all(made.map((_, i) => makeTestDevice(i + 1)));
    await Promise.all(made.map((m, i) => f.activate(m.licenseKey, devices[i]!)));
    const results = await Promise.all(
      made.flatMap((m, i) => [
        revokeLicense(f.deps, { ref: m.license.id, actor: 'test' }).then((r) => r.revocationVersion),
        deactivateDevice(f.deps, { licenseRef: m.license.id, deviceId: devices[i]!.deviceId, actor: 'test' }).then((r) => r.revocationVersion),
      ]),
    );
    expect([...results].sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const claims = await decodeList(f, (await currentRevocationList(f.deps)).list);
    expect(claims.version).toBe(12);
    expect(claims.licenses).toHaveLength(6);
    expect(claims.devices).toHaveLength(6);
  });

  it('an agent-side check: every id it needs is in the list an agent downloads after a deactivation', async () => {
    const f = await onlineFixture();
    const { licenseKey, license } = await f.createLicense();
    const device = await makeTestDevice(7);
    const seat = await f.activate(licenseKey, device);
    const outcome = await deactivateDevice(f.deps, { licenseRef: license.id, deviceId: device.deviceId, actor: 'test' });
    const { list, version } = await currentRevocationList(f.deps);
    expect(version).toBe(outcome.revocationVersion);
    const claims = await decodeList(f, list);
    // the agent refuses a token whose device.id, sub or jti is listed
    expect(claims.devices.includes(seat.claims.device.id) || claims.tokens.includes(seat.claims.jti)).toBe(true);
  });
});
