// License server configuration: parsed once (defaults < env < flags) with a schema, frozen,
// passed down. The only server module that reads the environment (through the CliIO env).
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { KioskError } from '../../common/errors.ts';

export type DatabaseLocation =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'postgres'; readonly url: string };

export interface ServerConfig {
  /** Holds the database (and, by default, the keys). */
  readonly dataDir: string;
  /** The signing key directory (license-server keys generate). */
  readonly keysDir: string;
  readonly database: DatabaseLocation;
}

export interface ServerConfigFlags {
  readonly 'data-dir'?: string | undefined;
  readonly keys?: string | undefined;
  readonly db?: string | undefined;
}

export interface ServerConfigInput {
  readonly flags: ServerConfigFlags;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** From the repo: ./.data/server (the agent's dev default trusts .data/server/keys/jwks.json). */
export const DEFAULT_DATA_DIR = '.data/server';
export const DATABASE_FILE = 'server.db';
export const ENV = {
  dataDir: 'LICENSE_SERVER_DATA_DIR',
  keys: 'LICENSE_SERVER_KEYS',
  db: 'LICENSE_SERVER_DB',
} as const;

const setting = z.string().min(1, 'must not be empty').max(4096).optional();
const rawSchema = z.object({ dataDir: setting, keys: setting, db: setting });

export function resolveServerConfig(input: ServerConfigInput): ServerConfig {
  const { flags, env, cwd } = input;
  const parsed = rawSchema.safeParse({
    dataDir: flags['data-dir'] ?? env[ENV.dataDir],
    keys: flags.keys ?? env[ENV.keys],
    db: flags.db ?? env[ENV.db],
  });
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const name = { dataDir: '--data-dir', keys: '--keys', db: '--db' }[String(first?.path[0]) as 'dataDir' | 'keys' | 'db'] ?? 'a setting';
    throw new KioskError('CONFIG_INVALID', `${name}: ${first?.message}`);
  }
  const raw = parsed.data;
  const dataDir = resolve(cwd, raw.dataDir ?? DEFAULT_DATA_DIR);
  const keysDir = raw.keys === undefined ? resolve(dataDir, 'keys') : resolve(cwd, raw.keys);
  const database = raw.db === undefined ? { kind: 'sqlite' as const, file: resolve(dataDir, DATABASE_FILE) } : parseDatabase(raw.db, cwd);
  return Object.freeze({ dataDir, keysDir, database: Object.freeze(database) });
}

function parseDatabase(value: string, cwd: string): DatabaseLocation {
  if (/^postgres(ql)?:\/\//i.test(value)) return { kind: 'postgres', url: value };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !isAbsolute(value)) {
    throw new KioskError('CONFIG_INVALID', `--db ${redactUrl(value)}: a database is a file path or a postgres:// URL`);
  }
  return { kind: 'sqlite', file: resolve(cwd, value) };
}

/** A database location for messages: never the password. */
export function describeDatabase(db: DatabaseLocation): string {
  return db.kind === 'sqlite' ? db.file : redactUrl(db.url);
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
}
