// Vendor API tokens (domain/api-tokens.ts) on a real database: format, hash-only storage,
// authentication failures, scopes, and at most one lastUsed write a minute.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { authenticateApiToken, createApiToken, hasScope, listApiTokens, revokeApiToken } from '../../../license-server/src/domain/api-tokens.ts';
import { allFiles } from './helpers/server-fixture.ts';
import { NOW, onlineFixture } from './helpers/online-fixture.ts';

describe('API tokens', () => {
  it('makes kat_ + 256 random bits, shown once; the database holds only its SHA-256', async () => {
    const f = await onlineFixture();
    const { token, record } = await createApiToken(f.deps, { name: 'deploy bot', scopes: ['licenses:read', 'licenses:read', 'audit:read'], actor: 'cli' });
    expect(token).toMatch(/^kat_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
    expect(record).toEqual({ id: expect.stringMatching(/^atk_[0-9a-f]{20}$/), name: 'deploy bot', scopes: ['licenses:read', 'audit:read'], createdAtMs: NOW, revokedAtMs: null, lastUsedAtMs: null });
    await authenticateApiToken(f.deps, token);
    await f.deps.storage.close(); // flush: the checkpoint moves the WAL into the file
    for (const file of allFiles(f.dir).filter((p) => !p.endsWith('.pem'))) {
      const content = readFileSync(file).toString('latin1');
      expect(content.includes(token), file).toBe(false);
      expect(content.includes(token.slice(4)), file).toBe(false);
    }
  });

  it('the audit log names the token id and scopes, never the token', async () => {
    const f = await onlineFixture();
    const { token, record } = await createApiToken(f.deps, { name: 'ci', scopes: ['admin'], actor: 'cli' });
    await revokeApiToken(f.deps, { id: record.id, actor: 'cli' });
    const audit = await f.deps.storage.listAudit();
    expect(audit.map((e) => [e.action, e.details.tokenId])).toEqual([
      ['api-token.create', record.id],
      ['api-token.revoke', record.id],
    ]);
    expect(JSON.stringify(audit)).not.toContain(token.slice(4, 20));
  });

  it('refuses unknown, malformed, revoked and tampered tokens alike with UNAUTHORIZED', async () => {
    const f = await onlineFixture();
    const { token, record } = await createApiToken(f.deps, { name: 'a', scopes: ['admin'], actor: 'cli' });
    expect((await authenticateApiToken(f.deps, token)).id).toBe(record.id);
    expect((await authenticateApiToken(f.deps, `Bearer ${token}`)).id).toBe(record.id);
    const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    const messages = new Set<string>();
    for (const bad of ['', 'kat_', 'Bearer', token.slice(0, -1), `${token}x`, tampered, `kat_${'A'.repeat(43)}`, token.replace('kat_', 'kak_')]) {
      const err = await authenticateApiToken(f.deps, bad).catch((e: unknown) => e as { code: string; message: string });
      expect(err, bad).toMatchObject({ code: 'UNAUTHORIZED' });
      messages.add((err as { message: string }).message);
    }
    await revokeApiToken(f.deps, { id: record.id, actor: 'cli' });
    await revokeApiToken(f.deps, { id: record.id, actor: 'cli' }); // idempotent
    const revoked = await authenticateApiToken(f.deps, token).catch((e: unknown) => e as { code: string; message: string });
    expect(revoked).toMatchObject({ code: 'UNAUTHORIZED' });
    messages.add((revoked as { message: string }).message);
    expect(messages.size).toBe(1); // nothing tells an unknown token from a revoked one
    await expect(revokeApiToken(f.deps, { id: 'atk_missing', actor: 'cli' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('scopes: admin implies all; others only themselves; unknown scopes and empty names refused', async () => {
    const f = await onlineFixture();
    const reader = (await createApiToken(f.deps, { name: 'r', scopes: ['licenses:read'], actor: 'cli' })).record;
    f.deps.clock.advance(1); // listed oldest first
    const admin = (await createApiToken(f.deps, { name: 'a', scopes: ['admin'], actor: 'cli' })).record;
    expect(hasScope(reader, 'licenses:read')).toBe(true);
    expect(hasScope(reader, 'licenses:write')).toBe(false);
    expect(hasScope(reader, 'devices:write')).toBe(false);
    expect(hasScope(reader, 'admin')).toBe(false);
    for (const s of ['licenses:read', 'licenses:write', 'devices:write', 'audit:read', 'admin'] as const) expect(hasScope(admin, s)).toBe(true);
    await expect(createApiToken(f.deps, { name: 'x', scopes: ['root' as never], actor: 'cli' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(createApiToken(f.deps, { name: 'x', scopes: [], actor: 'cli' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(createApiToken(f.deps, { name: '  ', scopes: ['admin'], actor: 'cli' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await listApiTokens(f.deps)).map((t) => t.id)).toEqual([reader.id, admin.id]);
  });

  it('records use at most once a minute, not per request', async () => {
    const f = await onlineFixture();
    const { token, record } = await createApiToken(f.deps, { name: 'a', scopes: ['admin'], actor: 'cli' });
    expect((await authenticateApiToken(f.deps, token)).lastUsedAtMs).toBe(NOW);
    f.deps.clock.advance(30_000);
    expect((await authenticateApiToken(f.deps, token)).lastUsedAtMs).toBe(NOW);
    expect((await f.deps.storage.getApiToken(record.id))?.lastUsedAtMs).toBe(NOW);
    f.deps.clock.advance(30_000);
    expect((await authenticateApiToken(f.deps, token)).lastUsedAtMs).toBe(NOW + 60_000);
    expect((await f.deps.storage.getApiToken(record.id))?.lastUsedAtMs).toBe(NOW + 60_000);
  });
});
