// The single executable's entry (DESIGN §5). scripts/cross-build bundles it (CommonJS) with a
// one-line entry that calls seaMain(), so nothing runs on import here.
//
// What the build fixed goes in through the esbuild define `__KIOSK_BUILD_INFO__` (a JSON string):
// the flavour, the target, the trusted key set given with `--trusted-keys` (checked again here by
// its schema) and the SHA-256 of the SQLite addon that travels as an SEA asset. The addon is
// loaded lazily, only when a command opens the store (app.ts), so `--version` never touches the
// data dir.
//
// NODE_OPTIONS: the release blob is made with `execArgvExtension: "none"`, so Node itself ignores
// it; the test flavour's blob keeps the default ("env") for e2e hooks.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { getRawAsset, isSea } from 'node:sea';
import { KioskError } from '../../common/errors.ts';
import { parseTrustedKeySet, type TrustedKeySet } from '../../common/trusted-keys.ts';
import type { AgentOptions } from './app.ts';
import type { Flavour } from './config.ts';
import { runAgentCli } from './main.ts';
import { loadSqliteAddon, SQLITE_ADDON_ASSET, SQLITE_ADDON_FILE, type SqliteAddonSource } from './native/sqlite-addon.ts';

declare const __KIOSK_BUILD_INFO__: string | undefined;

export interface BuildInfo {
  readonly flavour: Flavour;
  /** e.g. "linux-arm64" */
  readonly target: string;
  readonly trustedKeys: TrustedKeySet | null;
  /** Hex SHA-256 of better_sqlite3.node as built for this target. */
  readonly sqliteAddonSha256: string;
}

/** Decodes the build info the bundler put in; a bundle without it is a build error. */
export function parseBuildInfo(text: string | undefined): BuildInfo {
  if (typeof text !== 'string') throw new KioskError('INTERNAL', 'this bundle was built without __KIOSK_BUILD_INFO__');
  const raw = JSON.parse(text) as Record<string, unknown>;
  const flavour = raw.flavour;
  if (flavour !== 'release' && flavour !== 'test') throw new KioskError('INTERNAL', `bad build flavour ${String(flavour)}`);
  const target = typeof raw.target === 'string' ? raw.target : `${process.platform}-${process.arch}`;
  const sqliteAddonSha256 = typeof raw.sqliteAddonSha256 === 'string' ? raw.sqliteAddonSha256 : '';
  const trustedKeys = raw.trustedKeys == null ? null : parseTrustedKeySet(raw.trustedKeys, 'the built-in key set');
  if (flavour === 'release' && !trustedKeys) throw new KioskError('INTERNAL', 'a release build must carry its trusted key set');
  return { flavour, target, trustedKeys, sqliteAddonSha256 };
}

/**
 * Where the addon's bytes come from: the SEA asset inside the executable; or, when the bundle
 * runs under plain node (the benchmark's baseline), a better_sqlite3.node beside the bundle.
 * Undefined when neither exists: better-sqlite3 then looks for its own build.
 */
function addonSource(info: BuildInfo): SqliteAddonSource | undefined {
  if (isSea()) {
    return {
      sha256: info.sqliteAddonSha256,
      readBytes: () => {
        const raw = getRawAsset(SQLITE_ADDON_ASSET);
        return typeof raw === 'string' ? Buffer.from(raw, 'latin1') : new Uint8Array(raw);
      },
    };
  }
  const script = process.argv[1];
  if (!script) return undefined;
  const beside = join(dirname(script), SQLITE_ADDON_FILE);
  if (!existsSync(beside)) return undefined;
  return { sha256: info.sqliteAddonSha256, readBytes: () => readFileSync(beside) };
}

export function seaAgentOptions(info: BuildInfo): AgentOptions {
  const source = addonSource(info);
  return {
    flavour: info.flavour,
    target: info.target,
    ...(info.trustedKeys ? { builtInKeys: info.trustedKeys } : {}),
    ...(source ? { loadSqliteBinding: (dataDir: string) => loadSqliteAddon(dataDir, source) } : {}),
  };
}

/** The executable's main: runs one command line and sets the exit code. */
export async function seaMain(): Promise<void> {
  let options: AgentOptions;
  try {
    options = seaAgentOptions(parseBuildInfo(typeof __KIOSK_BUILD_INFO__ === 'string' ? __KIOSK_BUILD_INFO__ : undefined));
  } catch (err) {
    process.stderr.write(`error INTERNAL: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
    return;
  }
  if (options.flavour === 'release') scrubReleaseEnvironment(process.env);
  process.exitCode = await runAgentCli(process.argv.slice(2), options);
}

/**
 * Variables that would weaken a release build at run time are removed before anything reads
 * them: TLS verification (read at each connection) and the test flavour's overrides (ignored by
 * config.ts anyway). NODE_OPTIONS is ignored by the runtime itself (execArgvExtension "none").
 * NODE_EXTRA_CA_CERTS is read by the runtime at start and cannot be undone here; a token is
 * still checked against the built-in keys whatever the TLS peer (docs/building.md).
 */
export const RELEASE_SCRUBBED_ENV = ['NODE_TLS_REJECT_UNAUTHORIZED', 'NODE_OPTIONS', 'NODE_DEBUG', 'KIOSK_AGENT_TRUSTED_KEYS', 'KIOSK_AGENT_SYSROOT'] as const;

export function scrubReleaseEnvironment(env: NodeJS.ProcessEnv): void {
  for (const name of RELEASE_SCRUBBED_ENV) delete env[name];
}
