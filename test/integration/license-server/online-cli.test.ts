// `license-server admin create-token`, `device deactivate` and `deactivation import` in-process
// against a real data dir; and a CLI revoke seen at once by a running server's revocation list.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../common/clock.ts';
import { authenticateApiToken } from '../../../license-server/src/domain/api-tokens.ts';
import { createRevocationListCache } from '../../../license-server/src/domain/revocation-list-cache.ts';
import { currentRevocationList } from '../../../license-server/src/domain/revocations.ts';
import { deviceKeyThumbprint } from '../../../license-server/src/signing/device-key.ts';
import { verifyEs256 } from '../../../license-server/src/signing/jws-verify.ts';
import { createServerKeySetReader } from '../../../license-server/src/signing/server-key-set.ts';
import { loadSigner } from '../../../license-server/src/signing/signer.ts';
import { openSqliteStorage } from '../../../license-server/src/storage/sqlite/sqlite-storage.ts';
import { makeTestDevice, NOW, signDeactivationFile, type TestDevice } from './helpers/online-fixture.ts';
import { allFiles, serverFixture, type ServerFixture } from './helpers/server-fixture.ts';

const ISSUER = 'urn:kiosk:vendor:test-vendor'; // what serverFixture's keys carry

async function offlineSeat(s: ServerFixture, key: string, n = 1): Promise<{ device: TestDevice; token: string }> {
  const device = await makeTestDevice(n, { issuer: ISSUER });
  const request = s.writeJson(`req-${n}.json`, device.request);
  const r = await s.run(['activate-offline', '--key', key, '--request', request, '--out', '-']);
  expect(r.code, r.stderr).toBe(0);
  return { device, token: r.stdout.trim() };
}

describe('license-server admin create-token', () => {
  it('prints the token as the last word, once; admin scope by default; only its hash is stored', async () => {
    const clock = fixedClock(NOW);
    const s = await serverFixture({ clock });
    const r = await s.run(['admin', 'create-token', '--name', 'ops']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.lastWord).toMatch(/^kat_[A-Za-z0-9_-]{43}$/);
    expect(r.stdout).toMatch(/API token atk_[0-9a-f]{20} "ops" created \(scopes: admin\)/);

    const storage = await openSqliteStorage({ file: join(s.dataDir, 'server.db') });
    try {
      const record = await authenticateApiToken({ storage, clock, random: () => new Uint8Array(0) }, r.lastWord);
      expect(record).toMatchObject({ name: 'ops', scopes: ['admin'] });
    } finally {
      await storage.close();
    }
    for (const file of allFiles(s.dataDir).filter((f) => !f.endsWith('.pem'))) {
      expect(readFileSync(file).toString('latin1').includes(r.lastWord.slice(4)), file).toBe(false);
    }
  });

  it('--scopes a,b and --json; an unknown scope is a usage error that prints no token', async () => {
    const s = await serverFixture();
    const r = await s.run(['admin', 'create-token', '--scopes', 'licenses:read, audit:read', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json<{ token: string; record: { id: string; name: string; scopes: string[] } }>();
    expect(out.token).toMatch(/^kat_/);
    expect(out.record).toMatchObject({ name: 'cli', scopes: ['licenses:read', 'audit:read'] });
    const bad = await s.run(['admin', 'create-token', '--scopes', 'licenses:read,root']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error VALIDATION_FAILED: unknown scope\(s\) root/);
    expect(bad.stdout).not.toMatch(/kat_/);
  });
});

describe('license-server device deactivate', () => {
  it('frees the seat by license key or id; again is fine; an unknown device is NOT_FOUND', async () => {
    const s = await serverFixture({ clock: fixedClock(NOW) });
    const { key, id } = await s.createLicense(['--max-devices', '1', '--days', '365']);
    const { device } = await offlineSeat(s, key);
    const r = await s.run(['device', 'deactivate', '--license', key, '--device', device.deviceId]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`device ${device.deviceId} holds no seat of license ${id} now (revocation list version 1)`);
    const again = await s.run(['device', 'deactivate', '--license', id, '--device', device.deviceId, '--json']);
    expect(again.json()).toEqual({ deactivated: true, licenseId: id, deviceId: device.deviceId, revocationVersion: 1 });
    const show = await s.run(['license', 'show', id, '--json']);
    expect(show.json().activations.map((a: { status: string }) => a.status)).toEqual(['deactivated']);
    // the seat is free for another device
    await offlineSeat(s, key, 2);

    const unknown = await s.run(['device', 'deactivate', '--license', id, '--device', 'e'.repeat(32)]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error NOT_FOUND: /);
    const usage = await s.run(['device', 'deactivate', '--license', id]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^error USAGE: --device is required/);
  });
});

describe('license-server deactivation import', () => {
  it('frees the seat with the device-signed file; importing it again gives the same outcome', async () => {
    const s = await serverFixture({ clock: fixedClock(NOW) });
    const { key, id } = await s.createLicense();
    const { device, token } = await offlineSeat(s, key);
    const file = join(s.cwd, 'deactivation.jwt');
    writeFileSync(file, `${await signDeactivationFile(device, token)}\n`);
    const first = await s.run(['deactivation', 'import', file, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json()).toEqual({ deactivated: true, licenseId: id, deviceId: device.deviceId, revocationVersion: 1 });
    const second = await s.run(['deactivation', 'import', 'deactivation.jwt', '--json']); // relative to the cwd
    expect(second.json()).toEqual(first.json());
  });

  it('refuses a file signed by another key, and reports a missing file as an I/O error', async () => {
    const s = await serverFixture({ clock: fixedClock(NOW) });
    const { key } = await s.createLicense();
    const { token } = await offlineSeat(s, key);
    const impostor = await makeTestDevice(1, { issuer: ISSUER });
    const file = join(s.cwd, 'forged.jwt');
    writeFileSync(file, await signDeactivationFile(impostor, token));
    const r = await s.run(['deactivation', 'import', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error UNAUTHORIZED: /);
    const missing = await s.run(['deactivation', 'import', join(s.cwd, 'nope.jwt')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error IO_ERROR: /);
  });
});

describe('a CLI change and a running server', () => {
  it('license revoke in another process shows in the running server\'s revocation list at once', async () => {
    const clock = fixedClock(NOW);
    const s = await serverFixture({ clock });
    const { key, id } = await s.createLicense();
    const storage = await openSqliteStorage({ file: join(s.dataDir, 'server.db') });
    try {
      const server = {
        storage,
        clock,
        random: () => new Uint8Array(16),
        signer: loadSigner(s.keysDir),
        deviceKeyThumbprint,
        verifyEs256,
        serverKeySet: createServerKeySetReader(s.keysDir),
        revocationCache: createRevocationListCache(),
      };
      expect((await currentRevocationList(server)).version).toBe(0);
      expect((await s.run(['license', 'revoke', key])).code).toBe(0);
      const after = await currentRevocationList(server);
      expect(after.version).toBe(1);
      const payload = JSON.parse(Buffer.from(after.list.split('.')[1]!, 'base64url').toString());
      expect(payload.licenses).toEqual([id]);
    } finally {
      await storage.close();
    }
  });
});
