// The vendor API through inject(): licenses (the key shown once), devices, deactivation, audit
// paging, and the error shape for bad input, wrong media types, oversized bodies and 404s.
import { describe, expect, it } from 'vitest';
import { errorBodySchema } from '../../../common/device-api.ts';
import { httpFixture } from './helpers/http-fixture.ts';

describe('vendor API: licenses', () => {
  it('creates a license (201, the key once), lists, shows and revokes it', async () => {
    const f = await httpFixture();
    const created = await f.post('/v1/licenses', { tenant: 'acme', features: ['pos'], maxDevices: 2, days: 30, graceDays: 3, allowVirtual: true });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { license, licenseKey } = created.json();
    expect(licenseKey).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}-[0-9A-Z]{2}$/);
    expect(license).toMatchObject({ tenant: 'acme', features: ['pos'], maxDevices: 2, activeDevices: 0, graceSeconds: 3 * 86_400, allowVirtual: true, status: 'active', revokedAt: null });
    expect(license.keyHint).toBe(licenseKey.replace(/-/g, '').slice(-4));

    f.clock.advance(1000);
    await f.createLicense({ tenant: 'other' });
    const all = await f.get('/v1/licenses');
    expect(all.statusCode).toBe(200);
    expect(all.json().licenses.map((l: { tenant: string }) => l.tenant)).toEqual(['acme', 'other']);
    const acme = await f.get('/v1/licenses?tenant=acme');
    expect(acme.json().licenses).toHaveLength(1);
    expect(all.body).not.toContain(licenseKey);

    for (const ref of [license.id, licenseKey, licenseKey.toLowerCase()]) {
      const shown = await f.get(`/v1/licenses/${encodeURIComponent(ref)}`);
      expect(shown.statusCode, shown.body).toBe(200);
      expect(shown.json()).toEqual({ license: { ...license }, devices: [] });
      expect(shown.body).not.toContain(licenseKey);
    }

    const revoked = await f.post(`/v1/licenses/${license.id}/revoke`);
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(revoked.json()).toMatchObject({ changed: true, license: { id: license.id, status: 'revoked' } });
    const again = await f.post(`/v1/licenses/${license.id}/revoke`, {});
    expect(again.json()).toMatchObject({ changed: false });
    const device = await f.device(1);
    const refused = await f.post('/v1/activations', { licenseKey, request: device.request }, null);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('REVOKED');
  });

  it('validates input at the edge: VALIDATION_FAILED naming the field', async () => {
    const f = await httpFixture();
    const cases: Array<[unknown, RegExp]> = [
      [{ tenant: 'a', features: [], maxDevices: 0, days: 1 }, /maxDevices/],
      [{ tenant: 'a', features: [], maxDevices: 1 }, /days or expires/],
      [{ tenant: 'a', features: [], maxDevices: 1, days: 1, expires: '2030-01-01' }, /days or expires/],
      [{ tenant: 'a', features: [], maxDevices: 1, days: 1, extra: true }, /extra|unrecognized/i],
      [{ tenant: 'bad tenant!', features: [], maxDevices: 1, days: 1 }, /tenant/],
      [{ tenant: 'a', features: ['ok', 'not ok'], maxDevices: 1, days: 1 }, /feature/],
      [{ tenant: 'a', features: [], maxDevices: 1, expires: '2020-13-45' }, /expir|date/],
      [[1, 2], /body/],
    ];
    for (const [body, message] of cases) {
      const res = await f.post('/v1/licenses', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      const parsed = errorBodySchema.parse(res.json());
      expect(parsed.error.code).toBe('VALIDATION_FAILED');
      expect(parsed.error.message).toMatch(message);
    }
    expect((await f.get('/v1/licenses?tenant=a&bogus=1')).json().error.code).toBe('VALIDATION_FAILED');
    expect((await f.get('/v1/audit?limit=0')).json().error.code).toBe('VALIDATION_FAILED');
    expect((await f.get('/v1/audit?limit=abc')).json().error.code).toBe('VALIDATION_FAILED');
  });

  it('unknown licenses: NOT_FOUND for ids, LICENSE_KEY_UNKNOWN / MALFORMED for keys', async () => {
    const f = await httpFixture();
    const id = await f.get('/v1/licenses/lic_00000000000000000000');
    expect([id.statusCode, id.json().error.code]).toEqual([404, 'NOT_FOUND']);
    const key = await f.get('/v1/licenses/00000-00000-00000-00000-00');
    expect([key.statusCode, key.json().error.code]).toEqual([404, 'LICENSE_KEY_UNKNOWN']);
    const bad = await f.get('/v1/licenses/not-a-key');
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, 'LICENSE_KEY_MALFORMED']);
  });

  it("fastify's own errors have the same shape: bad JSON, wrong media type, too large, 404", async () => {
    const f = await httpFixture();
    const auth = { authorization: `Bearer ${f.adminToken}` };
    const badJson = await f.app.inject({ method: 'POST', url: '/v1/licenses', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"tenant":' });
    expect([badJson.statusCode, badJson.json().error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const empty = await f.app.inject({ method: 'POST', url: '/v1/licenses', headers: { ...auth, 'content-type': 'application/json' }, payload: '' });
    expect([empty.statusCode, empty.json().error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const text = await f.app.inject({ method: 'POST', url: '/v1/licenses', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'tenant=a' });
    expect([text.statusCode, text.json().error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    expect(text.json().error.message).toMatch(/JSON/);
    const form = await f.app.inject({ method: 'POST', url: '/v1/activations', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' });
    expect([form.statusCode, form.json().error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const big = await f.app.inject({ method: 'POST', url: '/v1/activations', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ licenseKey: 'x', pad: 'y'.repeat(70 * 1024) }) });
    expect([big.statusCode, big.json().error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(big.json().error.message).toContain(String(64 * 1024));
    const missing = await f.get('/v1/nothing-here', null);
    expect([missing.statusCode, missing.json()]).toEqual([404, { error: { code: 'NOT_FOUND', message: 'no route GET /v1/nothing-here' } }]);
    const wrongMethod = await f.app.inject({ method: 'DELETE', url: '/v1/licenses' });
    expect([wrongMethod.statusCode, wrongMethod.json().error.code]).toEqual([404, 'NOT_FOUND']);
    for (const res of [badJson, empty, text, form, big, missing]) expect(() => errorBodySchema.parse(res.json())).not.toThrow();
  });
});

describe('vendor API: devices and audit', () => {
  it('lists a license\'s devices and deactivates one: the seat is free and the device is on the revocation list', async () => {
    const f = await httpFixture();
    const { key, id } = await f.createLicense({ maxDevices: 1 });
    const one = await f.device(1);
    expect((await f.post('/v1/activations', { licenseKey: key, request: one.request }, null)).statusCode).toBe(201);

    const devices = await f.get(`/v1/licenses/${id}/devices`);
    expect(devices.statusCode).toBe(200);
    expect(devices.json()).toMatchObject({ licenseId: id, devices: [{ deviceId: one.deviceId, status: 'active', mode: 'online', jkt: one.request.jkt }] });
    const shown = await f.get(`/v1/licenses/${id}`);
    expect(shown.json().license.activeDevices).toBe(1);
    expect(shown.json().devices).toHaveLength(1);

    const before = (await f.get('/v1/revocations', null)).json().version as number;
    const res = await f.post(`/v1/licenses/${id}/devices/${one.deviceId}/deactivate`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ deactivated: true, licenseId: id, deviceId: one.deviceId, revocationVersion: expect.any(Number) });
    expect(res.json().revocationVersion).toBeGreaterThan(before);
    expect((await f.get(`/v1/licenses/${id}/devices?status=active`)).json().devices).toEqual([]);
    expect((await f.get(`/v1/licenses/${id}/devices?status=deactivated`)).json().devices).toHaveLength(1);

    const two = await f.device(2);
    expect((await f.post('/v1/activations', { licenseKey: key, request: two.request }, null)).statusCode).toBe(201);
    const unknownDevice = await f.post(`/v1/licenses/${id}/devices/${'0'.repeat(32)}/deactivate`);
    expect([unknownDevice.statusCode, unknownDevice.json().error.code]).toEqual([404, 'NOT_FOUND']);
    const badDevice = await f.post(`/v1/licenses/${id}/devices/NOT-A-DEVICE/deactivate`);
    expect([badDevice.statusCode, badDevice.json().error.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('takes an offline deactivation file', async () => {
    const f = await httpFixture();
    const { key, id } = await f.createLicense({ maxDevices: 1 });
    const one = await f.device(1);
    const { token } = (await f.post('/v1/activations', { licenseKey: key, request: one.request }, null)).json();
    const document = await one.deactivationFile(token);
    const res = await f.post('/v1/deactivation-files', { document });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ deactivated: true, licenseId: id, deviceId: one.deviceId });
    const forged = await f.post('/v1/deactivation-files', { document: `${document.slice(0, -4)}AAAA` });
    expect(forged.statusCode).toBe(401);
    const notJws = await f.post('/v1/deactivation-files', { document: 'not a document at all' });
    expect(notJws.statusCode).toBe(401);
    expect((await f.post('/v1/deactivation-files', {})).json().error.code).toBe('VALIDATION_FAILED');
  });

  it('pages through the audit log, by license too; entries carry no key or token', async () => {
    const f = await httpFixture();
    const a = await f.createLicense({ tenant: 'a' });
    const b = await f.createLicense({ tenant: 'b' });
    const one = await f.device(1);
    const activation = (await f.post('/v1/activations', { licenseKey: a.key, request: one.request }, null)).json();

    const page1 = await f.get('/v1/audit?limit=2');
    expect(page1.statusCode).toBe(200);
    const p1 = page1.json();
    expect(p1.entries).toHaveLength(2);
    expect(p1.next).toBe(p1.entries[1].seq);
    const page2 = (await f.get(`/v1/audit?limit=2&after=${p1.next}`)).json();
    const page3 = (await f.get(`/v1/audit?limit=2&after=${page2.next}`)).json();
    const seqs = [...p1.entries, ...page2.entries, ...page3.entries].map((e: { seq: number }) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
    const actions = [...p1.entries, ...page2.entries, ...page3.entries].map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['api-token.create', 'license.create', 'activation.new']));

    const byLicense = (await f.get(`/v1/audit?license=${a.id}`)).json();
    expect(byLicense.entries.map((e: { action: string }) => e.action)).toEqual(['license.create', 'activation.new']);
    expect(byLicense.entries[0].actor).toMatch(/^api:atk_/);
    expect(byLicense.next).toBeNull();
    const byKey = (await f.get(`/v1/audit?license=${encodeURIComponent(b.key)}`)).json();
    expect(byKey.entries.map((e: { licenseId: string }) => e.licenseId)).toEqual([b.id]);
    const text = JSON.stringify([p1, page2, page3, byLicense, byKey]);
    for (const secret of [a.key, b.key, activation.token, f.adminToken]) expect(text).not.toContain(secret);
  });
});
