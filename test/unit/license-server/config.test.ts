import { describe, expect, it } from 'vitest';
import { KioskError } from '../../../common/errors.ts';
import { describeDatabase, resolveServerConfig } from '../../../license-server/src/config.ts';

const cwd = '/srv/repo';

describe('server config', () => {
  it('defaults to ./.data/server, its keys/ and server.db', () => {
    const c = resolveServerConfig({ flags: {}, env: {}, cwd });
    expect(c).toEqual({
      dataDir: '/srv/repo/.data/server',
      keysDir: '/srv/repo/.data/server/keys',
      database: { kind: 'sqlite', file: '/srv/repo/.data/server/server.db' },
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.database)).toBe(true);
  });

  it('takes env over defaults and flags over env', () => {
    const env = { LICENSE_SERVER_DATA_DIR: '/var/lib/ls', LICENSE_SERVER_KEYS: 'k', LICENSE_SERVER_DB: '/db/a.db' };
    expect(resolveServerConfig({ flags: {}, env, cwd })).toEqual({
      dataDir: '/var/lib/ls',
      keysDir: '/srv/repo/k',
      database: { kind: 'sqlite', file: '/db/a.db' },
    });
    expect(resolveServerConfig({ flags: { 'data-dir': 'd', keys: '/keys', db: 'x.db' }, env, cwd })).toEqual({
      dataDir: '/srv/repo/d',
      keysDir: '/keys',
      database: { kind: 'sqlite', file: '/srv/repo/x.db' },
    });
    expect(resolveServerConfig({ flags: { 'data-dir': 'd' }, env: {}, cwd }).keysDir).toBe('/srv/repo/d/keys');
  });

  it('recognises a PostgreSQL URL and never shows its password', () => {
    const c = resolveServerConfig({ flags: { db: 'postgres://admin:s3cret@db.example:5432/ls' }, env: {}, cwd });
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgres://admin:s3cret@db.example:5432/ls' });
    expect(describeDatabase(c.database)).toBe('postgres://admin:***@db.example:5432/ls');
  });

  it('refuses empty settings and unknown URL schemes', () => {
    expect(() => resolveServerConfig({ flags: { 'data-dir': '' }, env: {}, cwd })).toThrow(KioskError);
    try {
      resolveServerConfig({ flags: { db: 'mysql://u:pw@h/db' }, env: {}, cwd });
      throw new Error('accepted');
    } catch (err) {
      expect((err as KioskError).code).toBe('CONFIG_INVALID');
      expect((err as KioskError).message).not.toContain('pw');
    }
  });
});
