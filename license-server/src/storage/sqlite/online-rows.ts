// Rows ↔ records for the online-licensing tables (migration 2): API tokens and revocation
// entries. Rows are `unknown` until decoded, like rows.ts.
import { z } from 'zod';
import type { RevocationEntry, StoredApiToken } from '../../domain/server-storage.ts';
import { decode, decodeJson } from './rows.ts';

const int = z.number().int();

const apiTokenRow = z.object({
  id: z.string(),
  name: z.string(),
  token_hash: z.string(),
  scopes: z.string(),
  created_at: int,
  revoked_at: int.nullable(),
  last_used_at: int.nullable(),
});

const revocationRow = z.object({ kind: z.enum(['license', 'device', 'token']), value: z.string(), until_s: int });

const scopesJson = z.array(z.string());

export function decodeApiToken(row: unknown): StoredApiToken {
  const r = decode(apiTokenRow, row, 'api_tokens');
  return {
    id: r.id,
    name: r.name,
    tokenHash: r.token_hash,
    scopes: decodeJson(scopesJson, r.scopes, 'api_tokens.scopes'),
    createdAtMs: r.created_at,
    revokedAtMs: r.revoked_at,
    lastUsedAtMs: r.last_used_at,
  };
}

export function encodeApiToken(t: StoredApiToken): Record<string, string | number | null> {
  return {
    id: t.id,
    name: t.name,
    token_hash: t.tokenHash,
    scopes: JSON.stringify(t.scopes),
    created_at: t.createdAtMs,
    revoked_at: t.revokedAtMs,
    last_used_at: t.lastUsedAtMs,
  };
}

export function decodeRevocationEntry(row: unknown): RevocationEntry {
  const r = decode(revocationRow, row, 'revocation_entries');
  return { kind: r.kind, value: r.value, untilS: r.until_s };
}
