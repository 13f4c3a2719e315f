// License server configuration: parsed once (defaults < file < env < flags) with a schema,
// frozen, passed down. The only server module that reads the environment (through the CliIO
// env). `--config FILE` is a JSON file of the same settings (configFileSchema); `start` adds its
// own settings (resolveStartConfig) on top of the common ones.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
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
  /** The --config file, validated (paths resolved against its directory); absent without one. */
  readonly file?: ConfigFile;
}

export interface ServerConfigFlags {
  readonly 'data-dir'?: string | undefined;
  readonly keys?: string | undefined;
  readonly db?: string | undefined;
  readonly config?: string | undefined;
}

export interface ServerConfigInput {
  readonly flags: ServerConfigFlags;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Reads the --config file; node:fs by default (injected by unit tests). */
  readonly readFile?: (path: string) => string;
}

/** From the repo: ./.data/server (the agent's dev default trusts .data/server/keys/jwks.json). */
export const DEFAULT_DATA_DIR = '.data/server';
export const DATABASE_FILE = 'server.db';
export const ENV = {
  dataDir: 'LICENSE_SERVER_DATA_DIR',
  keys: 'LICENSE_SERVER_KEYS',
  db: 'LICENSE_SERVER_DB',
  config: 'LICENSE_SERVER_CONFIG',
} as const;

const setting = z.string().min(1, 'must not be empty').max(4096).optional();
const rawSchema = z.object({ dataDir: setting, keys: setting, db: setting });

export function resolveServerConfig(input: ServerConfigInput): ServerConfig {
  const { flags, env, cwd } = input;
  const configPath = flags.config ?? env[ENV.config];
  const file = configPath === undefined ? undefined : loadConfigFile(resolve(cwd, configPath), input.readFile ?? ((p) => readFileSync(p, 'utf8')));
  const parsed = rawSchema.safeParse({
    dataDir: flags['data-dir'] ?? env[ENV.dataDir] ?? file?.dataDir,
    keys: flags.keys ?? env[ENV.keys] ?? file?.keys,
    db: flags.db ?? env[ENV.db] ?? file?.db,
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
  return Object.freeze({ dataDir, keysDir, database: Object.freeze(database), ...(file === undefined ? {} : { file }) });
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

// ---- the --config file and `start`'s settings -------------------------------------------

const portNumber = z.number().int('must be a whole number').min(0, 'must be from 0 to 65535').max(65535, 'must be from 0 to 65535');
const pathSetting = z.string().min(1, 'must not be empty').max(4096);
const hostSetting = z.string().regex(/^[A-Za-z0-9.:_-]{1,253}$/, 'must be an IP address or a host name');
const httpUrlSetting = z.string().max(2048).regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, 'must be an http:// or https:// URL without query');
const mqttModeSetting = z.string().regex(/^(embedded|mqtts?:\/\/[^\s/]+.*)$/, 'must be "embedded" or an mqtt:// or mqtts:// URL');
const mqttUrlSetting = z.string().max(512).regex(/^(mqtts?|wss?):\/\/[^\s/]+/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL');
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const wholeIn = (min: number, max: number) => z.number().int('must be a whole number').min(min, `must be from ${min} to ${max}`).max(max, `must be from ${min} to ${max}`);
const burstSetting = wholeIn(1, 1_000_000);
const perMinuteSetting = wholeIn(1, 100_000_000);
const shutdownSetting = wholeIn(0, 600_000);

/** The JSON file of `--config FILE` (unknown keys are refused: a typo must not pass silently). */
export const configFileSchema = z.strictObject({
  dataDir: pathSetting.optional(),
  keys: pathSetting.optional(),
  db: pathSetting.optional(),
  host: hostSetting.optional(),
  port: portNumber.optional(),
  tls: z.strictObject({ cert: pathSetting, key: pathSetting }).optional(),
  apiUrl: httpUrlSetting.optional(),
  mqtt: mqttModeSetting.optional(),
  mqttPort: portNumber.optional(),
  mqttUrl: mqttUrlSetting.optional(),
  rateLimit: z.strictObject({ activations: z.strictObject({ burst: burstSetting.optional(), perMinute: perMinuteSetting.optional() }).optional() }).optional(),
  shutdownTimeoutMs: shutdownSetting.optional(),
  logLevel: z.enum(LOG_LEVELS).optional(),
  trustProxy: z.boolean().optional(),
  activationThread: z.boolean().optional(),
});
export type ConfigFile = Readonly<z.infer<typeof configFileSchema>>;

/** Reads and validates a config file; relative paths in it are resolved against its directory. */
export function loadConfigFile(path: string, readFile: (path: string) => string): ConfigFile {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new KioskError('CONFIG_INVALID', `cannot read the config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    throw new KioskError('CONFIG_INVALID', `${path} is not JSON`);
  }
  const parsed = configFileSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new KioskError('CONFIG_INVALID', `${path}: ${first?.path.join('.') || 'the document'}: ${first?.message ?? 'invalid'}`);
  }
  const base = dirname(path);
  const f = parsed.data;
  const at = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(base, p));
  return deepFreeze({
    ...f,
    ...(f.dataDir === undefined ? {} : { dataDir: at(f.dataDir) }),
    ...(f.keys === undefined ? {} : { keys: at(f.keys) }),
    ...(f.db === undefined || /^[a-z][a-z0-9+.-]*:\/\//i.test(f.db) ? {} : { db: at(f.db) }),
    ...(f.tls === undefined ? {} : { tls: { cert: resolve(base, f.tls.cert), key: resolve(base, f.tls.key) } }),
  });
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8700;
export const DEFAULT_MQTT_PORT = 1883;
export const DEFAULT_ACTIVATION_BURST = 10;
export const DEFAULT_ACTIVATIONS_PER_MINUTE = 60;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

export const START_ENV = {
  host: 'LICENSE_SERVER_HOST',
  port: 'LICENSE_SERVER_PORT',
  tlsCert: 'LICENSE_SERVER_TLS_CERT',
  tlsKey: 'LICENSE_SERVER_TLS_KEY',
  apiUrl: 'LICENSE_SERVER_API_URL',
  mqtt: 'LICENSE_SERVER_MQTT',
  mqttPort: 'LICENSE_SERVER_MQTT_PORT',
  mqttUrl: 'LICENSE_SERVER_MQTT_URL',
  activationBurst: 'LICENSE_SERVER_ACTIVATION_BURST',
  activationsPerMinute: 'LICENSE_SERVER_ACTIVATIONS_PER_MINUTE',
  shutdownTimeoutMs: 'LICENSE_SERVER_SHUTDOWN_TIMEOUT_MS',
  logLevel: 'LICENSE_SERVER_LOG_LEVEL',
  trustProxy: 'LICENSE_SERVER_TRUST_PROXY',
  activationThread: 'LICENSE_SERVER_ACTIVATION_THREAD',
} as const;

export type MqttSetting = { readonly kind: 'embedded'; readonly port: number } | { readonly kind: 'external'; readonly url: string };

export interface StartConfig {
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  /** The URL devices are told to use (activation answers); null: derived from the bound address. */
  readonly apiUrl: string | null;
  /** The broker (DESIGN §4.5): embedded aedes on a port, or an outside broker. Reported for now. */
  readonly mqtt: MqttSetting;
  /** The MQTT URL devices are told to use; null: derived from the broker setting. */
  readonly mqttUrl: string | null;
  /** Token bucket per source address for POST /v1/activations. */
  readonly rateLimit: { readonly activations: { readonly burst: number; readonly perMinute: number } };
  /** How long in-flight requests may take to finish after SIGTERM/SIGINT. */
  readonly shutdownTimeoutMs: number;
  readonly logLevel: LogLevel;
  /** Take the client address from X-Forwarded-For (only behind a proxy you run). */
  readonly trustProxy: boolean;
  /** Activations take their seat on a thread of their own (license-server/src/seat-worker); false: on the main thread. */
  readonly activationThread: boolean;
  /** --dev: throw-away signing keys when none exist. */
  readonly dev: boolean;
}

export interface StartConfigFlags {
  readonly host?: string | undefined;
  readonly port?: string | undefined;
  readonly 'tls-cert'?: string | undefined;
  readonly 'tls-key'?: string | undefined;
  readonly 'api-url'?: string | undefined;
  readonly mqtt?: string | undefined;
  readonly 'mqtt-port'?: string | undefined;
  readonly 'mqtt-url'?: string | undefined;
  readonly dev?: boolean | undefined;
}

export interface StartConfigInput {
  /** The common config (its `file` holds the --config file). */
  readonly server: ServerConfig;
  readonly flags: StartConfigFlags;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

const wholeText = (inner: z.ZodType<number, number>): z.ZodType<number, string> =>
  z.string().regex(/^\d{1,12}$/, 'must be a whole number').transform(Number).pipe(inner);
const boolText = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** `start`'s settings: flags > env > config file > defaults; CONFIG_INVALID names the culprit. */
export function resolveStartConfig(input: StartConfigInput): StartConfig {
  const { flags, env, cwd } = input;
  const file = input.server.file ?? {};
  /** A text setting from a flag or the environment, else the (already valid) file value. */
  const pick = <T>(flag: keyof StartConfigFlags, envName: string, fileValue: T | undefined, schema: z.ZodType<T, string>): T | undefined => {
    const fromFlag = flags[flag];
    if (typeof fromFlag === 'string') return check(schema, fromFlag, `--${flag}`);
    const fromEnv = env[envName];
    if (fromEnv !== undefined) return check(schema, fromEnv, envName);
    return fileValue;
  };
  const path = (flag: 'tls-cert' | 'tls-key', envName: string, fileValue: string | undefined): string | undefined => {
    const p = typeof flags[flag] === 'string' ? (flags[flag] as string) : env[envName];
    if (p === undefined) return fileValue;
    return resolve(cwd, check(pathSetting, p, typeof flags[flag] === 'string' ? `--${flag}` : envName));
  };

  const certFile = path('tls-cert', START_ENV.tlsCert, file.tls?.cert);
  const keyFile = path('tls-key', START_ENV.tlsKey, file.tls?.key);
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new KioskError('CONFIG_INVALID', '--tls-cert and --tls-key go together: give both (HTTPS) or neither (HTTP)');
  }
  const mqttMode = pick('mqtt', START_ENV.mqtt, file.mqtt, mqttModeSetting) ?? 'embedded';
  const mqttPort = pick('mqtt-port', START_ENV.mqttPort, file.mqttPort, wholeText(portNumber));
  if (mqttMode !== 'embedded' && mqttPort !== undefined) {
    throw new KioskError('CONFIG_INVALID', `--mqtt-port is the embedded broker's port; with an outside broker (${redactUrl(mqttMode)}) the URL carries the port`);
  }
  const activations = file.rateLimit?.activations;
  const config: StartConfig = {
    host: pick('host', START_ENV.host, file.host, hostSetting) ?? DEFAULT_HOST,
    port: pick('port', START_ENV.port, file.port, wholeText(portNumber)) ?? DEFAULT_PORT,
    tls: certFile !== undefined && keyFile !== undefined ? { certFile, keyFile } : null,
    apiUrl: stripSlash(pick('api-url', START_ENV.apiUrl, file.apiUrl, httpUrlSetting)) ?? null,
    mqtt: mqttMode === 'embedded' ? { kind: 'embedded', port: mqttPort ?? DEFAULT_MQTT_PORT } : { kind: 'external', url: mqttMode },
    mqttUrl: pick('mqtt-url', START_ENV.mqttUrl, file.mqttUrl, mqttUrlSetting) ?? null,
    rateLimit: {
      activations: {
        burst: checkEnv(env, START_ENV.activationBurst, wholeText(burstSetting)) ?? activations?.burst ?? DEFAULT_ACTIVATION_BURST,
        perMinute: checkEnv(env, START_ENV.activationsPerMinute, wholeText(perMinuteSetting)) ?? activations?.perMinute ?? DEFAULT_ACTIVATIONS_PER_MINUTE,
      },
    },
    shutdownTimeoutMs: checkEnv(env, START_ENV.shutdownTimeoutMs, wholeText(shutdownSetting)) ?? file.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
    logLevel: checkEnv(env, START_ENV.logLevel, z.enum(LOG_LEVELS)) ?? file.logLevel ?? 'info',
    trustProxy: checkEnv(env, START_ENV.trustProxy, boolText) ?? file.trustProxy ?? false,
    activationThread: checkEnv(env, START_ENV.activationThread, boolText) ?? file.activationThread ?? true,
    dev: flags.dev === true,
  };
  return deepFreeze(config);
}

function checkEnv<T>(env: Readonly<Record<string, string | undefined>>, name: string, schema: z.ZodType<T, string>): T | undefined {
  const v = env[name];
  return v === undefined ? undefined : check(schema, v, name);
}

function check<T>(schema: z.ZodType<T, string>, value: string, where: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const shown = /^[a-z]+:\/\//i.test(value) ? redactUrl(value) : value.slice(0, 80);
  throw new KioskError('CONFIG_INVALID', `${where} "${shown}": ${parsed.error.issues[0]?.message ?? 'invalid'}`);
}

const stripSlash = (url: string | undefined): string | undefined => url?.replace(/\/+$/, '');

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
