// `license-server license create|list|show|revoke` in-process against a real SQLite file.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../common/clock.ts';
import { LICENSE_KEY_PATTERN, normalizeLicenseKey } from '../../../common/license-key.ts';
import { openSqliteStorage } from '../../../license-server/src/storage/sqlite/sqlite-storage.ts';
import { allFiles, serverFixture } from './helpers/server-fixture.ts';

const NOW = Date.UTC(2027, 0, 10, 9, 0, 0);

describe('license-server license', () => {
  it('create prints a summary and the key as the last word of stdout, once', async () => {
    const s = await serverFixture({ clock: fixedClock(NOW) });
    const r = await s.run(['license', 'create', '--tenant', 'shop-7', '--features', 'pos, sync,,reports', '--max-devices', '5', '--days', '30', '--grace-days', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.lastWord).toMatch(LICENSE_KEY_PATTERN);
    expect(normalizeLicenseKey(r.lastWord)).toBe(r.lastWord);
    expect(normalizeLicenseKey(r.lastWord.toLowerCase().replace(/-/g, ''))).toBe(r.lastWord);
    expect(r.stdout).toMatch(/license lic_[0-9a-f]{20} created/);
    expect(r.stdout).toContain('tenant: shop-7');
    expect(r.stdout).toContain('features: pos, sync, reports');
    expect(r.stdout).toContain('seats: 0 of 5 in use');
    expect(r.stdout).toContain('valid: 2027-01-10T09:00:00Z to 2027-02-09T09:00:00Z');
    expect(r.stdout).toContain('grace: 3 day(s)');
    expect(r.stdout).toContain('virtual machines and containers: refused');
  });

  it('never stores or logs the raw key: not in the database, its WAL, the audit log or stderr', async () => {
    const s = await serverFixture();
    const keys = [await s.createLicense(), await s.createLicense(['--max-devices', '1', '--expires', '2099-12-31', '--allow-virtual'])];
    await s.run(['license', 'list']);
    await s.run(['license', 'show', keys[0]!.key]);
    await s.run(['license', 'revoke', keys[1]!.key]);
    const files = allFiles(s.dataDir).filter((f) => !f.endsWith('.private.pem'));
    expect(files.some((f) => f.endsWith('server.db'))).toBe(true);
    for (const { key } of keys) {
      const forms = [key, key.replace(/-/g, ''), key.toLowerCase()];
      for (const file of files) {
        const content = readFileSync(file).toString('latin1');
        for (const form of forms) expect(content.includes(form), `${form} in ${file}`).toBe(false);
      }
      for (const err of s.stderrLog) for (const form of forms) expect(err).not.toContain(form);
    }
    const storage = await openSqliteStorage({ file: join(s.dataDir, 'server.db') });
    try {
      const audit = await storage.listAudit();
      expect(audit.map((e) => e.action)).toEqual(['license.create', 'license.create', 'license.revoke']);
      expect(JSON.stringify(audit)).not.toContain(keys[0]!.key.slice(0, 11));
    } finally {
      await storage.close();
    }
  });

  it('list and show display licenses by key hint; show takes the key or the id', async () => {
    const clock = fixedClock(NOW);
    const s = await serverFixture({ clock });
    const a = await s.createLicense(['--max-devices', '3', '--days', '10']);
    clock.advance(1000); // listed oldest first (ties are ordered by id)
    const b = await s.createLicense(['--max-devices', '1', '--expires', '2027-12-31', '--allow-virtual']);

    const list = await s.run(['license', 'list', '--json']);
    expect(list.code).toBe(0);
    const rows = list.json().licenses as Array<Record<string, unknown>>;
    expect(rows.map((l) => l.id)).toEqual([a.id, b.id]);
    expect(rows[1]).toMatchObject({ tenant: 'shop-1', maxDevices: 1, allowVirtual: true, status: 'active', activeDevices: 0, expiresAt: '2028-01-01T00:00:00Z', keyHint: b.key.replace(/-/g, '').slice(-4) });
    expect(list.stdout).not.toContain('keyHash');
    const text = await s.run(['license', 'list']);
    expect(text.stdout).toMatch(new RegExp(`${a.id}\\s+…${a.key.slice(-5).replace('-', '')}\\s+shop-1\\s+active\\s+0/3`));

    const byKey = await s.run(['license', 'show', a.key.toLowerCase(), '--json']);
    const byId = await s.run(['license', 'show', a.id, '--json']);
    expect(byKey.code).toBe(0);
    expect(byKey.json()).toEqual(byId.json());
    expect(byKey.json().license).toMatchObject({ id: a.id, maxDevices: 3, activeDevices: 0 });
    expect(byKey.json().activations).toEqual([]);
    const shown = await s.run(['license', 'show', a.id]);
    expect(shown.stdout).toContain(`license ${a.id} (active)`);
    expect(shown.stdout).toContain('activations: none');
    expect(shown.stdout).not.toContain(a.key);
  });

  it('show and revoke explain a mistyped, unknown or missing license', async () => {
    const s = await serverFixture();
    const { key } = await s.createLicense();
    const typo = `${key.slice(0, 3)}${key[3] === 'A' ? 'B' : 'A'}${key.slice(4)}`;
    const r1 = await s.run(['license', 'show', typo]);
    expect(r1.code).toBe(3);
    expect(r1.stderr).toMatch(/^error LICENSE_KEY_MALFORMED: /);
    const r2 = await s.run(['license', 'revoke', 'lic_00000000000000000000']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/^error NOT_FOUND: no license lic_0+/);
    const r3 = await s.run(['license', 'show', '00000-00000-00000-00000-00', '--json']);
    expect(r3.code).toBe(3);
    expect(r3.json()).toEqual({ error: { code: 'LICENSE_KEY_UNKNOWN', message: expect.any(String) } });
  });

  it('revoke is immediate, idempotent and works by key or id', async () => {
    const s = await serverFixture({ clock: fixedClock(NOW) });
    const { key, id } = await s.createLicense();
    const r = await s.run(['license', 'revoke', key]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`license ${id} revoked at 2027-01-10T09:00:00Z\n`);
    const again = await s.run(['license', 'revoke', id, '--json']);
    expect(again.json()).toMatchObject({ changed: false, license: { id, status: 'revoked', revokedAt: '2027-01-10T09:00:00Z' } });
  });

  it('create refuses bad input with usage errors and stores nothing', async () => {
    const s = await serverFixture();
    const base = ['license', 'create', '--tenant', 'shop-1', '--features', 'pos'];
    const cases: Array<[string[], string]> = [
      [[...base, '--days', '30'], 'USAGE'],
      [[...base, '--max-devices', '2'], 'USAGE'],
      [[...base, '--max-devices', '2', '--days', '30', '--expires', '2030-01-01'], 'USAGE'],
      [[...base, '--max-devices', '0', '--days', '30'], 'USAGE'],
      [[...base, '--max-devices', 'two', '--days', '30'], 'USAGE'],
      [['license', 'create', '--tenant', 'shop 1', '--features', 'pos', '--max-devices', '2', '--days', '30'], 'VALIDATION_FAILED'],
      [[...base, '--max-devices', '2', '--expires', '2001-01-01'], 'VALIDATION_FAILED'],
      [[...base, '--max-devices', '2', '--days', '30', '--bogus'], 'USAGE'],
    ];
    for (const [args, code] of cases) {
      const r = await s.run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^error ${code}: `));
    }
    expect((await s.run(['license', 'list', '--json'])).json().licenses).toEqual([]);
  });

  it('--db postgres://… is refused for now (CONFIG_INVALID), without showing the password', async () => {
    const s = await serverFixture();
    const r = await s.run(['license', 'list', '--db', 'postgres://vendor:hunter2@db:5432/licenses']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error CONFIG_INVALID: PostgreSQL storage is not in this build yet/);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('--db FILE puts the database where it is told', async () => {
    const s = await serverFixture();
    const r = await s.run(['license', 'create', '--tenant', 't', '--features', 'f', '--max-devices', '1', '--days', '1', '--db', 'custom/licenses.db']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(s.cwd, 'custom/licenses.db'))).toBe(true);
    expect(existsSync(join(s.dataDir, 'server.db'))).toBe(false);
  });
});
