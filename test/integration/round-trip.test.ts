// The licensing chain end to end, through the real bins as subprocesses (as an installer and a
// vendor use them): license-server issues a license for a fixture device, kiosk-agent accepts it
// there, and refuses it on a clone (the disk image / SD card in another board).
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { licenseClaimsSchema } from '../../common/license-token.ts';
import { runBin } from '../helpers/cli.ts';
import { copySysroot, writeIn, type FixtureName } from '../helpers/sysroot.ts';
import { makeTempDir } from '../helpers/tmp.ts';

interface Chain {
  readonly dir: string;
  readonly env: Record<string, string>;
  readonly serverArgs: string[];
}

function vendor(): Chain {
  const dir = makeTempDir('round-trip-');
  const keys = join(dir, 'keys');
  return { dir, env: { KIOSK_AGENT_TRUSTED_KEYS: join(keys, 'jwks.json') }, serverArgs: ['--data-dir', join(dir, 'server'), '--keys', keys] };
}

function requestFrom(chain: Chain, sysroot: string, dataDir: string): string {
  const gen = runBin('license-server', ['keys', 'generate', '--out', join(chain.dir, 'keys'), '--issuer', 'urn:kiosk:vendor:roundtrip']);
  expect(gen.code, gen.stderr).toBe(0);
  const fp = runBin('kiosk-agent', ['fingerprint', '--json', '--sysroot', sysroot, '--data-dir', dataDir], { env: chain.env });
  expect(fp.code, fp.stderr).toBe(0);
  const requestFile = join(chain.dir, 'request.json');
  writeFileSync(requestFile, fp.stdout);
  return requestFile;
}

function createAndActivate(chain: Chain, requestFile: string): string {
  const created = runBin('license-server', ['license', 'create', '--tenant', 'acme', '--features', 'sales,reports', '--max-devices', '2', '--days', '365', ...chain.serverArgs]);
  expect(created.code, created.stderr).toBe(0);
  const tokenFile = join(chain.dir, 'license.jwt');
  const activated = runBin('license-server', ['activate-offline', '--key', created.lastWord, '--request', requestFile, '--out', tokenFile, ...chain.serverArgs]);
  expect(activated.code, activated.stderr).toBe(0);
  // the key printed once never reaches stderr or the token
  expect(activated.stderr + readFileSync(tokenFile, 'utf8')).not.toContain(created.lastWord);
  return tokenFile;
}

describe.each<[FixtureName, string, string]>([
  // fixture, what a clone keeps, the hard anchor that differs on the other board
  ['x64-pc', 'disk image in another PC', 'sys/class/dmi/id/product_uuid'],
  ['rpi4-32bit', 'SD card in another Raspberry Pi', 'proc/cpuinfo'],
])('round trip on %s', (fixture, cloneStory, anchorFile) => {
  it(`is accepted on the device it was issued for, refused on a ${cloneStory}`, () => {
    const chain = vendor();
    const sysroot = copySysroot(fixture);
    const dataDir = join(chain.dir, 'agent');
    const fpRun = runBin('kiosk-agent', ['fingerprint', '--json', '--sysroot', sysroot, '--data-dir', dataDir], { env: chain.env });
    expect(fpRun.code).toBe(1); // no key set yet: KEYS_MISSING
    expect(fpRun.stderr).toMatch(/^error KEYS_MISSING: /m);

    const requestFile = requestFrom(chain, sysroot, dataDir);
    const request = JSON.parse(readFileSync(requestFile, 'utf8'));
    const tokenFile = createAndActivate(chain, requestFile);

    const install = runBin('kiosk-agent', ['license', 'install', tokenFile, '--sysroot', sysroot, '--data-dir', dataDir], { env: chain.env });
    expect(install.code, install.stderr).toBe(0);
    const status = runBin('kiosk-agent', ['license', 'status', '--json', '--sysroot', sysroot, '--data-dir', dataDir], { env: chain.env });
    expect(status.code).toBe(0);
    const s = status.json();
    expect(s).toMatchObject({ mode: 'licensed', reason: null, tenant: 'acme', features: ['sales', 'reports'], deviceId: request.deviceId });

    // the token carries exactly the contract's claims
    const claims = JSON.parse(Buffer.from(readFileSync(tokenFile, 'utf8').trim().split('.')[1]!, 'base64url').toString());
    expect(licenseClaimsSchema.safeParse(claims).success).toBe(true);
    expect(claims.device.id).toBe(request.deviceId);
    expect(claims.cnf.jkt).toBe(request.jkt);

    // The clone: the whole disk (data dir with device key and store, machine-id, SD card / disk)
    // copied onto another board whose hard anchor differs.
    const cloneRoot = copySysroot(fixture);
    if (anchorFile === 'proc/cpuinfo') {
      const cpuinfo = readFileSync(join(cloneRoot, anchorFile), 'utf8').replace(/^(Serial\s*:\s*)\S+$/m, '$110000000f00dbabe');
      writeIn(cloneRoot, anchorFile, cpuinfo);
    } else {
      writeIn(cloneRoot, anchorFile, '6b1e3f0a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\n');
    }
    const cloneData = join(chain.dir, 'agent-clone');
    cpSync(dataDir, cloneData, { recursive: true });
    const cloned = runBin('kiosk-agent', ['license', 'status', '--json', '--sysroot', cloneRoot, '--data-dir', cloneData], { env: chain.env });
    expect(cloned.code).toBe(3);
    expect(cloned.json()).toMatchObject({ mode: 'trial', reason: 'DEVICE_MISMATCH' });
    const reinstall = runBin('kiosk-agent', ['license', 'install', tokenFile, '--sysroot', cloneRoot, '--data-dir', cloneData], { env: chain.env });
    expect(reinstall.code).toBe(3);
    expect(reinstall.stderr).toMatch(/^error DEVICE_MISMATCH: /m);

    // and the original device still is licensed
    expect(runBin('kiosk-agent', ['license', 'status', '--sysroot', sysroot, '--data-dir', dataDir], { env: chain.env }).code).toBe(0);
  });
});
