// `kiosk-agent fingerprint [--json]` through the in-process runner, on fixture sysroots.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../common/clock.ts';
import { activationRequestSchema } from '../../../common/license-token.ts';
import { PRODUCT_VERSION } from '../../../common/version.ts';
import { readDeviceFingerprint } from '../../../agent/src/hardware/read-fingerprint.ts';
import { runAgent } from '../../helpers/agent-cli.ts';
import { FIXTURE_SYSROOTS, fixtureSysroot, type FixtureName } from '../../helpers/sysroot.ts';
import { makeTempDir } from '../../helpers/tmp.ts';

const ISSUER = 'vendor-cli-test';
const NOW_MS = Date.UTC(2026, 10, 25, 12, 0, 0);

function trustedKeysFile(dir: string): string {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify({ issuer: ISSUER, keys: [{ ...jwk, kid: 'k1', alg: 'ES256', use: 'sig' }] }));
  return file;
}

function setup() {
  const dir = makeTempDir('fp-cli-');
  return { dataDir: join(dir, 'data'), env: { KIOSK_AGENT_TRUSTED_KEYS: trustedKeysFile(dir) } };
}

const fingerprint = (name: FixtureName, dataDir: string, env: Record<string, string>, json = true) =>
  runAgent(['fingerprint', ...(json ? ['--json'] : []), '--sysroot', fixtureSysroot(name), '--data-dir', dataDir], { env, clock: fixedClock(NOW_MS) });

/** Every raw identifying value in a fixture: serials, CIDs, UUIDs, MACs, machine-ids. */
function rawValues(root: string): string[] {
  const sources = new Set(['machine-id', 'product_uuid', 'board_serial', 'product_serial', 'chassis_serial', 'cid', 'serial', 'serial-number', 'address', 'vpd_pg80', 'cpuinfo']);
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && sources.has(entry.name)) {
        let text = readFileSync(path, 'latin1').replace(/[\0-\x1f]/g, ' ').trim();
        if (entry.name === 'cpuinfo') text = /^Serial\s*:\s*(\S+)/m.exec(text)?.[1] ?? '';
        if (entry.name === 'vpd_pg80') text = text.replace(/^\W+/, '');
        if (text.length >= 6 && !/^[0:]+$/.test(text)) found.add(text);
      }
    }
  };
  walk(root);
  return [...found];
}

describe('kiosk-agent fingerprint --json', () => {
  for (const name of FIXTURE_SYSROOTS) {
    it(`${name}: one activation request document, no raw values`, async () => {
      const { dataDir, env } = setup();
      const r = await fingerprint(name, dataDir, env);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as Record<string, unknown>;
      const request = activationRequestSchema.parse(doc);
      const expected = await readDeviceFingerprint({ sysroot: fixtureSysroot(name), issuer: ISSUER });
      expect(request).toMatchObject({
        type: 'kiosk-activation-request',
        v: 1,
        issuer: ISSUER,
        deviceId: expected.deviceId,
        components: expected.components,
        platform: expected.platform,
        agentVersion: PRODUCT_VERSION,
        createdAt: new Date(NOW_MS).toISOString(),
      });
      expect(doc.warnings).toEqual(expected.warnings);
      const raws = rawValues(fixtureSysroot(name));
      expect(raws.length).toBeGreaterThan(0);
      const output = `${r.stdout}\n${r.stderr}`.toLowerCase();
      for (const raw of raws) {
        expect(output, `raw value ${raw}`).not.toContain(raw.toLowerCase());
        expect(output, `raw value ${raw}`).not.toContain(raw.toLowerCase().replace(/[:\-\s]/g, ''));
      }
    });
  }

  it('makes the device key once (0600, data dir 0700) and reuses it; the device id is stable', async () => {
    const { dataDir, env } = setup();
    const first = await fingerprint('rpi4-32bit', dataDir, env);
    expect(first.code, first.stderr).toBe(0);
    const keyFile = join(dataDir, 'device-key.pem');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const pem = readFileSync(keyFile, 'utf8');
    const second = await fingerprint('rpi4-32bit', dataDir, env);
    expect(second.json().jkt).toBe(first.json().jkt);
    expect(second.json().devicePublicKey).toEqual(first.json().devicePublicKey);
    expect(second.json().deviceId).toBe(first.json().deviceId);
    expect(readFileSync(keyFile, 'utf8')).toBe(pem);
    expect(readdirSync(dataDir)).toEqual(['device-key.pem']);
  });

  it('another data dir means another device key, the same device id', async () => {
    const a = setup();
    const b = { ...a, dataDir: join(makeTempDir('fp-cli-b-'), 'data') };
    const ra = await fingerprint('x64-pc', a.dataDir, a.env);
    const rb = await fingerprint('x64-pc', b.dataDir, b.env);
    expect(rb.json().jkt).not.toBe(ra.json().jkt);
    expect(rb.json().deviceId).toBe(ra.json().deviceId);
  });

  it('without a trusted key set: exit 1, error KEYS_MISSING, nothing created', async () => {
    const dir = makeTempDir('fp-cli-nokeys-');
    const dataDir = join(dir, 'data');
    const r = await fingerprint('x64-pc', dataDir, { KIOSK_AGENT_TRUSTED_KEYS: join(dir, 'missing.json') });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error KEYS_MISSING: /m);
    expect(r.json()).toMatchObject({ error: { code: 'KEYS_MISSING' } });
    expect(existsSync(dataDir)).toBe(false);
  });

  it('takes no positional arguments', async () => {
    const { dataDir, env } = setup();
    const r = await runAgent(['fingerprint', 'extra', '--data-dir', dataDir], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error USAGE: /m);
  });
});

describe('kiosk-agent fingerprint (summary)', () => {
  it('prints the device id, each component with hash and weight, and the key thumbprint', async () => {
    const { dataDir, env } = setup();
    const json = (await fingerprint('x64-pc', dataDir, env)).json();
    const r = await fingerprint('x64-pc', dataDir, env, false);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`device id     ${json.deviceId}`);
    for (const [name, hash] of Object.entries(json.components as Record<string, string>)) {
      expect(r.stdout).toMatch(new RegExp(`^  ${name} +${hash}  weight \\d`, 'm'));
    }
    expect(r.stdout).toMatch(/^ {2}dmi_uuid +[0-9a-f]{32} {2}weight 3 \(anchor\)$/m);
    expect(r.stdout).toContain(`jkt ${json.jkt}`);
    expect(r.stderr).toBe('');
  });

  it('prints warnings as "warning: …" lines on stderr', async () => {
    const { dataDir, env } = setup();
    const r = await fingerprint('container', dataDir, env, false);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: only machine_id is readable/m);
    expect(r.stdout).not.toContain('warning');
  });
});
