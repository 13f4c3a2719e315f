// A full offline license check vs a bare ES256 signature check of the same token.
//   full: what `license status` does once the process runs — read the installed token from the
//         SQLite store, verify it (jose, kid, typ, claims), check time and revocations, read the
//         fingerprint from a fixture sysroot and match it, load the device key thumbprint;
//   verify only: verifyLicenseToken (jose + header/claim checks), no IO;
//   baseline: node:crypto verify of the token's signing input, ieee-p1363 signature.
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createAgentContext, licenseServiceDeps } from '../agent/src/app.ts';
import { resolveAgentConfig } from '../agent/src/config.ts';
import { readDeviceFingerprint } from '../agent/src/hardware/read-fingerprint.ts';
import { loadOrCreateDeviceKey } from '../agent/src/license/device-key.ts';
import { evaluateLicense, installLicense } from '../agent/src/license/license-service.ts';
import { verifyLicenseToken } from '../agent/src/license/verify-token.ts';
import { licenseClaims, makeTestIssuer, signLicense, writeTrustedKeySet } from '../test/helpers/token-factory.ts';
import { measure, type BenchResult } from './harness.ts';

export async function licenseCheckBench(): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kiosk-bench-'));
  try {
    const issuer = await makeTestIssuer({ issuer: 'urn:kiosk:vendor:bench' });
    const keysFile = writeTrustedKeySet(dir, issuer.keySet);
    const sysroot = resolve('test/fixtures/sysroots/rpi4-64bit');
    const dataDir = join(dir, 'agent');
    const io = { stdout() {}, stderr() {}, env: { KIOSK_AGENT_TRUSTED_KEYS: keysFile }, cwd: process.cwd() };
    const config = resolveAgentConfig({ flavour: 'test', flags: { 'data-dir': dataDir, sysroot }, env: io.env, cwd: io.cwd, hasBuiltInKeys: false });
    const ctx = createAgentContext(config, { flavour: 'test' }, io);
    const deviceKey = await loadOrCreateDeviceKey(dataDir);
    const fp = await readDeviceFingerprint({ sysroot, issuer: issuer.issuer });
    const token = await signLicense(
      issuer,
      licenseClaims({ issuer: issuer.issuer, iatS: Math.floor(Date.now() / 1000), device: { deviceId: fp.deviceId, components: fp.components, jkt: deviceKey.jkt } }),
    );
    await installLicense(licenseServiceDeps(ctx, 'create'), token);
    const deps = licenseServiceDeps(ctx, 'existing');
    const first = await evaluateLicense(deps);
    if (first.mode !== 'licensed') throw new Error(`bench setup: expected licensed, got ${first.mode} ${first.reason}`);

    const [h, p, s] = token.split('.') as [string, string, string];
    const publicKey = createPublicKey({ key: { ...issuer.key().publicJwk }, format: 'jwk' });
    const signingInput = Buffer.from(`${h}.${p}`);
    const signature = Buffer.from(s, 'base64url');
    const bare = () => {
      if (!verify('sha256', signingInput, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)) throw new Error('bad signature');
    };
    const baseline = await measure(bare, { timeMs: 1500, warmup: 200 });
    const verifyOnly = await measure(() => verifyLicenseToken(token, issuer.keySet), { timeMs: 1500, warmup: 200 });
    const full = await measure(() => evaluateLicense(deps), { timeMs: 2000, warmup: 50 });
    await ctx.close();
    return {
      title: 'License check',
      rows: [
        { name: 'verify the token (no IO)', subject: 'verifyLicenseToken', subjectSample: verifyOnly, baseline: 'crypto.verify of the same token', baselineSample: baseline },
        { name: 'full check, as `license status`', subject: 'evaluateLicense (SQLite + fingerprint + verify + policy)', subjectSample: full, baseline: 'crypto.verify of the same token', baselineSample: baseline },
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
