// Agent configuration: parsed once, frozen, passed down. The only agent module that reads
// process.env (through the CliIO env it is given).
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { KioskError } from '../../common/errors.ts';
import { checkServerUrl } from './license/server-client.ts';

export type Flavour = 'release' | 'test';

export interface AgentConfig {
  readonly flavour: Flavour;
  /** Where license state, the device key and the store live. */
  readonly dataDir: string;
  /** Root for /proc, /sys and /etc reads: `/` except for the test flavour and dev. */
  readonly sysroot: string;
  /** Where the trusted key set comes from: 'built-in' or a file path. */
  readonly trustedKeysFile: string | undefined;
}

export interface AgentConfigInput {
  readonly flavour: Flavour;
  readonly flags: { readonly 'data-dir'?: string; readonly sysroot?: string };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** The release executable carries its key set; a file is then never consulted. */
  readonly hasBuiltInKeys: boolean;
}

export const RELEASE_DATA_DIR = '/var/lib/kiosk-agent';
/** From the repo (npx kiosk-agent) the server's dev key set is trusted unless told otherwise. */
export const DEV_TRUSTED_KEYS = '.data/server/keys/jwks.json';

export function resolveAgentConfig(input: AgentConfigInput): AgentConfig {
  const { flavour, flags, env, cwd } = input;
  const release = flavour === 'release';
  const dataDir = resolve(cwd, flags['data-dir'] ?? env.KIOSK_AGENT_DATA_DIR ?? (release ? RELEASE_DATA_DIR : '.data/agent'));
  // Release ignores --sysroot and KIOSK_AGENT_TRUSTED_KEYS (DESIGN §4.1).
  const sysroot = release ? '/' : resolve(cwd, flags.sysroot ?? env.KIOSK_AGENT_SYSROOT ?? '/');
  let trustedKeysFile: string | undefined;
  if (!release) {
    const fromEnv = env.KIOSK_AGENT_TRUSTED_KEYS;
    if (fromEnv) trustedKeysFile = resolve(cwd, fromEnv);
    else if (!input.hasBuiltInKeys) trustedKeysFile = resolve(cwd, DEV_TRUSTED_KEYS);
  }
  return Object.freeze({ flavour, dataDir, sysroot, trustedKeysFile });
}

// ---------------------------------------------------------------------------------------------
// `kiosk-agent run [--config FILE]`: the daemon's settings. Layers: defaults < file < env <
// flags; parsed with a schema (unknown keys in the file are refused: a typo must not silently
// fall back to a default), frozen. Intervals are bounded so no file can make the daemon hammer
// the server or let a token run out unrenewed. The trial's length and limits are not here
// (built into the executable, domain/trial.ts), nor are the backoff numbers (domain/backoff.ts).

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface RunConfig {
  /** The config file read, if any (absolute). */
  readonly configFile: string | null;
  /** Overrides the server link's apiUrl (normalised, TLS rule checked); null: use the link. */
  readonly serverUrl: string | null;
  readonly logLevel: LogLevel;
  readonly renewal: {
    /** Renew a token this many days after its issue (1–14). */
    readonly afterDays: number;
    /** …or this many days before its exp (1–29). */
    readonly beforeExpiryDays: number;
    /** Offer a token the server refused again after this many hours (1–168). */
    readonly retryAfterRefusalHours: number;
  };
  readonly revocations: {
    /** Fetch the revocation list this often (5–1440 minutes). */
    readonly intervalMinutes: number;
  };
  /** Re-evaluate the license at least this often (1–60 minutes). */
  readonly checkIntervalMinutes: number;
  /** The local kiosk API (DESIGN §4.6): always on 127.0.0.1. */
  readonly api: {
    readonly enabled: boolean;
    /** 0 = any free port (tests). */
    readonly port: number;
    /** A file holding the bearer token the UI must send; null: no token. */
    readonly tokenFile: string | null;
  };
  /** The MQTT sync client (DESIGN §4.5). */
  readonly sync: {
    readonly enabled: boolean;
    /** Overrides the server link's mqttUrl; null: use the link. */
    readonly mqttUrl: string | null;
    /** Orders in flight at most (1–64). */
    readonly windowSize: number;
    /** An order without its ack after this long is sent again (5–600 s). */
    readonly ackTimeoutSeconds: number;
    /** Acked orders are kept this long, then pruned (1–8760 h). */
    readonly ackedRetentionHours: number;
  };
}

export const RUN_CONFIG_DEFAULTS = Object.freeze({
  logLevel: 'info' as LogLevel,
  renewal: Object.freeze({ afterDays: 7, beforeExpiryDays: 23, retryAfterRefusalHours: 24 }),
  revocations: Object.freeze({ intervalMinutes: 60 }),
  checkIntervalMinutes: 10,
  api: Object.freeze({ enabled: true, port: 8787, tokenFile: null as string | null }),
  sync: Object.freeze({ enabled: true, mqttUrl: null as string | null, windowSize: 16, ackTimeoutSeconds: 30, ackedRetentionHours: 168 }),
});

export const RUN_CONFIG_ENV = {
  config: 'KIOSK_AGENT_CONFIG',
  serverUrl: 'KIOSK_AGENT_SERVER_URL',
  logLevel: 'KIOSK_AGENT_LOG_LEVEL',
  apiPort: 'KIOSK_AGENT_API_PORT',
  mqttUrl: 'KIOSK_AGENT_MQTT_URL',
  /** "off" disables the sync client (and "on" enables it) whatever the file says. */
  sync: 'KIOSK_AGENT_SYNC',
} as const;

/** Largest config file read. */
export const MAX_CONFIG_FILE_BYTES = 64 * 1024;

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const runConfigFileSchema = z.strictObject({
  serverUrl: z.string().min(1).max(2048).optional(),
  logLevel: z.enum(LOG_LEVELS).optional(),
  renewal: z
    .strictObject({
      afterDays: int(1, 14).optional(),
      beforeExpiryDays: int(1, 29).optional(),
      retryAfterRefusalHours: int(1, 168).optional(),
    })
    .optional(),
  revocations: z.strictObject({ intervalMinutes: int(5, 1440).optional() }).optional(),
  checkIntervalMinutes: int(1, 60).optional(),
  api: z
    .strictObject({ enabled: z.boolean().optional(), port: int(0, 65535).optional(), tokenFile: z.string().min(1).max(4096).optional() })
    .optional(),
  sync: z
    .strictObject({
      enabled: z.boolean().optional(),
      mqttUrl: z.string().regex(/^(mqtts?|wss?):\/\/[^\s/]+/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL').max(2048).optional(),
      windowSize: int(1, 64).optional(),
      ackTimeoutSeconds: int(5, 600).optional(),
      ackedRetentionHours: int(1, 8760).optional(),
    })
    .optional(),
});
export type RunConfigFile = z.infer<typeof runConfigFileSchema>;

export interface RunConfigInput {
  readonly flags: { readonly config?: string | undefined; readonly server?: string | undefined; readonly 'log-level'?: string | undefined };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Reads the config file (injected in tests); default: fs, capped at MAX_CONFIG_FILE_BYTES. */
  readonly readFile?: (path: string) => string;
}

export function resolveRunConfig(input: RunConfigInput): RunConfig {
  const { flags, env, cwd } = input;
  const fileFlag = flags.config ?? env[RUN_CONFIG_ENV.config];
  const configFile = fileFlag === undefined || fileFlag === '' ? null : resolve(cwd, fileFlag);
  const file: RunConfigFile = configFile === null ? {} : parseRunConfigFile((input.readFile ?? readConfigFile)(configFile), configFile);

  // Each layer's value with the name it goes by, for messages that say where a bad value came from.
  const layered = (flag: string, envName: string, fileKey: string, values: [string | undefined, string | undefined, string | undefined]): { value: string; from: string } | null => {
    const [fromFlag, fromEnv, fromFile] = values;
    if (fromFlag !== undefined) return { value: fromFlag, from: `--${flag}` };
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, from: envName };
    if (fromFile !== undefined) return { value: fromFile, from: `${configFile}: ${fileKey}` };
    return null;
  };
  const server = layered('server', RUN_CONFIG_ENV.serverUrl, 'serverUrl', [flags.server, env[RUN_CONFIG_ENV.serverUrl], file.serverUrl]);
  let serverUrl: string | null = null;
  if (server !== null && server.value !== '') {
    const checked = checkServerUrl(server.value);
    if (!checked.ok) throw new KioskError('CONFIG_INVALID', `${server.from}: server URL: ${checked.message}`);
    serverUrl = checked.url;
  }
  const level = layered('log-level', RUN_CONFIG_ENV.logLevel, 'logLevel', [flags['log-level'], env[RUN_CONFIG_ENV.logLevel], file.logLevel]);
  const levelSource = level?.value ?? RUN_CONFIG_DEFAULTS.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(levelSource)) {
    throw new KioskError('CONFIG_INVALID', `${level?.from ?? 'log level'}: "${levelSource.slice(0, 32)}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  return Object.freeze({
    configFile,
    serverUrl,
    logLevel: levelSource as LogLevel,
    renewal: Object.freeze({ ...RUN_CONFIG_DEFAULTS.renewal, ...definedOnly(file.renewal ?? {}) }),
    revocations: Object.freeze({ ...RUN_CONFIG_DEFAULTS.revocations, ...definedOnly(file.revocations ?? {}) }),
    checkIntervalMinutes: file.checkIntervalMinutes ?? RUN_CONFIG_DEFAULTS.checkIntervalMinutes,
    api: Object.freeze({
      enabled: file.api?.enabled ?? RUN_CONFIG_DEFAULTS.api.enabled,
      port: apiPort(env[RUN_CONFIG_ENV.apiPort], file.api?.port),
      tokenFile: file.api?.tokenFile === undefined ? null : resolve(configFile === null ? cwd : dirname(configFile), file.api.tokenFile),
    }),
    sync: Object.freeze({
      ...RUN_CONFIG_DEFAULTS.sync,
      ...definedOnly(file.sync ?? {}),
      enabled: syncEnabled(env[RUN_CONFIG_ENV.sync], file.sync?.enabled),
      mqttUrl: mqttUrlOverride(env[RUN_CONFIG_ENV.mqttUrl], file.sync?.mqttUrl),
    }),
  });
}

function apiPort(fromEnv: string | undefined, fromFile: number | undefined): number {
  if (fromEnv === undefined || fromEnv === '') return fromFile ?? RUN_CONFIG_DEFAULTS.api.port;
  const port = /^\d{1,5}$/.test(fromEnv) ? Number(fromEnv) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new KioskError('CONFIG_INVALID', `${RUN_CONFIG_ENV.apiPort}: "${fromEnv.slice(0, 16)}" is not a port`);
  return port;
}

function syncEnabled(fromEnv: string | undefined, fromFile: boolean | undefined): boolean {
  if (fromEnv === 'off') return false;
  if (fromEnv === 'on') return true;
  if (fromEnv !== undefined && fromEnv !== '') throw new KioskError('CONFIG_INVALID', `${RUN_CONFIG_ENV.sync}: must be "on" or "off"`);
  return fromFile ?? RUN_CONFIG_DEFAULTS.sync.enabled;
}

function mqttUrlOverride(fromEnv: string | undefined, fromFile: string | undefined): string | null {
  const value = fromEnv !== undefined && fromEnv !== '' ? fromEnv : fromFile;
  if (value === undefined) return null;
  if (!/^(mqtts?|wss?):\/\/[^\s/]+/.test(value)) throw new KioskError('CONFIG_INVALID', `MQTT URL "${value.slice(0, 120)}": must be mqtt://, mqtts://, ws:// or wss://`);
  return value;
}

/** Parses the text of a config file (JSON) with its schema; CONFIG_INVALID names the file and the key. */
export function parseRunConfigFile(text: string, source: string): RunConfigFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new KioskError('CONFIG_INVALID', `${source}: not JSON (${err instanceof Error ? err.message : 'parse error'})`);
  }
  const parsed = runConfigFileSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new KioskError('CONFIG_INVALID', `${source}: ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

function readConfigFile(path: string): string {
  try {
    if (statSync(path).size > MAX_CONFIG_FILE_BYTES) throw new KioskError('CONFIG_INVALID', `${path}: larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof KioskError) throw err;
    throw new KioskError('CONFIG_INVALID', `cannot read the config file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
