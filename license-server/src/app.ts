// Wiring: builds what a command (and later the HTTP server) needs from the frozen config.
// No singletons: every CLI run and every test gets its own context, closed at the end.
// Storage and keys are opened on first use, so `keys …` never creates a database and a
// missing key set is reported before a database is made.
import type { CliIO } from '../../common/cli.ts';
import { systemClock, type Clock } from '../../common/clock.ts';
import { KioskError } from '../../common/errors.ts';
import type { RandomBytes } from '../../common/license-key.ts';
import type { DomainDeps, IssuanceDeps } from './domain/deps.ts';
import type { DocumentSigner } from './domain/document-signer.ts';
import type { ServerStorage } from './domain/server-storage.ts';
import type { ServerConfig } from './config.ts';
import type { HttpAppDeps } from './http/http-deps.ts';
import { createRevocationListCache } from './domain/revocation-list-cache.ts';
import { deviceKeyThumbprint } from './signing/device-key.ts';
import { createVerifyEs256 } from './signing/jws-verify.ts';
import { createServerKeySetReader } from './signing/server-key-set.ts';
import { createKeyDirSigner } from './signing/signer.ts';
import { createRandomPool } from './signing/random-pool.ts';
import { openSqliteStorage } from './storage/sqlite/sqlite-storage.ts';
import { startSeatWorker, type SeatWorker } from './seat-worker/seat-worker.ts';

export interface ServerOptions {
  readonly clock?: Clock;
  readonly random?: RandomBytes;
  /** better-sqlite3's native addon, handed in by a single executable; undefined in dev. */
  readonly sqliteBinding?: unknown;
}

export interface ServerContext {
  readonly config: ServerConfig;
  readonly clock: Clock;
  readonly random: RandomBytes;
  readonly io: CliIO;
  /** What the context was made with (a sibling context, e.g. with --dev keys, reuses them). */
  readonly options: ServerOptions;
  /** Opened once, on first use. */
  storage(): Promise<ServerStorage>;
  /**
   * The active signing key of config.keysDir, followed as it changes (a `keys activate` in
   * another process takes effect at once); KEYS_MISSING without keys.
   */
  signer(): DocumentSigner;
  deps(): Promise<DomainDeps>;
  issuanceDeps(): Promise<IssuanceDeps>;
  /**
   * The seat worker (seat and token on a thread of its own; started on first use, closed by
   * close()); undefined where there is no thread to use: not a SQLite file, or a native addon
   * handed in as an object.
   */
  seatWorker(): SeatWorker | undefined;
  close(): Promise<void>;
}

export function createServerContext(config: ServerConfig, options: ServerOptions, io: CliIO): ServerContext {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? createRandomPool();
  let storage: Promise<ServerStorage> | undefined;
  let signer: DocumentSigner | undefined;
  let seatWorker: SeatWorker | undefined;
  const serverKeySet = createServerKeySetReader(config.keysDir);
  const revocationCache = createRevocationListCache();
  const verifyEs256 = createVerifyEs256();
  const ctx: ServerContext = {
    config,
    clock,
    random,
    io,
    options,
    storage() {
      storage ??= openStorage(config, options);
      return storage;
    },
    signer() {
      signer ??= createKeyDirSigner(config.keysDir, { nowMs: () => clock.nowMs() });
      return signer;
    },
    async deps() {
      return { storage: await ctx.storage(), clock, random };
    },
    async issuanceDeps() {
      const s = ctx.signer(); // keys first: no database is made for a server without keys
      return { ...(await ctx.deps()), signer: s, deviceKeyThumbprint, verifyEs256, serverKeySet, revocationCache };
    },
    seatWorker() {
      const binding = options.sqliteBinding;
      if (config.database.kind !== 'sqlite' || (binding !== undefined && typeof binding !== 'string')) return undefined;
      seatWorker ??= startSeatWorker({ file: config.database.file, keysDir: config.keysDir, ...(typeof binding === 'string' ? { nativeBinding: binding } : {}) });
      return seatWorker;
    },
    async close() {
      const worker = seatWorker;
      seatWorker = undefined;
      await worker?.close(); // its transactions finish before the main connection closes
      const opened = storage;
      storage = undefined;
      if (opened) await (await opened.catch(() => undefined))?.close();
    },
  };
  return ctx;
}

export function openStorage(config: ServerConfig, options: ServerOptions): Promise<ServerStorage> {
  if (config.database.kind === 'postgres') {
    return Promise.reject(new KioskError('CONFIG_INVALID', 'PostgreSQL storage is not in this build yet: use a SQLite file (--db FILE or --data-dir DIR)'));
  }
  return openSqliteStorage({ file: config.database.file, nativeBinding: options.sqliteBinding });
}

/** The HTTP API's collaborators from a context (`start`, tests, the bench). */
export function createHttpAppDeps(
  ctx: ServerContext,
  settings: Omit<HttpAppDeps, 'clock' | 'domainDeps' | 'issuanceDeps'>,
  options: { readonly activationThread?: boolean } = {},
): HttpAppDeps {
  const threaded = options.activationThread ?? true;
  return {
    ...settings,
    clock: ctx.clock,
    domainDeps: () => ctx.deps(),
    issuanceDeps: async () => {
      const deps = await ctx.issuanceDeps();
      const activateSeat = threaded ? ctx.seatWorker()?.activateSeat : undefined;
      return activateSeat ? { ...deps, activateSeat } : deps;
    },
  };
}
