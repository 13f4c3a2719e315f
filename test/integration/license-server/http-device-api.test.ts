// The device API (common/device-api.ts) through inject(): activation answers, refusals with the
// catalogue's codes, the rate limit, refresh and deactivation by device proof, the revocation
// list with its ETag, and the public key set.
import { compactVerify, decodeJwt, decodeProtectedHeader, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { revocationsResponseSchema, tokenResponseSchema } from '../../../common/device-api.ts';
import { licenseClaimsSchema } from '../../../common/license-token.ts';
import { revocationListClaimsSchema } from '../../../common/revocation-list.ts';
import { trustedKeySetSchema } from '../../../common/trusted-keys.ts';
import { generateKey } from '../../../license-server/src/signing/key-dir.ts';
import { httpFixture, PUBLIC_URLS } from './helpers/http-fixture.ts';

describe('POST /v1/activations', () => {
  it('answers 201 {token, apiUrl, mqttUrl, serverTimeMs}; the token verifies with the published key set', async () => {
    const f = await httpFixture();
    const { key, id } = await f.createLicense({ maxDevices: 2 });
    const device = await f.device(1);
    const res = await f.post('/v1/activations', { licenseKey: key, request: device.request }, null);
    expect(res.statusCode, res.body).toBe(201);
    const body = tokenResponseSchema.parse(res.json());
    expect(body).toEqual({ token: expect.any(String), ...PUBLIC_URLS, serverTimeMs: f.clock.nowMs() });

    const jwks = await f.get('/.well-known/jwks.json', null);
    expect(jwks.statusCode).toBe(200);
    const set = trustedKeySetSchema.parse(jwks.json());
    const { kid, typ } = decodeProtectedHeader(body.token);
    expect(typ).toBe('kiosk-license+jwt');
    const jwk = set.keys.find((k) => k.kid === kid);
    expect(jwk).toBeDefined();
    await compactVerify(body.token, await importJWK({ ...jwk }, 'ES256'));
    const claims = licenseClaimsSchema.parse(decodeJwt(body.token));
    expect(claims).toMatchObject({ sub: id, iss: set.issuer, device: { id: device.deviceId }, cnf: { jkt: device.request.jkt } });

    const again = await f.post('/v1/activations', { licenseKey: key, request: device.request }, null);
    expect(again.statusCode).toBe(201);
    expect((await f.get(`/v1/licenses/${id}`)).json().license.activeDevices).toBe(1);
  });

  it('refuses with the catalogue\'s codes and statuses', async () => {
    const f = await httpFixture();
    const { key } = await f.createLicense({ maxDevices: 1 });
    const [one, two] = [await f.device(1), await f.device(2)];
    expect((await f.post('/v1/activations', { licenseKey: key, request: one.request }, null)).statusCode).toBe(201);
    const cases: Array<[unknown, number, string]> = [
      [{ licenseKey: key, request: two.request }, 409, 'SEATS_FULL'],
      [{ licenseKey: '00000-00000-00000-00000-00', request: two.request }, 404, 'LICENSE_KEY_UNKNOWN'],
      [{ licenseKey: 'not-a-key', request: two.request }, 400, 'LICENSE_KEY_MALFORMED'],
      [{ licenseKey: key, request: { ...two.request, deviceId: one.deviceId } }, 400, 'ACTIVATION_REQUEST_INVALID'],
      [{ licenseKey: key, request: { ...two.request, type: 'something-else' } }, 400, 'ACTIVATION_REQUEST_INVALID'],
      [{ licenseKey: key }, 400, 'ACTIVATION_REQUEST_INVALID'],
      [{ request: two.request }, 400, 'VALIDATION_FAILED'],
      ['a string', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ];
    for (const [body, status, code] of cases) {
      const res = await f.post('/v1/activations', body, null);
      expect([res.statusCode, res.json().error.code], JSON.stringify(body).slice(0, 80)).toEqual([status, code]);
    }
  });

  it('is rate limited per client address: 429 RATE_LIMITED with Retry-After, refilled with time', async () => {
    const f = await httpFixture({ rateLimit: { activations: { burst: 2, perMinute: 2 } } });
    const { key } = await f.createLicense({ maxDevices: 10 });
    const device = await f.device(1);
    const activate = (remoteAddress = '203.0.113.7') =>
      f.app.inject({ method: 'POST', url: '/v1/activations', remoteAddress, payload: { licenseKey: key, request: device.request } });
    expect((await activate()).statusCode).toBe(201);
    expect((await activate()).statusCode).toBe(201);
    const limited = await activate();
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(limited.headers['retry-after']).toBe('30');
    // the bucket is taken before the body is read: garbage counts too, and is still refused
    expect((await f.app.inject({ method: 'POST', url: '/v1/activations', remoteAddress: '203.0.113.7', payload: 'x', headers: { 'content-type': 'text/plain' } })).statusCode).toBe(429);
    expect((await activate('198.51.100.1')).statusCode).toBe(201);
    f.clock.advance(30_000);
    expect((await activate()).statusCode).toBe(201);
    expect((await activate()).statusCode).toBe(429);
    // other routes are not limited
    expect((await f.get('/v1/revocations', null)).statusCode).toBe(200);
  });
});

describe('device proofs: refresh and deactivation', () => {
  it('refreshes with a proof (200, a new token), refuses a replayed proof, deactivates, then refuses to renew', async () => {
    const f = await httpFixture();
    const { key, id } = await f.createLicense({ maxDevices: 1 });
    const device = await f.device(1);
    const first = tokenResponseSchema.parse((await f.post('/v1/activations', { licenseKey: key, request: device.request }, null)).json());

    const proof = await device.proof(first.token);
    f.clock.advance(1000);
    const refreshed = await f.post('/v1/activations/refresh', { proof }, null);
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    const renewed = tokenResponseSchema.parse(refreshed.json());
    expect(renewed).toMatchObject(PUBLIC_URLS);
    expect(decodeJwt(renewed.token).jti).not.toBe(decodeJwt(first.token).jti);
    expect(decodeJwt(renewed.token).sub).toBe(id);

    const replay = await f.post('/v1/activations/refresh', { proof }, null);
    expect([replay.statusCode, replay.json().error.code]).toEqual([401, 'UNAUTHORIZED']);
    expect((await f.post('/v1/activations/refresh', { proof: 'nope' }, null)).json().error.code).toBe('VALIDATION_FAILED');
    expect((await f.post('/v1/activations/refresh', {}, null)).json().error.code).toBe('VALIDATION_FAILED');

    const list0 = revocationsResponseSchema.parse((await f.get('/v1/revocations', null)).json());
    const gone = await f.post('/v1/deactivations', { proof: await device.proof(renewed.token) }, null);
    expect(gone.statusCode, gone.body).toBe(200);
    expect(gone.json()).toEqual({ deactivated: true, licenseId: id, deviceId: device.deviceId, revocationVersion: list0.version + 1 });

    const after = await f.post('/v1/activations/refresh', { proof: await device.proof(renewed.token) }, null);
    expect([after.statusCode, after.json().error.code]).toEqual([403, 'REVOKED']);
    expect((await f.get(`/v1/licenses/${id}`)).json().license.activeDevices).toBe(0);
  });
});

describe('GET /v1/revocations', () => {
  it('serves the signed list with Cache-Control no-cache and ETag = version; If-None-Match answers 304', async () => {
    const f = await httpFixture();
    const res = await f.get('/v1/revocations', null);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-cache');
    const body = revocationsResponseSchema.parse(res.json());
    expect(res.headers.etag).toBe(`"${body.version}"`);
    expect(decodeProtectedHeader(body.list).typ).toBe('kiosk-revocations+jwt');
    expect(revocationListClaimsSchema.parse(decodeJwt(body.list)).version).toBe(body.version);

    const same = await f.get('/v1/revocations', null, { 'if-none-match': `"${body.version}"` });
    expect(same.statusCode).toBe(304);
    expect(same.body).toBe('');
    expect(same.headers.etag).toBe(`"${body.version}"`);

    const { key, id } = await f.createLicense();
    const device = await f.device(1);
    await f.post('/v1/activations', { licenseKey: key, request: device.request }, null);
    await f.post(`/v1/licenses/${id}/devices/${device.deviceId}/deactivate`);
    const changed = await f.get('/v1/revocations', null, { 'if-none-match': `"${body.version}"` });
    expect(changed.statusCode).toBe(200);
    const claims = revocationListClaimsSchema.parse(decodeJwt(changed.json().list));
    expect(claims.devices).toContain(device.deviceId);
    expect(changed.headers.etag).toBe(`"${claims.version}"`);
  });
});

describe('GET /.well-known/jwks.json', () => {
  it('publishes every trusted key (the next one too), never a private member', async () => {
    const f = await httpFixture();
    const before = trustedKeySetSchema.parse((await f.get('/.well-known/jwks.json', null)).json());
    expect(before.keys).toHaveLength(1);
    await generateKey(f.ctx.config.keysDir); // the next key: trusted, not signing yet
    const res = await f.get('/.well-known/jwks.json', null);
    const after = trustedKeySetSchema.parse(res.json());
    expect(after.issuer).toBe(before.issuer);
    expect(after.keys.map((k) => k.kid)).toEqual([before.keys[0]?.kid, expect.any(String)]);
    expect(res.body).not.toMatch(/"d"\s*:/);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });
});
