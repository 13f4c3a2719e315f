import { describe, expect, it } from 'vitest';
import { API_SCOPES, hasScope, parseApiScopes, type ApiTokenRecord } from '../../../license-server/src/domain/api-tokens.ts';

const record = (scopes: ApiTokenRecord['scopes']): ApiTokenRecord => ({ id: 'atk_1', name: 'n', scopes, createdAtMs: 0, revokedAtMs: null, lastUsedAtMs: null });

describe('API token scopes', () => {
  it('admin implies every scope; another scope only itself', () => {
    for (const s of API_SCOPES) expect(hasScope(record(['admin']), s)).toBe(true);
    expect(API_SCOPES.filter((s) => hasScope(record(['devices:write']), s))).toEqual(['devices:write']);
    expect(API_SCOPES.filter((s) => hasScope(record([]), s))).toEqual([]);
  });

  it('parses a,b lists: trimmed, deduplicated, unknown or empty refused', () => {
    expect(parseApiScopes(' licenses:read,audit:read ,licenses:read,')).toEqual(['licenses:read', 'audit:read']);
    expect(() => parseApiScopes('licenses:read,Admin')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', message: expect.stringContaining('Admin') }));
    expect(() => parseApiScopes(' , ')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
