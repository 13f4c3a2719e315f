// The agent's SQLite store: `<dataDir>/agent.db`. Opened once per process (app.ts), closed by
// the context. Modular: one module per table group; later issues add theirs (catalog, outbox)
// through new migrations and a new member here.
import { join } from 'node:path';
import { KioskError } from '../../../common/errors.ts';
import type { LicenseStatePort, StoredRevocationList } from '../domain/license-policy.ts';
import { ensureDataDir, openDatabase, storageError, type SqliteDatabase } from './database.ts';
import { licenseTables, type LicenseTables } from './license-tables.ts';
import { migrate, schemaVersion } from './migrations.ts';
import { revocationTables, type RevocationTables } from './revocation-tables.ts';
import { salesStore, type SalesStore } from './sales-store.ts';
import { serverLinkTables, type ServerLinkTables, type ServerLinkUpdate } from './server-link-tables.ts';
import { timeTables, type TimeTables } from './time-tables.ts';
import { trialTables, type TrialTables } from './trial-tables.ts';

export const AGENT_DB_FILE = 'agent.db';

export function agentDatabasePath(dataDir: string): string {
  return join(dataDir, AGENT_DB_FILE);
}

/** The license state port (domain/license-policy.ts), plus storing a revocation list. */
export interface LicenseStateStore extends LicenseStatePort {
  /** Stores a (verified) revocation list if newer, raising the newest iat with it. */
  storeRevocationList(list: StoredRevocationList): boolean;
  /**
   * Deactivation: the installed license (if its jti is `expectedJti`) goes to the history and
   * the server link is removed, in one transaction. Returns false when nothing was installed.
   */
  removeInstalledLicense(expectedJti: string, nowMs: number): boolean;
}

/** The server link (online activation), store/server-link-tables.ts. */
export interface ServerLinkStore extends Pick<ServerLinkTables, 'get' | 'recordRefusal'> {
  /**
   * A license state port whose install also writes the link from a token answer, in the same
   * transaction: an online activation or renewal stores both or neither.
   */
  installingWith(update: Omit<ServerLinkUpdate, 'licenseId'>): LicenseStatePort;
  /** Sets the link from a token answer whose token needed no install (it was installed already). */
  updateFromTokenAnswer(update: ServerLinkUpdate): void;
}

export interface AgentStore {
  readonly file: string;
  /** For the table groups of later issues; prefer the typed members. */
  readonly db: SqliteDatabase;
  readonly tables: {
    readonly license: LicenseTables;
    readonly time: TimeTables;
    readonly trial: TrialTables;
    readonly revocations: RevocationTables;
    readonly serverLink: ServerLinkTables;
  };
  readonly licenseState: LicenseStateStore;
  readonly serverLink: ServerLinkStore;
  /** Catalog, orders and outbox (the local API's and the sync engine's ports). */
  readonly sales: SalesStore;
  /** Runs `fn` in an IMMEDIATE transaction (a write lock from the start). */
  transaction<T>(fn: () => T): T;
  /** `PRAGMA integrity_check` rows: ['ok'] when sound. */
  integrityCheck(): string[];
  schemaVersion(): number;
  close(): void;
}

export interface OpenAgentStoreOptions {
  readonly dataDir: string;
  /** better-sqlite3's native addon (the single executable's); undefined in dev. */
  readonly nativeBinding?: unknown;
}

/** Creates the data dir (0700) if needed, opens `<dataDir>/agent.db` and migrates it. */
export function openAgentStore(options: OpenAgentStoreOptions): AgentStore {
  ensureDataDir(options.dataDir);
  const file = agentDatabasePath(options.dataDir);
  const db = openDatabase({ file, nativeBinding: options.nativeBinding });
  try {
    migrate(db);
    return buildStore(db, file);
  } catch (err) {
    db.close();
    throw storageError(`cannot use the database ${file}`, err);
  }
}

function buildStore(db: SqliteDatabase, file: string): AgentStore {
  const tables = {
    license: licenseTables(db),
    time: timeTables(db),
    trial: trialTables(db),
    revocations: revocationTables(db),
    serverLink: serverLinkTables(db),
  };
  const write = <T>(what: string, fn: () => T): T => {
    try {
      return db.transaction(fn).immediate();
    } catch (err) {
      throw storageError(what, err);
    }
  };
  const read = <T>(what: string, fn: () => T): T => {
    try {
      return db.transaction(fn).deferred();
    } catch (err) {
      throw storageError(what, err);
    }
  };

  const licenseState: LicenseStateStore = {
    readLicenseState: () =>
      read('reading the license state failed', () => ({
        installed: tables.license.installed(),
        time: tables.time.get(),
        trial: tables.trial.get(),
        revocationList: tables.revocations.get(),
      })),
    newestIatForLicense: (sub) => read('reading the license history failed', () => tables.license.newestIatFor(sub)),
    tokenInHistory: (jti) => read('reading the license history failed', () => tables.license.inHistory(jti)),
    commitLicenseInstall: (change) =>
      write('installing the license failed', () => {
        // The plan was made outside this transaction: re-check what it relied on.
        const current = tables.license.installed();
        if ((current?.jti ?? null) !== change.replacesJti) {
          throw new KioskError('STORAGE_ERROR', 'another process changed the installed license during this install; run the command again');
        }
        const newest = tables.license.newestIatFor(change.license.sub);
        if (newest !== null && newest > change.license.iat) {
          throw new KioskError('TOKEN_REPLAYED', `a newer token of license ${change.license.sub} is installed already`);
        }
        tables.license.replace(change.license, change.license.installedAtMs);
        tables.time.raise({ newestIatS: change.newestIatS, highWaterMs: change.highWaterMs });
      }),
    advanceHighWater: (ms) => write('saving the time high-water mark failed', () => tables.time.raise({ highWaterMs: ms })),
    startTrialIfNeeded: (ms) => write('starting the trial failed', () => tables.trial.startIfNeeded(ms)),
    storeRevocationList: (list) =>
      write('storing the revocation list failed', () => {
        const stored = tables.revocations.putIfNewer(list);
        if (stored) tables.time.raise({ newestIatS: list.iat });
        return stored;
      }),
    removeInstalledLicense: (expectedJti, nowMs) =>
      write('removing the license failed', () => {
        const current = tables.license.installed();
        if (current === null) return false;
        if (current.jti !== expectedJti) {
          throw new KioskError('STORAGE_ERROR', 'another process changed the installed license meanwhile; run the command again');
        }
        tables.serverLink.clear();
        return tables.license.remove(nowMs);
      }),
  };

  const serverLink: ServerLinkStore = {
    get: () => read('reading the server link failed', () => tables.serverLink.get()),
    recordRefusal: (r) => write('recording the refusal failed', () => tables.serverLink.recordRefusal(r)),
    updateFromTokenAnswer: (update) => write('saving the server link failed', () => tables.serverLink.putFromTokenAnswer(update)),
    installingWith: (update) => ({
      ...licenseState,
      commitLicenseInstall: (change) =>
        write('installing the license failed', () => {
          licenseState.commitLicenseInstall(change); // nested: a savepoint inside this transaction
          tables.serverLink.putFromTokenAnswer({ ...update, licenseId: change.license.sub });
        }),
    }),
  };

  let closed = false;
  return {
    file,
    db,
    tables,
    licenseState,
    serverLink,
    sales: salesStore(db),
    transaction: (fn) => write('a database transaction failed', fn),
    integrityCheck: () => (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check),
    schemaVersion: () => schemaVersion(db),
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
