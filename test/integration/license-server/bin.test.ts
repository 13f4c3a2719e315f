// The real bin as a subprocess (npx license-server): keys generate + license create, and
// several CLI processes racing for the last seats of one database file.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeLicenseKey } from '../../../common/license-key.ts';
import { REPO_ROOT, runBin, toResult, type CliResult } from '../../helpers/cli.ts';
import { makeTempDir } from '../../helpers/tmp.ts';
import { makeActivationRequest, physicalDevice } from '../../helpers/activation-request.ts';

function runBinAsync(args: readonly string[], cwd: string): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve(REPO_ROOT, 'bin', 'license-server.mjs'), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('error', fail);
    child.on('close', (code) => done(toResult(code ?? -1, out, err)));
  });
}

describe('bin/license-server.mjs', () => {
  it('keys generate and license create work as `npx license-server`', () => {
    const cwd = makeTempDir();
    const keys = runBin('license-server', ['keys', 'generate'], { cwd });
    expect(keys.code, keys.stderr).toBe(0);
    expect(existsSync(join(cwd, '.data/server/keys/jwks.json'))).toBe(true);
    const lic = runBin('license-server', ['license', 'create', '--tenant', 'shop-1', '--features', 'pos', '--max-devices', '1', '--days', '30'], { cwd });
    expect(lic.code, lic.stderr).toBe(0);
    expect(normalizeLicenseKey(lic.lastWord)).toBe(lic.lastWord);
    const usage = runBin('license-server', ['license', 'create'], { cwd });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^error USAGE: /);
  });

  it('separate processes racing for the last seats: exactly max devices win, none fails on a busy database', async () => {
    const cwd = makeTempDir();
    expect(runBin('license-server', ['keys', 'generate', '--issuer', 'urn:kiosk:vendor:race'], { cwd }).code).toBe(0);
    const lic = runBin('license-server', ['license', 'create', '--tenant', 't', '--features', 'pos', '--max-devices', '2', '--days', '30'], { cwd });
    expect(lic.code, lic.stderr).toBe(0);
    const files = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const file = join(cwd, `req-${i}.json`);
        writeFileSync(file, JSON.stringify(await makeActivationRequest('urn:kiosk:vendor:race', physicalDevice(i + 1))));
        return file;
      }),
    );
    const results = await Promise.all(files.map((file, i) => runBinAsync(['activate-offline', '--key', lic.lastWord, '--request', file, '--out', join(cwd, `tok-${i}`)], cwd)));
    expect(results.filter((r) => r.code === 0)).toHaveLength(2);
    const refused = results.filter((r) => r.code !== 0);
    expect(refused.map((r) => r.code)).toEqual([3, 3, 3]);
    for (const r of refused) expect(r.stderr).toMatch(/^error SEATS_FULL: /);
    const show = runBin('license-server', ['license', 'show', lic.lastWord, '--json'], { cwd });
    expect(show.json().license.activeDevices).toBe(2);
  });
});
