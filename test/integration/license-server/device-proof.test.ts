// Device proofs checked by the server (domain/device-proof.ts) on a real database and real keys:
// every hostile case is refused with the code the catalogue gives it, and a good proof opens
// its seat even when its license token is past exp or signed by a key that no longer signs.
import { join } from 'node:path';
import { generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { MAX_PROOF_LIFETIME_S } from '../../../common/device-api.ts';
import { KioskError } from '../../../common/errors.ts';
import { verifyDeactivationDocument, verifyDeviceProof } from '../../../license-server/src/domain/device-proof.ts';
import { activateKey, generateKey, retireKey } from '../../../license-server/src/signing/key-dir.ts';
import { loadSigner } from '../../../license-server/src/signing/signer.ts';
import { makeTempDir } from '../../helpers/tmp.ts';
import { rawJws, replaceSegment, segments, b64json } from '../../helpers/token-factory.ts';
import { DAY_MS, makeTestDevice, NOW_S, onlineFixture, signDeactivationFile, signProof } from './helpers/online-fixture.ts';

async function activated(mode: 'online' | 'offline' = 'online') {
  const f = await onlineFixture();
  const { licenseKey, license } = await f.createLicense();
  const device = await makeTestDevice(1);
  const result = await f.activate(licenseKey, device, mode);
  return { f, licenseKey, license, device, result, token: result.token };
}

async function refusal(promise: Promise<unknown>): Promise<KioskError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a refusal').toBeInstanceOf(KioskError);
  return err as KioskError;
}

const unauthorized = (reason: string) => ({ code: 'UNAUTHORIZED', details: { reason } });

describe('device proof verification', () => {
  it('accepts a good proof and names the seat of record', async () => {
    const { f, device, result, token } = await activated();
    const v = await verifyDeviceProof(f.deps, await signProof(device, token));
    expect(v.activation.id).toBe(result.activation.id);
    expect(v.lic.jti).toBe(result.claims.jti);
    expect(v.claims.iss).toBe(device.deviceId);
    expect(v.license.id).toBe(result.license.id);
  });

  it('refuses an alg other than ES256 and a typ other than the device proof\'s', async () => {
    const { f, device, token } = await activated();
    const good = await signProof(device, token);
    const [, payload] = segments(good);
    const hs = rawJws({ alg: 'HS256', typ: 'kiosk-device-proof+jwt' }, JSON.parse(Buffer.from(payload, 'base64url').toString()), 'c2ln');
    expect(await refusal(verifyDeviceProof(f.deps, hs))).toMatchObject(unauthorized('ALG_NOT_ALLOWED'));
    const none = replaceSegment(good, 0, b64json({ alg: 'none', typ: 'kiosk-device-proof+jwt' }));
    expect(await refusal(verifyDeviceProof(f.deps, none))).toMatchObject(unauthorized('ALG_NOT_ALLOWED'));
    for (const typ of ['kiosk-license+jwt', 'kiosk-deactivation+jwt', 'application/kiosk-device-proof+jwt', 'KIOSK-DEVICE-PROOF+JWT', undefined]) {
      const proof = await signProof(device, token, { header: { typ } });
      expect(await refusal(verifyDeviceProof(f.deps, proof)), String(typ)).toMatchObject(unauthorized('TYPE_INVALID'));
    }
    expect(await refusal(verifyDeviceProof(f.deps, 'not.a-jws'))).toMatchObject(unauthorized('TOKEN_MALFORMED'));
    // a license token is not a proof, even though it is signed by us
    expect(await refusal(verifyDeviceProof(f.deps, token))).toMatchObject(unauthorized('TYPE_INVALID'));
  });

  it('refuses a proof signed with another key than the stored device key, even with the header kid right', async () => {
    const { f, device, token } = await activated();
    const stranger = await generateKeyPair('ES256');
    const proof = await signProof(device, token, { key: stranger.privateKey });
    expect(await refusal(verifyDeviceProof(f.deps, proof))).toMatchObject(unauthorized('SIGNATURE_INVALID'));
    // a tampered payload fails too
    const good = await signProof(device, token);
    const [h, p, s] = segments(good);
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const tampered = `${h}.${b64json({ ...claims, exp: claims.exp + 1 })}.${s}`;
    expect(await refusal(verifyDeviceProof(f.deps, tampered))).toMatchObject(unauthorized('SIGNATURE_INVALID'));
  });

  it('a copied license token opens nothing: another device key signing it is refused', async () => {
    const { f, device, token } = await activated();
    // the thief has the token and its own key; it claims the victim's device id and kid
    const thief = await makeTestDevice(1);
    expect(thief.deviceId).toBe(device.deviceId);
    expect(thief.jkt).not.toBe(device.jkt);
    const proof = await signProof(thief, token, { header: { kid: device.jkt } });
    expect(await refusal(verifyDeviceProof(f.deps, proof))).toMatchObject(unauthorized('SIGNATURE_INVALID'));
    // with its own kid it is refused before the signature
    expect(await refusal(verifyDeviceProof(f.deps, await signProof(thief, token)))).toMatchObject(unauthorized('KEY_UNKNOWN'));
  });

  it('refuses a proof whose iss is not the token\'s device', async () => {
    const { f, device, token } = await activated();
    const proof = await signProof(device, token, { claims: { iss: 'f'.repeat(32) } });
    expect(await refusal(verifyDeviceProof(f.deps, proof))).toMatchObject(unauthorized('CLAIM_INVALID'));
  });

  it('times: refuses an expired proof, one made more than 60 s ahead, and one valid too long', async () => {
    const { f, device, token } = await activated();
    const expired = await signProof(device, token, { iatS: NOW_S - 200, lifetimeS: 200 });
    expect(await refusal(verifyDeviceProof(f.deps, expired))).toMatchObject(unauthorized('EXPIRED'));
    const ahead = await signProof(device, token, { iatS: NOW_S + 61, lifetimeS: 120 });
    expect(await refusal(verifyDeviceProof(f.deps, ahead))).toMatchObject(unauthorized('NOT_YET_VALID'));
    await verifyDeviceProof(f.deps, await signProof(device, token, { iatS: NOW_S + 60, lifetimeS: 120 })); // tolerated skew
    const long = await signProof(device, token, { lifetimeS: MAX_PROOF_LIFETIME_S + 1 });
    expect(await refusal(verifyDeviceProof(f.deps, long))).toMatchObject(unauthorized('CLAIM_INVALID'));
    const backwards = await signProof(device, token, { claims: { exp: NOW_S - 1, iat: NOW_S } });
    expect(await refusal(verifyDeviceProof(f.deps, backwards))).toMatchObject(unauthorized('CLAIM_INVALID'));
    await verifyDeviceProof(f.deps, await signProof(device, token, { lifetimeS: MAX_PROOF_LIFETIME_S }));
  });

  it('refuses a lic signed by another vendor, with its own kid or ours', async () => {
    const { f, device, result } = await activated();
    const otherDir = join(makeTempDir(), 'keys');
    await generateKey(otherDir, { issuer: 'urn:kiosk:vendor:someone-else' });
    const other = loadSigner(otherDir);
    const forged = await other.signLicense({ ...result.claims, iss: other.issuer });
    expect(await refusal(verifyDeviceProof(f.deps, await signProof(device, forged)))).toMatchObject(unauthorized('KEY_UNKNOWN'));
    // the same claims under our kid and issuer, signed by the other vendor's key
    const [, , sig] = segments(forged);
    const spoofed = `${b64json({ alg: 'ES256', typ: 'kiosk-license+jwt', kid: f.deps.signer.kid })}.${b64json(result.claims)}.${sig}`;
    expect(await refusal(verifyDeviceProof(f.deps, await signProof(device, spoofed)))).toMatchObject(unauthorized('SIGNATURE_INVALID'));
  });

  it('accepts a lic from a key that no longer signs but is still listed; refuses it once the key is retired', async () => {
    const { f, device, token } = await activated();
    const oldKid = f.deps.signer.kid;
    const next = await generateKey(f.keysDir);
    activateKey(f.keysDir, next.kid);
    f.reloadSigner();
    expect(f.deps.signer.kid).toBe(next.kid);
    await verifyDeviceProof(f.deps, await signProof(device, token));
    retireKey(f.keysDir, oldKid); // jwks.json changes: the running reader sees it at once
    expect(await refusal(verifyDeviceProof(f.deps, await signProof(device, token)))).toMatchObject(unauthorized('KEY_UNKNOWN'));
  });

  it('accepts a lic past its exp and past its grace (refresh needs it)', async () => {
    const { f, device, token, result } = await activated();
    const later = (result.claims.exp + result.claims.grace + 86_400) * 1000;
    f.deps.clock.set(later);
    const v = await verifyDeviceProof(f.deps, await signProof(device, token, { nowMs: later }));
    expect(v.lic.exp * 1000).toBeLessThan(later);
  });

  it('refuses a proof whose lic has no activation of record (a token we never recorded)', async () => {
    const { f, device, result } = await activated();
    const unrecorded = await f.deps.signer.signLicense({ ...result.claims, jti: 'never-recorded-token-id' });
    expect(await refusal(verifyDeviceProof(f.deps, await signProof(device, unrecorded)))).toMatchObject(unauthorized('CLAIM_INVALID'));
  });

  it('components: a mismatch is DEVICE_MISMATCH; a NIC swap or unreadable extras still pass', async () => {
    const { f, device, token } = await activated();
    const other = await makeTestDevice(2);
    const mismatch = await refusal(verifyDeviceProof(f.deps, await signProof(device, token, { components: other.components })));
    expect(mismatch.code).toBe('DEVICE_MISMATCH');
    const nicSwapped = { ...device.components, mac: other.components.mac! };
    await verifyDeviceProof(f.deps, await signProof(device, token, { components: nicSwapped }));
    const { dmi_uuid: _gone, ...partial } = device.components;
    await verifyDeviceProof(f.deps, await signProof(device, token, { components: partial }));
  });

  it('the deactivation file: its own typ, no expiry, not dated ahead of the server', async () => {
    const { f, device, token } = await activated();
    const old = await signDeactivationFile(device, token, { iatS: NOW_S });
    f.deps.clock.advance(400 * DAY_MS); // a file has no exp: evidence of when the seat was given up
    expect((await verifyDeactivationDocument(f.deps, old)).claims.action).toBe('deactivate');
    const proof = await signProof(device, token, { nowMs: f.deps.clock.nowMs() });
    expect(await refusal(verifyDeactivationDocument(f.deps, proof))).toMatchObject(unauthorized('TYPE_INVALID'));
    const ahead = await signDeactivationFile(device, token, { iatS: f.deps.clock.nowMs() / 1000 + 3600 });
    expect(await refusal(verifyDeactivationDocument(f.deps, ahead))).toMatchObject(unauthorized('NOT_YET_VALID'));
    const wrongKey = await signDeactivationFile(device, token, { key: (await generateKeyPair('ES256')).privateKey });
    expect(await refusal(verifyDeactivationDocument(f.deps, wrongKey))).toMatchObject(unauthorized('SIGNATURE_INVALID'));
  });
});

