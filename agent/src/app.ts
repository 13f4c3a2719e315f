// Wiring: builds what a command needs from the frozen config. No singletons: every CLI run
// (and every test) gets its own context, closed at the end.
import { readFileSync } from 'node:fs';
import type { CliIO } from '../../common/cli.ts';
import { systemClock, type Clock } from '../../common/clock.ts';
import { KioskError } from '../../common/errors.ts';
import { parseTrustedKeySetText, type TrustedKeySet } from '../../common/trusted-keys.ts';
import type { AgentConfig, Flavour } from './config.ts';

export interface AgentOptions {
  readonly flavour: Flavour;
  /** The key set built into a release executable (`--trusted-keys FILE` at build time). */
  readonly builtInKeys?: TrustedKeySet;
  /** better-sqlite3's native binding, handed in by the single executable; undefined in dev. */
  readonly sqliteBinding?: unknown;
  readonly clock?: Clock;
  /** e.g. "linux-x64"; shown by --version. */
  readonly target?: string;
}

export interface AgentContext {
  readonly config: AgentConfig;
  readonly options: AgentOptions;
  readonly clock: Clock;
  readonly io: CliIO;
  /** The trusted key set (built in, or the file the config names); loaded once. */
  trustedKeys(): TrustedKeySet;
  /** Runs on close (stores register themselves here). */
  onClose(fn: () => void | Promise<void>): void;
  close(): Promise<void>;
}

export function createAgentContext(config: AgentConfig, options: AgentOptions, io: CliIO): AgentContext {
  let keys: TrustedKeySet | undefined;
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
