// `kiosk-agent license install FILE` / `license status [--json]` end to end, in-process:
// real SQLite in temp dirs, fixture sysroots read by the real fingerprint reader, per-test keys,
// a fake clock.
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../common/clock.ts';
import { MAX_TOKEN_BYTES } from '../../../common/license-token.ts';
import { openAgentStore } from '../../../agent/src/store/agent-store.ts';
import { runAgent } from '../../helpers/agent-cli.ts';
import { runBin } from '../../helpers/cli.ts';
import { copySysroot, writeIn, type FixtureName } from '../../helpers/sysroot.ts';
import { makeTempDir } from '../../helpers/tmp.ts';
import {
  b64json,
  derToJoseSignature,
  generateSigningKey,
  licenseClaims,
  licenseHeader,
  makeTestIssuer,
  rawJws,
  replaceSegment,
  segments,
  signJws,
  signLicense,
  signRevocationList,
  writeTrustedKeySet,
  type DeviceBinding,
  type TestIssuer,
} from '../../helpers/token-factory.ts';

const DAY_S = 86_400;
const DAY_MS = DAY_S * 1000;
const NOW_MS = Date.UTC(2026, 8, 15, 10, 0, 0);
const NOW_S = NOW_MS / 1000;

interface Device {
  readonly root: string;
  readonly dataDir: string;
  readonly dir: string;
  readonly issuer: TestIssuer;
  readonly keysFile: string;
  readonly clock: ReturnType<typeof fixedClock>;
  readonly binding: DeviceBinding;
  run(argv: readonly string[]): ReturnType<typeof runAgent>;
  file(name: string, content: string | Buffer): string;
  claims(over?: Record<string, unknown>, iatS?: number): Record<string, unknown>;
  status(): Promise<any>;
}

/** A device: a private copy of a fixture sysroot, its data dir with a device key, a trusted key set. */
async function device(
  fixture: FixtureName,
  opts: { clockTrust?: 'timesync' | 'rtc' | 'none'; issuer?: TestIssuer } = {},
): Promise<Device> {
  const root = copySysroot(fixture);
  if (opts.clockTrust === 'timesync') writeIn(root, 'run/systemd/timesync/synchronized', '');
  if (opts.clockTrust === 'rtc') writeIn(root, 'sys/class/rtc/rtc0/name', 'rtc-cmos\n');
  const dir = makeTempDir('license-cli-');
  const dataDir = join(dir, 'data');
  const issuer = opts.issuer ?? (await makeTestIssuer());
  const keysFile = writeTrustedKeySet(dir, issuer.keySet);
  const clock = fixedClock(NOW_MS);
  const run = (argv: readonly string[]) =>
    runAgent([...argv, '--sysroot', root, '--data-dir', dataDir], { clock, env: { KIOSK_AGENT_TRUSTED_KEYS: keysFile } });
  const fp = await run(['fingerprint', '--json']);
  expect(fp.code, fp.stderr).toBe(0);
  const req = fp.json();
  const binding: DeviceBinding = { deviceId: req.deviceId, components: req.components, jkt: req.jkt };
  return {
    root,
    dataDir,
    dir,
    issuer,
    keysFile,
    clock,
    binding,
    run,
    file(name, content) {
      const p = join(dir, name);
      writeFileSync(p, content);
      return p;
    },
    claims: (over = {}, iatS = NOW_S - 3600) => ({ ...licenseClaims({ issuer: issuer.issuer, device: binding, iatS }), ...over }),
    async status() {
      const r = await run(['license', 'status', '--json']);
      return { code: r.code, ...r.json() };
    },
  };
}

/** The component hashes another device (fixture) reports under the same issuer. */
async function otherDeviceBinding(fixture: FixtureName, issuer: TestIssuer): Promise<DeviceBinding> {
  return (await device(fixture, { issuer })).binding;
}

describe('license install — a good license', () => {
  it('installs, exits 0 with a one-paragraph summary; status shows it licensed (exit 0) after a reopen', async () => {
    const d = await device('rpi4-64bit', { clockTrust: 'timesync' });
    const token = await signLicense(d.issuer, d.claims({ sub: 'lic-42', tenant: 'shop_7', features: ['sales', 'stock'] }));
    const r = await d.run(['license', 'install', d.file('license.jwt', `${token}\n`)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/^License installed: mode licensed; tenant shop_7; license lic-42; features sales, stock; token expires 2026-10-15T09:00:00\.000Z; license expires 2027-10-15T09:00:00\.000Z; device [0-9a-f]{32}\.$/m);
    expect(r.stdout).toContain(d.binding.deviceId);

    const s = await d.status();
    expect(s).toMatchObject({
      code: 0,
      mode: 'licensed',
      reason: null,
      features: ['sales', 'stock'],
      tenant: 'shop_7',
      licenseId: 'lic-42',
      tokenExpiresAt: new Date((NOW_S - 3600 + 30 * DAY_S) * 1000).toISOString(),
      licenseExpiresAt: new Date((NOW_S - 3600 + 395 * DAY_S) * 1000).toISOString(),
      graceEndsAt: new Date((NOW_S - 3600 + 37 * DAY_S) * 1000).toISOString(),
      deviceId: d.binding.deviceId,
      trial: { startedAt: null, endsAt: null, daysLeft: 14, maxOrdersPerDay: 100 },
      clock: { trusted: true, source: 'ntp', floor: new Date(NOW_MS).toISOString(), tampered: false },
    });

    const text = await d.run(['license', 'status']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^mode: +licensed$/m);
    expect(text.stdout).toMatch(/^license id: +lic-42$/m);

    const store = openAgentStore({ dataDir: d.dataDir });
    try {
      expect(store.integrityCheck()).toEqual(['ok']);
      expect(store.licenseState.readLicenseState().installed).toMatchObject({ sub: 'lic-42', token });
    } finally {
      store.close();
    }
  });

  it('--json prints the status document on success; installing the same token again succeeds and changes nothing', async () => {
    const d = await device('x64-pc', { clockTrust: 'rtc' });
    const file = d.file('l.jwt', await signLicense(d.issuer, d.claims()));
    const first = await d.run(['license', 'install', file, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json()).toMatchObject({ mode: 'licensed', clock: { trusted: true, source: 'rtc' } });
    const again = await d.run(['license', 'install', file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^This license token is installed already: mode licensed/);
    const store = openAgentStore({ dataDir: d.dataDir });
    try {
      expect(store.tables.license.history()).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('a renewal (newer token of the same license) replaces the old one, which goes to the history', async () => {
    const d = await device('rpi4-64bit');
    await d.run(['license', 'install', d.file('a.jwt', await signLicense(d.issuer, d.claims({ jti: 'a' }, NOW_S - 7200)))]);
    const r = await d.run(['license', 'install', d.file('b.jwt', await signLicense(d.issuer, d.claims({ jti: 'b' }, NOW_S - 60)))]);
    expect(r.code, r.stderr).toBe(0);
    const store = openAgentStore({ dataDir: d.dataDir });
    try {
      expect(store.licenseState.readLicenseState().installed?.jti).toBe('b');
      expect(store.tables.license.history().map((h) => h.jti)).toEqual(['a']);
    } finally {
      store.close();
    }
  });

  it('FILE "-" reads the token from stdin (the real bin, real clock)', async () => {
    const d = await device('rpi4-64bit');
    const iat = Math.floor(Date.now() / 1000) - 60;
    const token = await signLicense(d.issuer, d.claims({ sub: 'lic-stdin' }, iat));
    const r = runBin('kiosk-agent', ['license', 'install', '-', '--json', '--sysroot', d.root, '--data-dir', d.dataDir], {
      input: `${token}\n`,
      env: { KIOSK_AGENT_TRUSTED_KEYS: d.keysFile },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ mode: 'licensed', licenseId: 'lic-stdin' });
  });

  it('a missing FILE is an I/O error (exit 1), not a license verdict', async () => {
    const d = await device('rpi4-64bit');
    const r = await d.run(['license', 'install', join(d.dir, 'nope.jwt')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error IO_ERROR: /);
  });
});

describe('license install — hostile tokens are refused, the old license kept', () => {
  type Row = [name: string, reason: string, make: (d: Device) => Promise<string | Buffer> | string | Buffer];
  const rows: Row[] = [
    ['alg: none', 'ALG_NOT_ALLOWED', (d) => rawJws({ alg: 'none', typ: 'kiosk-license+jwt', kid: 'k1' }, d.claims())],
    [
      'HS256 keyed with the trusted public key',
      'ALG_NOT_ALLOWED',
      (d) => signJws({ alg: 'HS256', typ: 'kiosk-license+jwt', kid: 'k1' }, d.claims(), new TextEncoder().encode(JSON.stringify(d.issuer.key().publicJwk))),
    ],
    ['an all-zero ES256 signature', 'SIGNATURE_INVALID', (d) => rawJws(licenseHeader('k1'), d.claims(), new Uint8Array(64))],
    ['another key under a trusted kid', 'SIGNATURE_INVALID', async (d) => signJws(licenseHeader('k1'), d.claims(), (await generateSigningKey('k1')).privateKey)],
    [
      'an embedded jwk header (attacker key) with a trusted kid',
      'SIGNATURE_INVALID',
      async (d) => {
        const evil = await generateSigningKey('k1');
        const { kty, crv, x, y } = evil.publicJwk;
        return signJws({ ...licenseHeader('k1'), jwk: { kty, crv, x, y } }, d.claims(), evil.privateKey);
      },
    ],
    ['an unknown kid', 'KEY_UNKNOWN', async (d) => signJws(licenseHeader('evil'), d.claims(), (await generateSigningKey('evil')).privateKey)],
    ['no kid (signed by a trusted key)', 'KEY_UNKNOWN', (d) => signJws({ alg: 'ES256', typ: 'kiosk-license+jwt' }, d.claims(), d.issuer.key().privateKey)],
    ['a wrong typ', 'TYPE_INVALID', (d) => signJws({ ...licenseHeader('k1'), typ: 'kiosk-device-proof+jwt' }, d.claims(), d.issuer.key().privateKey)],
    [
      'a tampered payload',
      'SIGNATURE_INVALID',
      async (d) => replaceSegment(await signLicense(d.issuer, d.claims()), 1, b64json(d.claims({ features: ['sales', 'everything'] }))),
    ],
    [
      'expired beyond grace',
      'EXPIRED',
      (d) => signLicense(d.issuer, d.claims({ sub: 'lic-old', exp: NOW_S - 30 * DAY_S, lexp: NOW_S - 30 * DAY_S, grace: 7 * DAY_S, nbf: NOW_S - 60 * DAY_S }, NOW_S - 60 * DAY_S)),
    ],
    ['not yet valid (nbf a day after iat, in the future)', 'NOT_YET_VALID', (d) => signLicense(d.issuer, d.claims({ nbf: NOW_S + DAY_S }, NOW_S - 60))],
    ['wrong audience', 'CLAIM_INVALID', (d) => signLicense(d.issuer, d.claims({ aud: 'kiosk-server' }))],
    ['wrong issuer', 'CLAIM_INVALID', (d) => signLicense(d.issuer, d.claims({ iss: 'https://attacker.example' }))],
    [
      'another device (other fixture components)',
      'DEVICE_MISMATCH',
      async (d) => {
        const other = await otherDeviceBinding('arm64-generic', d.issuer);
        expect(other.components.soc_serial).toBeDefined();
        expect(other.components.soc_serial).not.toBe(d.binding.components.soc_serial);
        return signLicense(d.issuer, d.claims({ device: { v: 1, id: other.deviceId, components: other.components } }));
      },
    ],
    ['another device key (cnf.jkt)', 'DEVICE_MISMATCH', (d) => signLicense(d.issuer, d.claims({ cnf: { jkt: 'A'.repeat(43) } }))],
    ['an older token of the same license', 'TOKEN_REPLAYED', (d) => signLicense(d.issuer, d.claims({ jti: 'older' }, NOW_S - 2 * 3600))],
    ['truncated', 'TOKEN_MALFORMED', async (d) => (await signLicense(d.issuer, d.claims())).slice(0, 120)],
    ['extra segments', 'TOKEN_MALFORMED', async (d) => `${await signLicense(d.issuer, d.claims())}.e30.e30`],
    ['non-base64', 'TOKEN_MALFORMED', async (d) => replaceSegment(await signLicense(d.issuer, d.claims()), 2, '!!not*base64!!')],
    ['megabytes of garbage', 'TOKEN_MALFORMED', () => Buffer.alloc(3 * 1024 * 1024, 0x41)],
    ['binary garbage', 'TOKEN_MALFORMED', () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131) % 256))],
    ['an empty file', 'TOKEN_MALFORMED', () => ''],
  ];

  it.each(rows)('%s → exit 3, %s', async (_name, reason, make) => {
    const d = await device('rpi4-64bit', { clockTrust: 'timesync' });
    const good = await signLicense(d.issuer, d.claims({ jti: 'good', sub: 'lic-0001' }, NOW_S - 3600));
    expect((await d.run(['license', 'install', d.file('good.jwt', good)])).code).toBe(0);

    const bad = await make(d);
    const r = await d.run(['license', 'install', d.file('bad.jwt', bad), '--json']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`^error ${reason}: `, 'm'));
    expect(r.json()).toMatchObject({ error: { code: reason } });

    const s = await d.status();
    expect(s).toMatchObject({ code: 0, mode: 'licensed', reason: null, tokenId: 'good' });
    const store = openAgentStore({ dataDir: d.dataDir });
    try {
      expect(store.licenseState.readLicenseState().installed?.token).toBe(good);
      expect(store.tables.license.history()).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('a token just over the size cap is refused before parsing', async () => {
    const d = await device('rpi4-64bit');
    const good = await signLicense(d.issuer, d.claims());
    const r = await d.run(['license', 'install', d.file('big.jwt', `${good}${' '.repeat(MAX_TOKEN_BYTES + 1 - good.length)}`)]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error TOKEN_MALFORMED: .*larger than 16384 bytes/m);
  });

  it('a device that never made its device key cannot install (DEVICE_MISMATCH) and status still makes none', async () => {
    const d = await device('rpi4-64bit');
    const fresh = join(d.dir, 'fresh-data');
    const run = (argv: string[]) => runAgent([...argv, '--sysroot', d.root, '--data-dir', fresh], { clock: d.clock, env: { KIOSK_AGENT_TRUSTED_KEYS: d.keysFile } });
    const r = await run(['license', 'install', d.file('l.jwt', await signLicense(d.issuer, d.claims()))]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error DEVICE_MISMATCH: .*no device key/m);
    expect(existsSync(join(fresh, 'device-key.pem'))).toBe(false);
  });
});

describe('interoperability', () => {
  it('accepts a token signed by the openssl command line (DER signature converted to r||s)', async () => {
    const d = await device('rpi4-64bit');
    const ossl = (args: string[]) => {
      const r = spawnSync('openssl', args, { cwd: d.dir, encoding: 'buffer' });
      expect(r.status, r.stderr.toString()).toBe(0);
      return r.stdout;
    };
    ossl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ossl.key.pem']);
    ossl(['ec', '-in', 'ossl.key.pem', '-pubout', '-out', 'ossl.pub.pem']);
    const jwk = createPublicKey(readFileSync(join(d.dir, 'ossl.pub.pem'))).export({ format: 'jwk' });
    const keysFile = writeTrustedKeySet(d.dir, { issuer: d.issuer.issuer, keys: [{ ...jwk, kid: 'ossl-1', alg: 'ES256', use: 'sig' }] }, 'ossl-jwks.json');

    const signingInput = `${b64json({ alg: 'ES256', typ: 'kiosk-license+jwt', kid: 'ossl-1' })}.${b64json(d.claims({ sub: 'lic-ossl' }))}`;
    writeFileSync(join(d.dir, 'input.txt'), signingInput);
    ossl(['dgst', '-sha256', '-sign', 'ossl.key.pem', '-out', 'sig.der', 'input.txt']);
    const der = readFileSync(join(d.dir, 'sig.der'));
    expect(der[0]).toBe(0x30);
    const token = `${signingInput}.${derToJoseSignature(der).toString('base64url')}`;
    expect(Buffer.from(segments(token)[2], 'base64url')).toHaveLength(64);

    const r = await runAgent(['license', 'install', d.file('ossl.jwt', token), '--json', '--sysroot', d.root, '--data-dir', d.dataDir], {
      clock: d.clock,
      env: { KIOSK_AGENT_TRUSTED_KEYS: keysFile },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ mode: 'licensed', licenseId: 'lic-ossl' });
    // and the DER form itself is refused
    const derToken = `${signingInput}.${der.toString('base64url')}`;
    const refused = await runAgent(['license', 'install', d.file('der.jwt', derToken), '--sysroot', d.root, '--data-dir', d.dataDir], {
      clock: d.clock,
      env: { KIOSK_AGENT_TRUSTED_KEYS: keysFile },
    });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^error (SIGNATURE_INVALID|TOKEN_REPLAYED): /m);
  });
});

describe('license status — clock', () => {
  it.each([
    ['timesync', 'ntp'],
    ['rtc', 'rtc'],
  ] as const)('a clock rolled back a day on a device whose clock is trusted (%s) → CLOCK_TAMPERED, not NOT_YET_VALID', async (trust, source) => {
    const d = await device('x64-pc', { clockTrust: trust });
    const r = await d.run(['license', 'install', d.file('l.jwt', await signLicense(d.issuer, d.claims()))]);
    expect(r.code, r.stderr).toBe(0);
    expect(await d.status()).toMatchObject({ code: 0, mode: 'licensed' });

    d.clock.set(NOW_MS - DAY_MS); // before the token's nbf (NOW - 1 h) as well
    const s = await d.status();
    expect(s).toMatchObject({ code: 3, mode: 'trial', reason: 'CLOCK_TAMPERED', clock: { trusted: true, source, tampered: true } });
    expect(s.clock.floor).toBe(new Date(NOW_MS).toISOString());
    // a tampered clock does not lower the high-water mark: back at NOW all is well again
    d.clock.set(NOW_MS + 60_000);
    expect(await d.status()).toMatchObject({ code: 0, mode: 'licensed' });
  });

  it.each([
    ['1970', 0],
    ['2019', Date.UTC(2019, 5, 1)],
  ])('a Raspberry Pi without RTC or NTP booting at %s is not flagged: licensed, decided with the floor', async (_label, bootMs) => {
    const d = await device('rpi4-32bit', { clockTrust: 'none' });
    expect(existsSync(join(d.root, 'sys/class/rtc/rtc0'))).toBe(false);
    const iat = NOW_S - 3600;
    const r = await d.run(['license', 'install', d.file('l.jwt', await signLicense(d.issuer, d.claims({}, iat)))]);
    expect(r.code, r.stderr).toBe(0);

    d.clock.set(bootMs);
    const s = await d.status();
    expect(s).toMatchObject({ code: 0, mode: 'licensed', reason: null, clock: { trusted: false, source: null, tampered: false } });
    expect(s.clock.floor).toBe(new Date(iat * 1000).toISOString());
  });

  it('the same Pi can install a token while its clock still reads 1970', async () => {
    const d = await device('rpi4-32bit', { clockTrust: 'none' });
    d.clock.set(0);
    const r = await d.run(['license', 'install', d.file('l.jwt', await signLicense(d.issuer, d.claims()))]);
    expect(r.code, r.stderr).toBe(0);
    expect(await d.status()).toMatchObject({ code: 0, mode: 'licensed' });
  });
});

describe('license status — grace, trial, revocation', () => {
  it('exp passed within grace → grace, exit 0 (install and status)', async () => {
    const d = await device('rpi4-64bit', { clockTrust: 'timesync' });
    const claims = d.claims({ exp: NOW_S - DAY_S, nbf: NOW_S - 31 * DAY_S, grace: 7 * DAY_S }, NOW_S - 31 * DAY_S);
    const r = await d.run(['license', 'install', d.file('l.jwt', await signLicense(d.issuer, claims))]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/mode grace \(the token has expired; honoured until /);
    const s = await d.status();
    expect(s).toMatchObject({ code: 0, mode: 'grace', reason: 'EXPIRED', features: ['sales', 'reports'] });
    expect(s.graceEndsAt).toBe(new Date((NOW_S + 6 * DAY_S) * 1000).toISOString());
    // after the grace period: expired, trial
    d.clock.set(NOW_MS + 7 * DAY_MS);
    expect(await d.status()).toMatchObject({ code: 3, mode: 'trial', reason: 'EXPIRED', features: ['sales'] });
  });

  it('no license → trial, LICENSE_MISSING, exit 3, the full period left; the status document, not an error; no data dir made', async () => {
    const d = await device('rpi4-64bit');
    const fresh = join(d.dir, 'never-made');
    const r = await runAgent(['license', 'status', '--json', '--sysroot', d.root, '--data-dir', fresh], {
      clock: d.clock,
      env: { KIOSK_AGENT_TRUSTED_KEYS: d.keysFile },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('');
    const s = r.json();
    expect(s.error).toBeUndefined();
    expect(s).toMatchObject({
      mode: 'trial',
      reason: 'LICENSE_MISSING',
      features: ['sales'],
      licenseId: null,
      tenant: null,
      deviceId: d.binding.deviceId,
      trial: { startedAt: null, endsAt: null, daysLeft: 14, maxOrdersPerDay: 100 },
    });
    expect(existsSync(fresh)).toBe(false);

    // with a data dir (device key made by `fingerprint`) but no database: none is created either
    const again = await d.run(['license', 'status']);
    expect(again.code).toBe(3);
    expect(again.stdout).toMatch(/^reason: +LICENSE_MISSING/m);
    expect(existsSync(join(d.dataDir, 'agent.db'))).toBe(false);
  });

  it('trial started 15 days ago → unlicensed, no features, exit 3', async () => {
    const d = await device('rpi4-64bit', { clockTrust: 'timesync' });
    const store = openAgentStore({ dataDir: d.dataDir });
    store.licenseState.startTrialIfNeeded(NOW_MS - 15 * DAY_MS);
    store.close();
    const s = await d.status();
    expect(s).toMatchObject({ code: 3, mode: 'unlicensed', reason: 'LICENSE_MISSING', features: [] });
    expect(s.trial).toMatchObject({ startedAt: new Date(NOW_MS - 15 * DAY_MS).toISOString(), daysLeft: 0 });
  });

  it('trial started 3 days ago → trial with 11 days left', async () => {
    const d = await device('rpi4-64bit');
    const store = openAgentStore({ dataDir: d.dataDir });
    store.licenseState.startTrialIfNeeded(NOW_MS - 3 * DAY_MS);
    store.close();
    expect(await d.status()).toMatchObject({ code: 3, mode: 'trial', trial: { daysLeft: 11, endsAt: new Date(NOW_MS + 11 * DAY_MS).toISOString() } });
  });

  it.each([
    ['the license id', (_d: Device) => ({ licenses: ['lic-rev'] })],
    ['the device id', (d: Device) => ({ devices: [d.binding.deviceId] })],
    ['the token id', (_d: Device) => ({ tokens: ['tok-rev'] })],
  ])('a stored revocation list naming %s → REVOKED, exit 3', async (_what, list) => {
    const d = await device('rpi4-64bit', { clockTrust: 'timesync' });
    expect((await d.run(['license', 'install', d.file('l.jwt', await signLicense(d.issuer, d.claims({ sub: 'lic-rev', jti: 'tok-rev' })))])).code).toBe(0);
    const doc = await signRevocationList(d.issuer, { iatS: NOW_S - 60, version: 1, ...list(d) });
    const store = openAgentStore({ dataDir: d.dataDir });
    expect(store.licenseState.storeRevocationList({ version: 1, iat: NOW_S - 60, document: doc, storedAtMs: NOW_MS })).toBe(true);
    store.close();
    expect(await d.status()).toMatchObject({ code: 3, mode: 'trial', reason: 'REVOKED', licenseId: 'lic-rev' });
    // and a revoked token cannot be installed again
    const r = await d.run(['license', 'install', d.file('l2.jwt', await signLicense(d.issuer, d.claims({ sub: 'lic-rev', jti: 'tok-rev' })))]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error REVOKED: /m);
  });
});
