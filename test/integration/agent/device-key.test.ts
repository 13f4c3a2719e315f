// The device key pair in the data dir: made once, 0600, never replaced; two processes making it
// at the same moment end with one key.
import { spawn } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import { KioskError } from '../../../common/errors.ts';
import { deviceKeyPath, installDeviceKeyPem, loadDeviceKey, loadOrCreateDeviceKey } from '../../../agent/src/license/device-key.ts';
import { REPO_ROOT } from '../../helpers/cli.ts';
import { makeTempDir } from '../../helpers/tmp.ts';

const MODULE = pathToFileURL(join(REPO_ROOT, 'agent/src/license/device-key.ts')).href;

async function expectUnusable(promise: Promise<unknown>, file: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KioskError);
  expect((err as KioskError).code).toBe('DATA_DIR_UNUSABLE');
  expect((err as KioskError).message).toContain(file);
}

describe('loadOrCreateDeviceKey', () => {
  it('makes the data dir 0700 and a PKCS#8 P-256 key 0600 whose jkt is the RFC 7638 thumbprint', async () => {
    const dataDir = join(makeTempDir('dk-'), 'nested', 'data');
    const key = await loadOrCreateDeviceKey(dataDir);
    const file = deviceKeyPath(dataDir);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/);
    expect(key.publicJwk).toEqual({ kty: 'EC', crv: 'P-256', x: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), y: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(key.jkt).toBe(await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: key.publicJwk.x, y: key.publicJwk.y }, 'sha256'));
    // the private key signs what the public JWK verifies
    const signature = sign('sha256', Buffer.from('proof'), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    expect(verify('sha256', Buffer.from('proof'), { key: createPublicKey({ key: key.publicJwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    expect(readdirSync(dataDir)).toEqual(['device-key.pem']);
  });

  it('loads the same key on later calls', async () => {
    const dataDir = makeTempDir('dk-');
    const a = await loadOrCreateDeviceKey(dataDir);
    const pem = readFileSync(deviceKeyPath(dataDir), 'utf8');
    const b = await loadOrCreateDeviceKey(dataDir);
    expect(b.jkt).toBe(a.jkt);
    expect(readFileSync(deviceKeyPath(dataDir), 'utf8')).toBe(pem);
    expect((await loadDeviceKey(dataDir))?.jkt).toBe(a.jkt);
  });

  it('a corrupt key file is DATA_DIR_UNUSABLE naming the file, and is left untouched', async () => {
    const dataDir = makeTempDir('dk-');
    const file = deviceKeyPath(dataDir);
    writeFileSync(file, '-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n', { mode: 0o600 });
    await expectUnusable(loadOrCreateDeviceKey(dataDir), file);
    await expectUnusable(loadDeviceKey(dataDir), file);
    expect(readFileSync(file, 'utf8')).toContain('not base64 at all');
    expect(readdirSync(dataDir)).toEqual(['device-key.pem']);
  });

  it('an empty key file or a key of another type is unusable too', async () => {
    const dataDir = makeTempDir('dk-');
    const file = deviceKeyPath(dataDir);
    writeFileSync(file, '');
    await expectUnusable(loadOrCreateDeviceKey(dataDir), file);
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    writeFileSync(file, ed);
    await expectUnusable(loadOrCreateDeviceKey(dataDir), file);
    expect(readFileSync(file, 'utf8')).toBe(ed);
  });

  it('a key path that cannot be read, or a data dir that is a file, is DATA_DIR_UNUSABLE', async () => {
    const dataDir = makeTempDir('dk-');
    mkdirSync(deviceKeyPath(dataDir));
    await expectUnusable(loadOrCreateDeviceKey(dataDir), deviceKeyPath(dataDir));
    const notADir = join(makeTempDir('dk-'), 'file');
    writeFileSync(notADir, 'x');
    await expectUnusable(loadOrCreateDeviceKey(notADir), notADir);
  });
});

describe('loadDeviceKey', () => {
  it('never creates anything', async () => {
    const dataDir = join(makeTempDir('dk-'), 'data');
    expect(await loadDeviceKey(dataDir)).toBeUndefined();
    expect(existsSync(dataDir)).toBe(false);
    mkdirSync(dataDir);
    expect(await loadDeviceKey(dataDir)).toBeUndefined();
    expect(readdirSync(dataDir)).toEqual([]);
  });
});

describe('installDeviceKeyPem', () => {
  it('puts the first key in place; a second never replaces it', () => {
    const dataDir = makeTempDir('dk-');
    const pem = (): string => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const first = pem();
    expect(installDeviceKeyPem(dataDir, first)).toBe(true);
    expect(installDeviceKeyPem(dataDir, pem())).toBe(false);
    expect(readFileSync(deviceKeyPath(dataDir), 'utf8')).toBe(first);
    expect(readdirSync(dataDir)).toEqual(['device-key.pem']);
  });
});

/**
 * Runs `count` node processes that each wait at a barrier (a file the test creates once all are
 * ready), then run `mode`: "create" = loadOrCreateDeviceKey, "install" = make a key and
 * installDeviceKeyPem it unconditionally. Each prints {jkt, won?}.
 */
async function race(dataDir: string, mode: 'create' | 'install', count: number): Promise<Array<{ jkt: string; won?: boolean }>> {
  const dir = makeTempDir('dk-race-');
  const go = join(dir, 'go');
  const script = join(dir, 'race.mjs');
  writeFileSync(
    script,
    `import { existsSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
const m = await import(${JSON.stringify(MODULE)});
const [dataDir, go, mode] = process.argv.slice(2);
const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
process.stdout.write('ready\\n');
while (!existsSync(go)) {}
let won;
if (mode === 'install') won = m.installDeviceKeyPem(dataDir, pem);
const key = mode === 'install' ? await m.loadDeviceKey(dataDir) : await m.loadOrCreateDeviceKey(dataDir);
process.stdout.write(JSON.stringify({ jkt: key.jkt, won }) + '\\n');
`,
  );
  const children = Array.from({ length: count }, () => spawn(process.execPath, ['--import', 'tsx/esm', script, dataDir, go, mode], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  const outputs = children.map(
    (child) =>
      new Promise<{ out: string; err: string; code: number | null }>((resolve) => {
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('close', (code) => resolve({ out, err, code }));
      }),
  );
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          let seen = '';
          child.stdout.on('data', (d: Buffer) => {
            seen += d.toString();
            if (seen.includes('ready\n')) resolve();
          });
          child.on('close', () => reject(new Error('a racer exited before it was ready')));
        }),
    ),
  );
  writeFileSync(go, '');
  const results = await Promise.all(outputs);
  for (const r of results) expect(r.code, r.err).toBe(0);
  return results.map((r) => JSON.parse(r.out.split('\n').filter((l) => l.startsWith('{'))[0]!) as { jkt: string; won?: boolean });
}

describe('two processes at once', () => {
  it('both making the key: one key, both report it', async () => {
    const dataDir = join(makeTempDir('dk-'), 'data');
    const results = await race(dataDir, 'create', 2);
    const onDisk = await loadDeviceKey(dataDir);
    expect(results.map((r) => r.jkt)).toEqual([onDisk!.jkt, onDisk!.jkt]);
    expect(readdirSync(dataDir)).toEqual(['device-key.pem']);
  });

  it('both installing their own key: exactly one wins, both load the winner', async () => {
    const dataDir = makeTempDir('dk-');
    const results = await race(dataDir, 'install', 2);
    expect(results.filter((r) => r.won === true)).toHaveLength(1);
    const onDisk = await loadDeviceKey(dataDir);
    expect(results.map((r) => r.jkt)).toEqual([onDisk!.jkt, onDisk!.jkt]);
    expect(readdirSync(dataDir)).toEqual(['device-key.pem']);
  });
});
