// `license-server start`: the HTTP API (vendor, device, public) on loopback by default, until
// SIGTERM/SIGINT. Prints `listening on URL` on stdout once the socket is bound; logs are pino
// JSON lines on stderr. Without signing keys it refuses to start (KEYS_MISSING), except with
// --dev, which makes throw-away keys in DATA_DIR/dev-keys and says so. Shutdown: stop
// accepting, let requests in flight finish (bounded), close the database, exit 0.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { CliIO, CommandSpec, ParsedValues } from '../../../common/cli.ts';
import { KioskError } from '../../../common/errors.ts';
import { createHttpAppDeps, createServerContext, type ServerContext } from '../app.ts';
import { describeDatabase, resolveStartConfig, type StartConfig } from '../config.ts';
import { buildHttpApp } from '../http/http-app.ts';
import type { PublicUrls } from '../http/http-deps.ts';
import { listenHttp } from '../http/listen.ts';
import { createHttpLogger } from '../http/logger.ts';
import { generateKey, readKeyDir } from '../signing/key-dir.ts';
import { startSync, type SyncRuntime } from '../sync-app.ts';

export const DEV_KEYS_DIR = 'dev-keys';

export interface RunningServer {
  readonly url: string;
  readonly urls: PublicUrls;
  readonly app: FastifyInstance;
  /** The context serving (a sibling of the command's with --dev keys). */
  readonly ctx: ServerContext;
  readonly logger: Logger;
  /** Sync (broker, ingest, publish); null when the broker could not be started (logged). */
  readonly sync: SyncRuntime | null;
  /** Graceful: stop accepting, finish requests in flight (bounded), close the database. */
  stop(): Promise<void>;
  /** Cut the remaining connections now (a second signal). */
  forceClose(): void;
}

export const startCommand: CommandSpec<ServerContext> = {
  name: 'start',
  summary: 'run the HTTP API (vendor, device, key set) until SIGTERM/SIGINT; prints "listening on URL"',
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    dev: { type: 'boolean' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'api-url': { type: 'string' },
    mqtt: { type: 'string' },
    'mqtt-port': { type: 'string' },
    'mqtt-url': { type: 'string' },
  },
  async run({ values, io }, ctx) {
    const config = resolveStartConfig({ server: ctx.config, flags: startFlags(values), env: io.env, cwd: io.cwd });
    const server = await startServer(ctx, config, io);
    const signal = await nextSignal();
    server.logger.info({ signal }, 'shutting down: no new connections; waiting for requests in flight');
    const force = (): void => {
      server.logger.warn('second signal: cutting the remaining connections');
      server.forceClose();
    };
    process.once('SIGTERM', force).once('SIGINT', force);
    try {
      await server.stop();
    } finally {
      process.off('SIGTERM', force).off('SIGINT', force);
    }
    return 0;
  },
};

function startFlags(values: ParsedValues): Parameters<typeof resolveStartConfig>[0]['flags'] {
  const s = (name: string): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  return {
    host: s('host'),
    port: s('port'),
    'tls-cert': s('tls-cert'),
    'tls-key': s('tls-key'),
    'api-url': s('api-url'),
    mqtt: s('mqtt'),
    'mqtt-port': s('mqtt-port'),
    'mqtt-url': s('mqtt-url'),
    dev: values.dev === true,
  };
}

function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', on).off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on).on('SIGINT', on);
  });
}

/** Keys, database, TLS, app, socket: everything `start` does before it waits for a signal. */
export async function startServer(ctx: ServerContext, config: StartConfig, io: CliIO): Promise<RunningServer> {
  const logger = createHttpLogger({ level: config.logLevel, write: (line) => io.stderr(line) });
  const serving = await withSigningKeys(ctx, config, logger);
  let opened = false;
  try {
    serving.signer(); // KEYS_MISSING / KEYS_INVALID before anything listens
    const tls = config.tls === null ? undefined : readTls(config.tls);
    await serving.storage(); // migrations run before the first request
    if (config.activationThread) await serving.seatWorker()?.ready(); // a thread that cannot start stops start-up, not the first device
    opened = true;
    const sync: SyncRuntime | null = await startSyncOrFail(serving, config, tls, logger);

    let urls: PublicUrls | undefined;
    const app = buildHttpApp(
      createHttpAppDeps(serving, {
        logger,
        onCatalogChanged: (tenant) => void sync?.service.catalogChanged(tenant).catch((err: unknown) => logger.error({ err, tenant }, 'sync: publishing the catalog failed')),
        rateLimit: config.rateLimit,
        trustProxy: config.trustProxy,
        ...(tls ? { https: tls } : {}),
        publicUrls: () => {
          if (!urls) throw new KioskError('INTERNAL', 'the public URLs are known once the server listens');
          return urls;
        },
      }, { activationThread: config.activationThread }),
    );
    const listening = await listen(app, config).catch(async (err: unknown) => {
      await sync?.stop();
      throw err;
    });
    const bound = sync?.broker && config.mqtt.kind === 'embedded' ? { ...config, mqtt: { kind: 'embedded' as const, port: sync.broker.port } } : config;
    urls = publicUrls(bound, listening.url, listening.port);
    io.stdout(`listening on ${listening.url}`);
    logger.info({ url: listening.url, apiUrl: urls.apiUrl, mqttUrl: urls.mqttUrl, database: describeDatabase(serving.config.database), keys: serving.config.keysDir }, 'license server started');
    reportMqtt(config, urls, logger, sync);
    if (!isLoopback(config.host) && config.tls === null) {
      logger.warn({ host: config.host }, 'listening off loopback without TLS: use --tls-cert/--tls-key, or a TLS proxy in front');
    }

    let stopping: Promise<void> | undefined;
    return {
      url: listening.url,
      urls,
      app,
      ctx: serving,
      logger,
      sync,
      stop() {
        stopping ??= (async () => {
          const { forced } = await listening.close();
          await sync?.stop().catch((err: unknown) => logger.error({ err }, 'sync: stopping failed'));
          if (forced) logger.warn({ shutdownTimeoutMs: config.shutdownTimeoutMs }, 'requests still running at the shutdown deadline were cut');
          await serving.close();
          logger.info('stopped; database closed');
        })();
        return stopping;
      },
      forceClose: () => app.server.closeAllConnections(),
    };
  } catch (err) {
    if (opened || serving !== ctx) await serving.close();
    throw err;
  }
}

/** The context whose keys sign: the configured keys; with --dev and none there, throw-away ones. */
async function withSigningKeys(ctx: ServerContext, config: StartConfig, logger: Logger): Promise<ServerContext> {
  if (readKeyDir(ctx.config.keysDir) !== undefined || !config.dev) return ctx;
  const devDir = join(ctx.config.dataDir, DEV_KEYS_DIR);
  if (readKeyDir(devDir) === undefined) {
    const key = await generateKey(devDir, { issuer: `urn:kiosk:vendor:dev-${Buffer.from(ctx.random(6)).toString('hex')}`, random: ctx.random });
    logger.warn({ keys: devDir, kid: key.kid, issuer: key.issuer }, `--dev: no signing keys in ${ctx.config.keysDir}; made THROW-AWAY keys in ${devDir}. Agents must trust ${join(devDir, 'jwks.json')}. Never use them in production.`);
  } else {
    logger.warn({ keys: devDir }, `--dev: no signing keys in ${ctx.config.keysDir}; using the throw-away keys in ${devDir}. Never use them in production.`);
  }
  return createServerContext({ ...ctx.config, keysDir: devDir }, ctx.options, ctx.io);
}

function readTls(files: { readonly certFile: string; readonly keyFile: string }): { cert: Buffer; key: Buffer } {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new KioskError('CONFIG_INVALID', `cannot read the TLS ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  const cert = read(files.certFile, 'certificate');
  const key = read(files.keyFile, 'key');
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new KioskError('CONFIG_INVALID', `the TLS certificate ${files.certFile} and key ${files.keyFile} are not a usable PEM pair: ${(err as Error).message}`);
  }
  return { cert, key };
}

async function listen(app: FastifyInstance, config: StartConfig): ReturnType<typeof listenHttp> {
  try {
    return await listenHttp(app, { host: config.host, port: config.port, tls: config.tls !== null, shutdownTimeoutMs: config.shutdownTimeoutMs });
  } catch (err) {
    await app.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new KioskError('IO_ERROR', `cannot listen on ${config.host}:${config.port}: the port is in use (another server? choose --port)`, { cause: err });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES') {
      throw new KioskError('CONFIG_INVALID', `cannot listen on ${config.host}:${config.port}: ${code}`, { cause: err });
    }
    throw err;
  }
}

/** What devices are told: the configured URLs, else the bound address (a wildcard host becomes this host's name). */
export function publicUrls(config: StartConfig, boundUrl: string, port: number): PublicUrls {
  const wildcard = config.host === '0.0.0.0' || config.host === '::';
  const apiUrl = config.apiUrl ?? (wildcard ? `${config.tls ? 'https' : 'http'}://${hostname()}:${port}` : boundUrl);
  const apiHost = new URL(apiUrl).host.replace(/:\d+$/, '');
  const mqttUrl =
    config.mqttUrl ?? (config.mqtt.kind === 'external' ? config.mqtt.url : `${config.tls ? 'mqtts' : 'mqtt'}://${apiHost}:${config.mqtt.port}`);
  return { apiUrl, mqttUrl };
}

/**
 * Starts sync. A broker that cannot start (the embedded broker's port in use, an outside broker
 * unreachable) stops start-up with a clear error, as a taken HTTP port does: a license server
 * that silently runs without sync would leave every kiosk's orders in its outbox.
 */
async function startSyncOrFail(ctx: ServerContext, config: StartConfig, tls: { cert: Buffer; key: Buffer } | undefined, logger: Logger): Promise<SyncRuntime> {
  try {
    return await startSync(ctx, { mqtt: config.mqtt, host: config.host, ...(tls ? { tls } : {}) }, logger);
  } catch (err) {
    const where = config.mqtt.kind === 'embedded' ? `the embedded MQTT broker (port ${config.mqtt.port})` : 'the outside MQTT broker';
    const hint = config.mqtt.kind === 'embedded' ? 'choose another --mqtt-port, or use --mqtt mqtt(s)://… for an outside broker' : 'check --mqtt and that the broker is reachable';
    throw new KioskError(err instanceof KioskError ? err.code : 'IO_ERROR', `sync cannot start: ${where}: ${(err as Error).message}; ${hint}`, { cause: err });
  }
}

function reportMqtt(config: StartConfig, urls: PublicUrls, logger: Logger, sync: SyncRuntime | null): void {
  if (config.mqtt.kind === 'embedded') {
    if (sync?.broker) logger.info({ mqtt: 'embedded', port: sync.broker.port, mqttUrl: urls.mqttUrl }, 'mqtt: the embedded broker is listening; devices are told this URL');
  } else {
    logger.info({ mqtt: 'external', mqttUrl: urls.mqttUrl }, 'mqtt: an outside broker; devices are told this URL');
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
