// Wiring: builds what a command needs from the frozen config. No singletons: every CLI run
// (and every test) gets its own context, closed at the end.
import { existsSync, readFileSync } from 'node:fs';
import type { CliIO } from '../../common/cli.ts';
import { systemClock, type Clock } from '../../common/clock.ts';
import { KioskError } from '../../common/errors.ts';
import { parseTrustedKeySetText, type TrustedKeySet } from '../../common/trusted-keys.ts';
import type { AgentConfig, Flavour } from './config.ts';
import type { Scheduler } from './daemon/daemon.ts';
import { readDeviceFingerprint } from './hardware/read-fingerprint.ts';
import { readClockTrust } from './hardware/time-sync.ts';
import { loadDeviceKey, loadOrCreateDeviceKey } from './license/device-key.ts';
import { buildActivationRequest, type ActivationRequestDocument } from './domain/fingerprint-request.ts';
import { activationRequestSchema } from '../../common/license-token.ts';
import { PRODUCT_VERSION } from '../../common/version.ts';
import type { LicenseServiceDeps } from './license/license-service.ts';
import { agentDatabasePath, openAgentStore, type AgentStore } from './store/agent-store.ts';

export interface AgentOptions {
  readonly flavour: Flavour;
  /** The key set built into a release executable (`--trusted-keys FILE` at build time). */
  readonly builtInKeys?: TrustedKeySet;
  /** better-sqlite3's native binding, handed in by the single executable; undefined in dev. */
  readonly sqliteBinding?: unknown;
  /**
   * Loads the native binding for a data dir (the single executable's addon loader, agent/src/native);
   * called only when the store is first opened, so --version never touches the data dir. Wins over sqliteBinding.
   */
  readonly loadSqliteBinding?: (dataDir: string) => unknown;
  readonly clock?: Clock;
  /** e.g. "linux-x64"; shown by --version. */
  readonly target?: string;
  /** Timers of the daemon (`run`); tests pass a fake one they fire by hand. */
  readonly scheduler?: Scheduler;
  /** Uniform randomness in [0, 1) for backoff jitter (default Math.random); tests pin it. */
  readonly random?: () => number;
  /** Stops `run` when aborted (in-process tests); the real process stops on SIGTERM/SIGINT. */
  readonly shutdown?: AbortSignal;
}

export interface AgentContext {
  readonly config: AgentConfig;
  readonly options: AgentOptions;
  readonly clock: Clock;
  readonly io: CliIO;
  /** The trusted key set (built in, or the file the config names); loaded once. */
  trustedKeys(): TrustedKeySet;
  /**
   * The agent store `<dataDir>/agent.db`, opened (data dir created 0700, migrated) on first use
   * and closed by close(). Callers that must not create the data dir check for the file first
   * (store/agent-store.ts agentDatabasePath).
   */
  store(): AgentStore;
  /** Runs on close (stores register themselves here). */
  onClose(fn: () => void | Promise<void>): void;
  close(): Promise<void>;
}

export function createAgentContext(config: AgentConfig, options: AgentOptions, io: CliIO): AgentContext {
  let keys: TrustedKeySet | undefined;
  let store: AgentStore | undefined;
  const closers: Array<() => void | Promise<void>> = [];
  return {
    config,
    options,
    clock: options.clock ?? systemClock,
    io,
    trustedKeys() {
      keys ??= loadTrustedKeys(config, options);
      return keys;
    },
    store() {
      if (!store) {
        const nativeBinding = options.loadSqliteBinding ? options.loadSqliteBinding(config.dataDir) : options.sqliteBinding;
        const opened = openAgentStore({ dataDir: config.dataDir, nativeBinding });
        closers.push(() => opened.close());
        store = opened;
      }
      return store;
    },
    onClose(fn) {
      closers.push(fn);
    },
    async close() {
      for (const fn of closers.splice(0).reverse()) await fn();
    },
  };
}

function loadTrustedKeys(config: AgentConfig, options: AgentOptions): TrustedKeySet {
  if (config.flavour === 'release' || (options.builtInKeys && !config.trustedKeysFile)) {
    if (!options.builtInKeys) throw new KioskError('KEYS_MISSING', 'this build carries no trusted key set');
    return options.builtInKeys;
  }
  const file = config.trustedKeysFile;
  if (!file) throw new KioskError('KEYS_MISSING', 'no trusted key set: set KIOSK_AGENT_TRUSTED_KEYS=FILE');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new KioskError(
      'KEYS_MISSING',
      code === 'ENOENT'
        ? `no trusted key set at ${file}: set KIOSK_AGENT_TRUSTED_KEYS=FILE or run "license-server keys generate"`
        : `cannot read the trusted key set ${file}: ${code}`,
    );
  }
  return parseTrustedKeySetText(text, file);
}

/**
 * The license service's collaborators for one run. `store: 'create'` opens (and creates)
 * the store; `'existing'` uses it only if `<dataDir>/agent.db` is there (status never creates).
 */
export function licenseServiceDeps(ctx: AgentContext, store: 'create' | 'existing'): LicenseServiceDeps {
  const keys = ctx.trustedKeys();
  const { dataDir, sysroot } = ctx.config;
  const useStore = store === 'create' || existsSync(agentDatabasePath(dataDir));
  return {
    trustedKeys: keys,
    clock: ctx.clock,
    state: useStore ? ctx.store().licenseState : null,
    readFingerprint: () => readDeviceFingerprint({ sysroot, issuer: keys.issuer }),
    deviceKeyThumbprint: async () => (await loadDeviceKey(dataDir))?.jkt ?? null,
    clockTrust: () => readClockTrust(sysroot),
  };
}

/**
 * This device's activation request (DESIGN §4.3): fingerprint, device key (made on first use),
 * platform facts. What `fingerprint --json` prints and `activate` sends.
 */
export async function makeActivationRequest(ctx: AgentContext): Promise<ActivationRequestDocument> {
  const issuer = ctx.trustedKeys().issuer;
  const fingerprint = await readDeviceFingerprint({ sysroot: ctx.config.sysroot, issuer });
  const key = await loadOrCreateDeviceKey(ctx.config.dataDir);
  const request = buildActivationRequest({
    issuer,
    deviceId: fingerprint.deviceId,
    components: fingerprint.components,
    devicePublicKey: key.publicJwk,
    jkt: key.jkt,
    platform: fingerprint.platform,
    agentVersion: PRODUCT_VERSION,
    createdAtMs: ctx.clock.nowMs(),
    warnings: fingerprint.warnings,
  });
  const checked = activationRequestSchema.safeParse(request);
  if (!checked.success) {
    throw new KioskError('INTERNAL', `the activation request does not pass its schema: ${checked.error.issues[0]?.message ?? ''}`);
  }
  return request;
}
