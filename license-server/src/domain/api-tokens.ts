// Vendor API tokens (DESIGN §4.7 "bearer API token"): `kat_` + 256 random bits, shown once,
// stored only as SHA-256, with scopes. Authentication answers UNAUTHORIZED with one message for
// every failure (unknown, revoked, malformed) and records use at most once a minute.
import { createHash, timingSafeEqual } from 'node:crypto';
import { KioskError } from '../../../common/errors.ts';
import type { DomainDeps } from './deps.ts';
import type { StoredApiToken } from './server-storage.ts';

export type ApiScope =
  | 'licenses:read'
  | 'licenses:write'
  | 'devices:write'
  | 'audit:read'
  | 'catalog:read'
  | 'catalog:write'
  | 'orders:read'
  | 'fleet:read'
  | 'admin';
export const API_SCOPES: readonly ApiScope[] = [
  'licenses:read',
  'licenses:write',
  'devices:write',
  'audit:read',
  'catalog:read',
  'catalog:write',
  'orders:read',
  'fleet:read',
  'admin',
];

export interface ApiTokenRecord {
  id: string;
  name: string;
  scopes: ApiScope[];
  createdAtMs: number;
  revokedAtMs: number | null;
  lastUsedAtMs: number | null;
}

export const API_TOKEN_PREFIX = 'kat_';
/** 32 random bytes: 256 bits, 43 base64url characters. */
const TOKEN_RANDOM_BYTES = 32;
export const API_TOKEN_PATTERN = /^kat_[A-Za-z0-9_-]{43}$/;
/** lastUsedAtMs is written at most this often per token (no write per request). */
export const LAST_USED_RESOLUTION_MS = 60_000;
const NAME_PATTERN = /^[^\p{Cc}]{1,64}$/u;

const isScope = (s: string): s is ApiScope => (API_SCOPES as readonly string[]).includes(s);
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const unauthorized = (): KioskError => new KioskError('UNAUTHORIZED', 'the API token is missing, unknown or revoked');

/** "a,b" → scopes, checked; VALIDATION_FAILED names the unknown ones. */
export function parseApiScopes(text: string): ApiScope[] {
  return checkScopes(text.split(',').map((s) => s.trim()).filter((s) => s.length > 0));
}

export async function createApiToken(deps: DomainDeps, input: { name: string; scopes: ApiScope[]; actor: string }): Promise<{ token: string; record: ApiTokenRecord }> {
  const name = input.name.trim();
  if (!NAME_PATTERN.test(name)) throw new KioskError('VALIDATION_FAILED', 'a token name is 1 to 64 characters, no control characters');
  const scopes = checkScopes(input.scopes);
  const nowMs = deps.clock.nowMs();
  const token = `${API_TOKEN_PREFIX}${Buffer.from(deps.random(TOKEN_RANDOM_BYTES)).toString('base64url')}`;
  const stored: StoredApiToken = {
    id: `atk_${Buffer.from(deps.random(10)).toString('hex')}`,
    name,
    tokenHash: sha256Hex(token),
    scopes,
    createdAtMs: nowMs,
    revokedAtMs: null,
    lastUsedAtMs: null,
  };
  await deps.storage.transaction(async (tx) => {
    await tx.insertApiToken(stored);
    await tx.appendAudit({ atMs: nowMs, actor: input.actor, action: 'api-token.create', licenseId: null, deviceId: null, details: { tokenId: stored.id, name, scopes } });
  });
  return { token, record: toRecord(stored) };
}

/** The token's record; UNAUTHORIZED for anything wrong. Accepts the token or an `Authorization` value ("Bearer kat_…"). */
export async function authenticateApiToken(deps: DomainDeps, bearer: string): Promise<ApiTokenRecord> {
  const token = typeof bearer === 'string' ? bearer.trim().replace(/^Bearer\s+/i, '') : '';
  if (!API_TOKEN_PATTERN.test(token)) throw unauthorized();
  const hash = sha256Hex(token);
  const stored = await deps.storage.findApiTokenByHash(hash);
  // Looked up by hash (an index); compared again in constant time so no code path compares secrets byte by byte.
  if (!stored || !timingSafeEqual(Buffer.from(stored.tokenHash, 'hex'), Buffer.from(hash, 'hex')) || stored.revokedAtMs !== null) {
    throw unauthorized();
  }
  const nowMs = deps.clock.nowMs();
  if (stored.lastUsedAtMs === null || stored.lastUsedAtMs <= nowMs - LAST_USED_RESOLUTION_MS) {
    const wrote = await deps.storage.touchApiToken(stored.id, nowMs, nowMs - LAST_USED_RESOLUTION_MS);
    if (wrote) return toRecord({ ...stored, lastUsedAtMs: nowMs });
  }
  return toRecord(stored);
}

/** 'admin' implies every scope. */
export function hasScope(record: ApiTokenRecord, needed: ApiScope): boolean {
  return record.scopes.includes('admin') || record.scopes.includes(needed);
}

/** Idempotent; NOT_FOUND for an unknown id. */
export async function revokeApiToken(deps: DomainDeps, input: { id: string; actor: string }): Promise<void> {
  const nowMs = deps.clock.nowMs();
  await deps.storage.transaction(async (tx) => {
    const stored = await tx.getApiToken(input.id);
    if (!stored) throw new KioskError('NOT_FOUND', `no API token ${input.id}`);
    if (await tx.revokeApiToken(stored.id, nowMs)) {
      await tx.appendAudit({ atMs: nowMs, actor: input.actor, action: 'api-token.revoke', licenseId: null, deviceId: null, details: { tokenId: stored.id, name: stored.name } });
    }
  });
}

/** Every token's record (never a token or its hash), oldest first. */
export async function listApiTokens(deps: Pick<DomainDeps, 'storage'>): Promise<ApiTokenRecord[]> {
  return (await deps.storage.listApiTokens()).map(toRecord);
}

function checkScopes(scopes: readonly string[]): ApiScope[] {
  const unknown = scopes.filter((s) => !isScope(s));
  if (unknown.length > 0) throw new KioskError('VALIDATION_FAILED', `unknown scope(s) ${unknown.join(', ')}; scopes are ${API_SCOPES.join(', ')}`);
  const unique = [...new Set(scopes)] as ApiScope[];
  if (unique.length === 0) throw new KioskError('VALIDATION_FAILED', `give at least one scope of ${API_SCOPES.join(', ')}`);
  return unique;
}

/** Stored scope names that this build does not know grant nothing. */
function toRecord(stored: StoredApiToken): ApiTokenRecord {
  return {
    id: stored.id,
    name: stored.name,
    scopes: stored.scopes.filter(isScope),
    createdAtMs: stored.createdAtMs,
    revokedAtMs: stored.revokedAtMs,
    lastUsedAtMs: stored.lastUsedAtMs,
  };
}
