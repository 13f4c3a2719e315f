// `license-server activate-offline` end to end in-process: request file in, signed token out,
// checked the way an agent would check it (jose against jwks.json, the shared claims schema).
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../common/clock.ts';
import { generateLicenseKey } from '../../../common/license-key.ts';
import { DOCUMENT_TYPES, LICENSE_AUDIENCE, licenseClaimsSchema, type ActivationRequest, type LicenseClaims } from '../../../common/license-token.ts';
import { makeActivationRequest, physicalDevice, type FakeDevice } from '../../helpers/activation-request.ts';
import { allFiles, serverFixture, type ServerFixture } from './helpers/server-fixture.ts';

const NOW = Date.UTC(2027, 2, 1, 12, 0, 0);
const ISSUER = 'urn:kiosk:vendor:test-vendor';

async function verify(s: ServerFixture, token: string, at = new Date(NOW)): Promise<LicenseClaims> {
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(s.jwks() as never), {
    algorithms: ['ES256'],
    typ: DOCUMENT_TYPES.license,
    issuer: ISSUER,
    audience: LICENSE_AUDIENCE,
    currentDate: at,
  });
  expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'kiosk-license+jwt', kid: expect.stringMatching(/^[0-9a-f]{16}$/) });
  return licenseClaimsSchema.parse(payload);
}

async function activateDevice(s: ServerFixture, key: string, device: FakeDevice | ActivationRequest, name = 'req.json') {
  const request = 'raw' in device ? await makeActivationRequest(ISSUER, device) : device;
  const requestFile = s.writeJson(name, request);
  const out = join(s.cwd, `${name}.token`);
  const r = await s.run(['activate-offline', '--key', key, '--request', requestFile, '--out', out]);
  return { r, request, out, token: existsSync(out) ? readFileSync(out, 'utf8').trim() : undefined };
}

describe('license-server activate-offline', () => {
  it('writes a token that verifies against jwks.json and passes the claims schema', async () => {
    const s = await serverFixture({ clock: fixedClock(NOW) });
    const { key, id } = await s.createLicense(['--max-devices', '2', '--days', '365', '--grace-days', '5']);
    const { r, request, out, token } = await activateDevice(s, key, physicalDevice(1));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(statSync(out).mode & 0o777).toBe(0o644);
    const claims = await verify(s, token!);
    const nowS = NOW / 1000;
    expect(claims).toEqual({
      iss: ISSUER,
      aud: 'kiosk-agent',
      sub: id,
      jti: expect.any(String),
      iat: nowS,
      nbf: nowS,
      exp: nowS + 365 * 86_400, // air-gapped: to the license's end
      lexp: nowS + 365 * 86_400,
      tenant: 'shop-1',
      features: ['pos', 'sync'],
      grace: 5 * 86_400,
      device: { v: 1, id: request.deviceId, components: request.components },
      cnf: { jkt: request.jkt },
    });
    expect(decodeProtectedHeader(token!).kid).toBe(s.jwks().keys[0]!.kid);
    // the summary names the device and the expiry, never the token
    expect(r.stdout).toContain(`activated device ${request.deviceId} on license ${id} (seat 1 of 2 in use)`);
    expect(r.stdout).toContain('valid until 2028-02-29T12:00:00Z');
    expect(r.stdout).not.toContain(token!.split('.')[2]!);

    const show = await s.run(['license', 'show', id, '--json']);
    expect(show.json().activations).toMatchObject([{ deviceId: request.deviceId, status: 'active', mode: 'offline', lastTokenJti: claims.jti }]);
  });

  it('--out - prints only the token on stdout, the summary on stderr', async () => {
    const s = await serverFixture({ clock: fixedClock(NOW) });
    const { key } = await s.createLicense();
    const requestFile = s.writeJson('req.json', await makeActivationRequest(ISSUER, physicalDevice(1)));
    const r = await s.run(['activate-offline', '--key', key, '--request', requestFile, '--out', '-']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    await verify(s, r.stdout.trim());
    expect(r.stderr).toMatch(/activated device/);
  });

  it('refuses a device beyond max devices with SEATS_FULL (exit 3) and writes no token', async () => {
    const s = await serverFixture();
    const { key, id } = await s.createLicense(['--max-devices', '2', '--days', '30']);
    for (const n of [1, 2]) expect((await activateDevice(s, key, physicalDevice(n), `d${n}.json`)).r.code).toBe(0);
    const third = await activateDevice(s, key, physicalDevice(3), 'd3.json');
    expect(third.r.code).toBe(3);
    expect(third.r.stderr).toMatch(/^error SEATS_FULL: all 2 seat\(s\) of license lic_\w+ are taken/);
    expect(third.token).toBeUndefined();
    const show = await s.run(['license', 'show', id, '--json']);
    expect(show.json().license.activeDevices).toBe(2);
  });

  it('a re-request from the same device, or after a NIC swap and a new device key, reuses its seat and device id', async () => {
    const s = await serverFixture();
    const { key, id } = await s.createLicense(['--max-devices', '1', '--days', '30']);
    const device = physicalDevice(4);
    const first = await activateDevice(s, key, device, 'first.json');
    expect(first.r.code, first.r.stderr).toBe(0);
    const firstClaims = await verify(s, first.token!, new Date());

    // renewal: the same request again
    const again = await activateDevice(s, key, first.request, 'again.json');
    expect(again.r.code, again.r.stderr).toBe(0);
    expect(again.r.stdout).toContain('renewed device');
    const againClaims = await verify(s, again.token!, new Date());
    expect(againClaims.device.id).toBe(firstClaims.device.id);
    expect(againClaims.jti).not.toBe(firstClaims.jti);

    // a swapped NIC and a reinstalled OS (new machine id, new device key): same hardware otherwise
    const swapped = await activateDevice(s, key, { raw: { ...device.raw, mac: '00:1b:21:ff:ff:ff', machine_id: 'reinstalled' } }, 'swapped.json');
    expect(swapped.r.code, swapped.r.stderr).toBe(0);
    expect(swapped.request.deviceId).not.toBe(first.request.deviceId);
    const swappedClaims = await verify(s, swapped.token!, new Date());
    expect(swappedClaims.device.id).toBe(first.request.deviceId); // the device id of record
    expect(swappedClaims.device.components).toEqual(swapped.request.components);
    expect(swappedClaims.cnf.jkt).toBe(swapped.request.jkt);
    expect(swapped.r.stdout).toContain(`renewed device ${first.request.deviceId}`);

    const show = await s.run(['license', 'show', id, '--json']);
    expect(show.json().activations).toHaveLength(1);
    expect(show.json().activations[0]).toMatchObject({ deviceId: first.request.deviceId, jkt: swapped.request.jkt, lastTokenJti: swappedClaims.jti });

    // a disk image on other hardware is another device: the single seat is taken
    const clone = await activateDevice(s, key, { raw: { ...physicalDevice(5).raw, storage_id: device.raw.storage_id!, machine_id: device.raw.machine_id! } }, 'clone.json');
    expect(clone.r.code).toBe(3);
    expect(clone.r.stderr).toMatch(/^error SEATS_FULL/);
  });

  it('refuses a revoked license (REVOKED), an expired one (EXPIRED), an unknown key and a typo', async () => {
    const clock = fixedClock(NOW);
    const s = await serverFixture({ clock });
    const revoked = await s.createLicense();
    expect((await s.run(['license', 'revoke', revoked.id])).code).toBe(0);
    const r1 = await activateDevice(s, revoked.key, physicalDevice(1), 'r1.json');
    expect(r1.r.code).toBe(3);
    expect(r1.r.stderr).toMatch(/^error REVOKED: license lic_\w+ was revoked on 2027-03-01T12:00:00Z/);

    const short = await s.createLicense(['--max-devices', '2', '--days', '10']);
    clock.advance(10 * 86_400_000);
    const r2 = await activateDevice(s, short.key, physicalDevice(1), 'r2.json');
    expect(r2.r.code).toBe(3);
    expect(r2.r.stderr).toMatch(/^error EXPIRED: /);

    const r3 = await activateDevice(s, generateLicenseKey(), physicalDevice(1), 'r3.json');
    expect(r3.r.code).toBe(3);
    expect(r3.r.stderr).toMatch(/^error LICENSE_KEY_UNKNOWN: /);

    const k = short.key;
    const typo = `${k.slice(0, 7)}${k[8]}${k[7]}${k.slice(9)}`;
    const r4 = await activateDevice(s, k[7] === k[8] ? `X${k.slice(1)}` : typo, physicalDevice(1), 'r4.json');
    expect(r4.r.code).toBe(3);
    expect(r4.r.stderr).toMatch(/^error LICENSE_KEY_MALFORMED: /);
    for (const r of [r1, r2, r3, r4]) expect(r.token).toBeUndefined();
  });

  it('refuses a request made for another vendor (ACTIVATION_REQUEST_INVALID, exit 2)', async () => {
    const s = await serverFixture();
    const { key } = await s.createLicense();
    const foreign = await makeActivationRequest('urn:kiosk:vendor:someone-else', physicalDevice(1));
    const r = await activateDevice(s, key, foreign);
    expect(r.r.code).toBe(2);
    expect(r.r.stderr).toMatch(/^error ACTIVATION_REQUEST_INVALID: .*another vendor's key set/);
  });

  it('refuses a VM without --allow-virtual (VIRTUAL_NOT_ALLOWED) and accepts it with', async () => {
    const s = await serverFixture();
    const strict = await s.createLicense();
    const vm: FakeDevice = { ...physicalDevice(1), virtualization: 'kvm' };
    const r = await activateDevice(s, strict.key, vm, 'vm1.json');
    expect(r.r.code).toBe(3);
    expect(r.r.stderr).toMatch(/^error VIRTUAL_NOT_ALLOWED: .*virtual machine \(kvm\)/);
    const weak = await activateDevice(s, strict.key, { raw: { machine_id: 'only-this' } }, 'weak.json');
    expect(weak.r.stderr).toMatch(/^error VIRTUAL_NOT_ALLOWED: .*only machine_id/);

    const lax = await s.createLicense(['--max-devices', '1', '--days', '30', '--allow-virtual']);
    const ok = await activateDevice(s, lax.key, vm, 'vm2.json');
    expect(ok.r.code, ok.r.stderr).toBe(0);
    const ct = await activateDevice(s, lax.key, { raw: { machine_id: 'only-this' }, container: 'docker' }, 'ct.json');
    expect(ct.r.stderr).toMatch(/^error SEATS_FULL/); // allowed, but the one seat is the VM's
  });

  it('refuses request files that are not requests, too large, or missing', async () => {
    const s = await serverFixture();
    const { key } = await s.createLicense();
    const notJson = join(s.cwd, 'bad.json');
    writeFileSync(notJson, 'hello');
    const big = join(s.cwd, 'big.json');
    writeFileSync(big, `{"pad":"${'x'.repeat(70_000)}"}`);
    const cases: Array<[string, number, string]> = [
      [notJson, 2, 'ACTIVATION_REQUEST_INVALID'],
      [s.writeJson('wrong.json', { type: 'kiosk-activation-request', v: 2 }), 2, 'ACTIVATION_REQUEST_INVALID'],
      [big, 2, 'PAYLOAD_TOO_LARGE'],
      [join(s.cwd, 'missing.json'), 1, 'IO_ERROR'],
    ];
    for (const [file, code, error] of cases) {
      const r = await s.run(['activate-offline', '--key', key, '--request', file, '--out', join(s.cwd, 'tok')]);
      expect(r.code, file).toBe(code);
      expect(r.stderr).toMatch(new RegExp(`^error ${error}: `));
    }
    expect(existsSync(join(s.cwd, 'tok'))).toBe(false);
  });

  it('without keys: KEYS_MISSING (exit 1), and no database is made', async () => {
    const s = await serverFixture({ withKeys: false });
    const requestFile = s.writeJson('req.json', await makeActivationRequest(ISSUER, physicalDevice(1)));
    const r = await s.run(['activate-offline', '--key', generateLicenseKey(), '--request', requestFile, '--out', join(s.cwd, 'tok')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error KEYS_MISSING: no signing keys in .*keys: run license-server keys generate --out /);
    expect(existsSync(join(s.dataDir, 'server.db'))).toBe(false);
  });

  it('after rotation (keys generate + keys activate), tokens carry the new kid and verify against both', async () => {
    const s = await serverFixture();
    const { key } = await s.createLicense(['--max-devices', '5', '--days', '30']);
    const before = await activateDevice(s, key, physicalDevice(1), 'a.json');
    expect((await s.run(['keys', 'generate'])).code).toBe(0);
    const next = s.jwks().keys[1]!.kid;
    expect((await s.run(['keys', 'activate', next])).code).toBe(0);
    const after = await activateDevice(s, key, physicalDevice(2), 'b.json');
    expect(decodeProtectedHeader(after.token!).kid).toBe(next);
    expect(decodeProtectedHeader(before.token!).kid).not.toBe(next);
    await verify(s, before.token!, new Date());
    await verify(s, after.token!, new Date());
  });

  it('leaks neither license keys nor private keys into stderr or any other file', async () => {
    const s = await serverFixture();
    const lic = await s.createLicense(['--max-devices', '1', '--days', '30']);
    await activateDevice(s, lic.key, physicalDevice(1), 'one.json');
    await activateDevice(s, lic.key, physicalDevice(2), 'two.json'); // refused: seats full
    await activateDevice(s, `${lic.key.slice(0, -1)}${lic.key.endsWith('0') ? '1' : '0'}`, physicalDevice(3), 'three.json'); // typo
    await s.run(['license', 'show', lic.key]);
    await s.run(['license', 'revoke', lic.key]);
    await activateDevice(s, lic.key, physicalDevice(1), 'four.json'); // refused: revoked

    const pems = allFiles(s.keysDir).filter((f) => f.endsWith('.private.pem'));
    const secrets = [lic.key, lic.key.replace(/-/g, ''), ...pems.map((f) => readFileSync(f, 'utf8').split('\n')[1]!)];
    for (const file of allFiles(s.cwd).filter((f) => !f.endsWith('.private.pem'))) {
      const content = readFileSync(file).toString('latin1');
      for (const secret of secrets) expect(content.includes(secret), `a secret in ${file}`).toBe(false);
    }
    for (const err of s.stderrLog) for (const secret of secrets) expect(err).not.toContain(secret);
  });
});
