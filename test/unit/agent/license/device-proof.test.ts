// Device-signed documents (agent/src/license/device-proof.ts): the device proof and the offline
// deactivation document verify with jose against the device public key, carry the exact typ and
// kid = jkt, pass the pinned claim schemas, and respect the proof lifetime bound.
import { generateKeyPairSync } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { deactivationClaimsSchema, deviceProofClaimsSchema, MAX_PROOF_LIFETIME_S, SERVER_AUDIENCE } from '../../../../common/device-api.ts';
import { KioskError } from '../../../../common/errors.ts';
import { DOCUMENT_TYPES } from '../../../../common/license-token.ts';
import { deviceKeyFromPem, type DeviceKey } from '../../../../agent/src/license/device-key.ts';
import { DEFAULT_PROOF_LIFETIME_S, signDeactivation, signDeviceProof } from '../../../../agent/src/license/device-proof.ts';
import { verifyLicenseToken } from '../../../../agent/src/license/verify-token.ts';

const NOW_MS = Date.UTC(2026, 8, 15, 10, 0, 0, 789);
const NOW_S = Math.floor(NOW_MS / 1000);
const DEVICE_ID = '5f0e3c2b9a8d7e6f5a4b3c2d1e0f9a8b';
const COMPONENTS = { machine_id: '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d', mac: '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b' };
// Any compact JWS will do as `lic` here: the server verifies it, the proof only carries it.
const LIC = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJsaWMtMSJ9.c2lnbmF0dXJlLXBsYWNlaG9sZGVy';

async function newDeviceKey(): Promise<DeviceKey> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return deviceKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'test-key.pem');
}

async function verifyWith(key: DeviceKey, text: string): Promise<{ header: Record<string, unknown>; claims: Record<string, unknown> }> {
  const pub = await importJWK(key.publicJwk, 'ES256');
  const { payload, protectedHeader } = await compactVerify(text, pub, { algorithms: ['ES256'] });
  return { header: protectedHeader as Record<string, unknown>, claims: JSON.parse(new TextDecoder().decode(payload)) };
}

describe('device proof', () => {
  it('verifies with the device public key; header {alg ES256, typ kiosk-device-proof+jwt, kid jkt}; claims pass the pinned schema', async () => {
    const key = await newDeviceKey();
    const proof = await signDeviceProof({ deviceKey: key, licenseToken: `${LIC}\n`, deviceId: DEVICE_ID, components: COMPONENTS, nowMs: NOW_MS, newId: () => 'proof-id-0123456789ab' });
    const { header, claims } = await verifyWith(key, proof.text);
    expect(header).toEqual({ alg: 'ES256', typ: DOCUMENT_TYPES.deviceProof, kid: key.jkt });
    expect(claims).toEqual({
      iss: DEVICE_ID,
      aud: SERVER_AUDIENCE,
      iat: NOW_S,
      exp: NOW_S + DEFAULT_PROOF_LIFETIME_S,
      jti: 'proof-id-0123456789ab',
      lic: LIC,
      components: COMPONENTS,
    });
    expect(deviceProofClaimsSchema.safeParse(claims).success).toBe(true);
    expect(proof.claims).toEqual(claims);
  });

  it('does not verify with another device key', async () => {
    const key = await newDeviceKey();
    const other = await newDeviceKey();
    const proof = await signDeviceProof({ deviceKey: key, licenseToken: LIC, deviceId: DEVICE_ID, nowMs: NOW_MS });
    await expect(verifyWith(other, proof.text)).rejects.toThrow();
  });

  it('lifetime: default 120 s, at most MAX_PROOF_LIFETIME_S (300 s); 0 or 301 is refused before signing', async () => {
    const key = await newDeviceKey();
    expect(DEFAULT_PROOF_LIFETIME_S).toBeLessThanOrEqual(MAX_PROOF_LIFETIME_S);
    const max = await signDeviceProof({ deviceKey: key, licenseToken: LIC, deviceId: DEVICE_ID, nowMs: NOW_MS, lifetimeS: MAX_PROOF_LIFETIME_S });
    expect(max.claims.exp - max.claims.iat).toBe(300);
    for (const lifetimeS of [0, MAX_PROOF_LIFETIME_S + 1, 1.5]) {
      const err = await signDeviceProof({ deviceKey: key, licenseToken: LIC, deviceId: DEVICE_ID, nowMs: NOW_MS, lifetimeS }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KioskError);
    }
  });

  it('a random jti per proof (≥ 16 characters) unless one is injected', async () => {
    const key = await newDeviceKey();
    const a = await signDeviceProof({ deviceKey: key, licenseToken: LIC, deviceId: DEVICE_ID, nowMs: NOW_MS });
    const b = await signDeviceProof({ deviceKey: key, licenseToken: LIC, deviceId: DEVICE_ID, nowMs: NOW_MS });
    expect(a.claims.jti).not.toBe(b.claims.jti);
    expect(a.claims.jti.length).toBeGreaterThanOrEqual(16);
  });

  it('components are omitted when not given (the server re-checks the binding)', async () => {
    const key = await newDeviceKey();
    const proof = await signDeviceProof({ deviceKey: key, licenseToken: LIC, deviceId: DEVICE_ID, nowMs: NOW_MS });
    expect('components' in (await verifyWith(key, proof.text)).claims).toBe(false);
  });

  it('refuses to sign what the server would refuse: a device id that is not one, a lic that is not a JWS', async () => {
    const key = await newDeviceKey();
    await expect(signDeviceProof({ deviceKey: key, licenseToken: LIC, deviceId: 'not-a-device', nowMs: NOW_MS })).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(signDeviceProof({ deviceKey: key, licenseToken: 'garbage', deviceId: DEVICE_ID, nowMs: NOW_MS })).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('is never accepted in place of a license token (its own typ)', async () => {
    const key = await newDeviceKey();
    const proof = await signDeviceProof({ deviceKey: key, licenseToken: LIC, deviceId: DEVICE_ID, nowMs: NOW_MS });
    const keySet = { issuer: 'urn:kiosk:vendor:test', keys: [{ ...key.publicJwk, kid: key.jkt, alg: 'ES256' as const, use: 'sig' as const }] };
    const r = await verifyLicenseToken(proof.text, keySet);
    expect(r).toMatchObject({ ok: false, reason: 'TYPE_INVALID' });
  });
});

describe('offline deactivation document', () => {
  it('verifies with the device public key; typ kiosk-deactivation+jwt, kid jkt; claims {iss, aud, iat, jti, lic, action} without exp', async () => {
    const key = await newDeviceKey();
    const doc = await signDeactivation({ deviceKey: key, licenseToken: LIC, deviceId: DEVICE_ID, nowMs: NOW_MS, newId: () => 'deact-id-0123456789ab' });
    const { header, claims } = await verifyWith(key, doc.text);
    expect(decodeProtectedHeader(doc.text)).toEqual(header);
    expect(header).toEqual({ alg: 'ES256', typ: DOCUMENT_TYPES.deactivation, kid: key.jkt });
    expect(claims).toEqual({ iss: DEVICE_ID, aud: SERVER_AUDIENCE, iat: NOW_S, jti: 'deact-id-0123456789ab', lic: LIC, action: 'deactivate' });
    expect(deactivationClaimsSchema.safeParse(claims).success).toBe(true);
  });
});
