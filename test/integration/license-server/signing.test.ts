// The signer against a real key directory: headers, claims validation, other document types.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { KioskError } from '../../../common/errors.ts';
import { DOCUMENT_TYPES, type LicenseClaims } from '../../../common/license-token.ts';
import { generateKey, readKeyDir } from '../../../license-server/src/signing/key-dir.ts';
import { loadSigner } from '../../../license-server/src/signing/signer.ts';
import { makeTempDir } from '../../helpers/tmp.ts';

const ISSUER = 'urn:kiosk:vendor:sign-test';
const claims = (over: Partial<LicenseClaims> = {}): LicenseClaims => ({
  iss: ISSUER,
  aud: 'kiosk-agent',
  sub: 'lic_0123456789abcdef0123',
  jti: 'j1',
  iat: 1_800_000_000,
  nbf: 1_800_000_000,
  exp: 1_802_592_000,
  lexp: 1_830_000_000,
  tenant: 'shop',
  features: ['pos'],
  grace: 86_400,
  device: { v: 1, id: 'a'.repeat(32), components: { mac: 'b'.repeat(32) } },
  cnf: { jkt: 'c'.repeat(43) },
  ...over,
});

async function keyDir(): Promise<string> {
  const dir = join(makeTempDir(), 'keys');
  await generateKey(dir, { issuer: ISSUER });
  return dir;
}

describe('signer', () => {
  it('signs license claims as ES256 kiosk-license+jwt with the active kid, exactly the schema\'s claims', async () => {
    const dir = await keyDir();
    const signer = loadSigner(dir);
    const state = readKeyDir(dir)!;
    expect(signer.issuer).toBe(ISSUER);
    expect(signer.kid).toBe(state.signingKid);
    const token = await signer.signLicense({ ...claims(), extra: 'dropped' } as LicenseClaims);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', typ: 'kiosk-license+jwt', kid: signer.kid });
    const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: [...state.keys] } as never), { typ: DOCUMENT_TYPES.license, currentDate: new Date(1_800_000_100_000) });
    expect(payload).toEqual(claims());
  });

  it('refuses to sign claims agents would refuse, or for another issuer', async () => {
    const signer = loadSigner(await keyDir());
    await expect(signer.signLicense(claims({ exp: 1_900_000_000 }))).rejects.toThrow(/lexp must not be before exp/);
    await expect(signer.signLicense(claims({ tenant: 'bad tenant' }))).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(signer.signLicense(claims({ iss: 'urn:other' }))).rejects.toThrow(KioskError);
    await expect(signer.signDocument('revocationList', { iss: 'urn:other' })).rejects.toThrow(/another|belongs/);
  });

  it('signs other document types with their own typ and sets iss', async () => {
    const dir = await keyDir();
    const signer = loadSigner(dir);
    const token = await signer.signDocument('revocationList', { version: 3, licenses: ['lic_x'] });
    expect(decodeProtectedHeader(token).typ).toBe('kiosk-revocations+jwt');
    const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: [...readKeyDir(dir)!.keys] } as never), { typ: DOCUMENT_TYPES.revocationList });
    expect(payload).toEqual({ version: 3, licenses: ['lic_x'], iss: ISSUER });
  });

  it('refuses a private key that does not match the trusted public key', async () => {
    const dir = await keyDir();
    const other = await keyDir();
    const kid = readKeyDir(dir)!.signingKid;
    writeFileSync(join(dir, `${kid}.private.pem`), readFileSync(join(other, `${readKeyDir(other)!.signingKid}.private.pem`)));
    expect(() => loadSigner(dir)).toThrow(expect.objectContaining({ code: 'KEYS_INVALID' }));
    writeFileSync(join(dir, `${kid}.private.pem`), 'garbage');
    expect(() => loadSigner(dir)).toThrow(expect.objectContaining({ code: 'KEYS_INVALID' }));
  });
});
