// `license-server keys …` in-process against real directories.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import { ISSUER_PATTERN } from '../../../common/license-token.ts';
import { parseTrustedKeySetText } from '../../../common/trusted-keys.ts';
import { runServer } from '../../helpers/server-cli.ts';
import { makeTempDir } from '../../helpers/tmp.ts';

const mode = (path: string): number => statSync(path).mode & 0o777;
const readJwks = (dir: string) => parseTrustedKeySetText(readFileSync(join(dir, 'jwks.json'), 'utf8'), 'jwks.json');

describe('license-server keys', () => {
  it('generate writes a 0600 PKCS#8 private key in a 0700 dir and a public key set agents can parse', async () => {
    const cwd = makeTempDir();
    const r = await runServer(['keys', 'generate', '--out', 'vendor-keys'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const dir = join(cwd, 'vendor-keys');
    expect(mode(dir)).toBe(0o700);

    const jwksText = readFileSync(join(dir, 'jwks.json'), 'utf8');
    const set = parseTrustedKeySetText(jwksText, 'jwks.json');
    expect(set.keys).toHaveLength(1);
    const key = set.keys[0]!;
    expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(JSON.parse(jwksText).keys.every((k: object) => !('d' in k))).toBe(true);
    expect(set.issuer).toMatch(ISSUER_PATTERN);
    expect(set.issuer).toMatch(/^urn:kiosk:vendor:[0-9a-f]{32}$/);

    // kid = first 64 bits of the RFC 7638 thumbprint, hex
    const thumb = await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: key.x, y: key.y }, 'sha256');
    expect(key.kid).toBe(Buffer.from(thumb, 'base64url').toString('hex').slice(0, 16));

    const pemPath = join(dir, `${key.kid}.private.pem`);
    expect(mode(pemPath)).toBe(0o600);
    const pem = readFileSync(pemPath, 'utf8');
    expect(pem.startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true); // PKCS#8
    const priv = createPrivateKey(pem);
    expect(createPublicKey(priv).export({ format: 'jwk' })).toMatchObject({ x: key.x, y: key.y });
    const d = priv.export({ format: 'jwk' }).d!;
    const pemBody = pem.split('\n')[1]!;
    for (const text of [r.stdout, r.stderr, jwksText]) {
      expect(text).not.toContain(d);
      expect(text).not.toContain(pemBody);
    }
    expect(r.stdout).toContain(key.kid);
    expect(r.stdout).toContain(set.issuer);
  });

  it('defaults to DATA_DIR/keys, where the agent looks from the repo', async () => {
    const cwd = makeTempDir();
    const r = await runServer(['keys', 'generate'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(cwd, '.data/server/keys/jwks.json'))).toBe(true);
    expect(existsSync(join(cwd, '.data/server/server.db'))).toBe(false); // keys never make a database
    const other = await runServer(['keys', 'generate', '--data-dir', 'elsewhere'], { cwd });
    expect(other.code).toBe(0);
    expect(readJwks(join(cwd, 'elsewhere/keys')).issuer).not.toBe(readJwks(join(cwd, '.data/server/keys')).issuer);
  });

  it('generate again adds the next key (rotation) under the same issuer; a different --issuer is refused', async () => {
    const cwd = makeTempDir();
    const dir = join(cwd, 'k');
    expect((await runServer(['keys', 'generate', '--out', dir, '--issuer', 'urn:kiosk:vendor:acme'], { cwd })).code).toBe(0);
    const first = readJwks(dir).keys[0]!.kid;
    const again = await runServer(['keys', 'generate', '--out', dir], { cwd });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`signing key stays ${first}`);
    const same = await runServer(['keys', 'generate', '--out', dir, '--issuer', 'urn:kiosk:vendor:acme'], { cwd });
    expect(same.code).toBe(0);
    const set = readJwks(dir);
    expect(set.issuer).toBe('urn:kiosk:vendor:acme');
    expect(set.keys).toHaveLength(3);
    expect(set.keys[0]!.kid).toBe(first);
    expect(new Set(set.keys.map((k) => k.kid)).size).toBe(3);

    const clash = await runServer(['keys', 'generate', '--out', dir, '--issuer', 'urn:kiosk:vendor:other'], { cwd });
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/^error USAGE: .*urn:kiosk:vendor:acme/);
    expect(readJwks(dir).keys).toHaveLength(3);

    const bad = await runServer(['keys', 'generate', '--out', join(cwd, 'k2'), '--issuer', 'has space'], { cwd });
    expect(bad.code).toBe(2);
    expect(existsSync(join(cwd, 'k2'))).toBe(false);
  });

  it('list, activate and retire manage which key signs and which are trusted', async () => {
    const cwd = makeTempDir();
    const flags = ['--keys', 'k'];
    await runServer(['keys', 'generate', ...flags], { cwd });
    await runServer(['keys', 'generate', ...flags], { cwd });
    const dir = join(cwd, 'k');
    const [k1, k2] = readJwks(dir).keys.map((k) => k.kid) as [string, string];

    let list = await runServer(['keys', 'list', '--json', ...flags], { cwd });
    expect(list.json().keys).toEqual([
      { kid: k1, status: 'signing', hasPrivateKey: true },
      { kid: k2, status: 'trusted', hasPrivateKey: true },
    ]);
    const text = await runServer(['keys', 'list', ...flags], { cwd });
    expect(text.stdout).toMatch(new RegExp(`${k1}\\s+signing\\s+yes`));

    expect((await runServer(['keys', 'retire', k1, ...flags], { cwd })).stderr).toMatch(/^error USAGE: .*signing key/);
    expect((await runServer(['keys', 'activate', 'nope', ...flags], { cwd })).code).toBe(2);

    const act = await runServer(['keys', 'activate', k2, ...flags], { cwd });
    expect(act.code, act.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'signing.json'), 'utf8'))).toEqual({ kid: k2 });

    const retire = await runServer(['keys', 'retire', k1, ...flags], { cwd });
    expect(retire.code, retire.stderr).toBe(0);
    expect(readJwks(dir).keys.map((k) => k.kid)).toEqual([k2]);
    expect(existsSync(join(dir, `${k1}.private.pem`))).toBe(false);
    expect(existsSync(join(dir, 'retired', `${k1}.private.pem`))).toBe(true);
    expect(mode(join(dir, 'retired'))).toBe(0o700);

    list = await runServer(['keys', 'list', '--json', ...flags], { cwd });
    expect(list.json().keys).toEqual([
      { kid: k2, status: 'signing', hasPrivateKey: true },
      { kid: k1, status: 'retired', hasPrivateKey: true },
    ]);
  });

  it('narrows an existing key dir that others can read, and says so', async () => {
    const cwd = makeTempDir();
    const dir = join(cwd, 'open');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const r = await runServer(['keys', 'generate', '--out', dir], { cwd });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/narrowed it to 0700/);
    expect(mode(dir)).toBe(0o700);
  });

  it('without keys, list reports KEYS_MISSING (exit 1) and names the fix', async () => {
    const cwd = makeTempDir();
    const r = await runServer(['keys', 'list'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error KEYS_MISSING: no signing keys in .*: run license-server keys generate --out /);
  });

  it('--out and --keys naming different directories is a usage error', async () => {
    const cwd = makeTempDir();
    const r = await runServer(['keys', 'generate', '--out', 'a', '--keys', 'b'], { cwd });
    expect(r.code).toBe(2);
    expect(existsSync(join(cwd, 'a'))).toBe(false);
  });
});
