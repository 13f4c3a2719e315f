// Wiring of sync (DESIGN §4.5, §6): the broker — embedded aedes on --mqtt-port (TLS with the
// HTTP certificate), or an outside broker with --mqtt mqtt(s)://… — the SyncTransport over it,
// the sync service, and the revocation watch: the revocation list's version is read from the
// database every second (cheap; a revoke from the CLI in another process counts too); when it
// moves, live broker sessions are re-checked (a revoked device is dropped) and the signed list
// is published retained. Sessions are also re-checked every minute (a token past exp + grace).
import type { Logger } from 'pino';
import { KioskError } from '../../common/errors.ts';
import type { ServerContext } from './app.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded-broker.ts';
import { createEmbeddedTransport } from './broker/embedded-transport.ts';
import { createMqttTransport } from './broker/mqtt-transport.ts';
import type { MqttSetting } from './config.ts';
import { authenticateDeviceSession, recheckSession, type DeviceSession } from './domain/broker-access.ts';
import { DEFAULT_KEEP_VERSIONS, type CatalogSettings } from './domain/catalog.ts';
import { createSyncService, type SyncCounters, type SyncService } from './domain/sync-service.ts';
import type { SyncTransport } from './domain/sync-transport.ts';

export const REVOCATION_POLL_MS = 1_000;
export const SESSION_RECHECK_MS = 60_000;

export interface SyncSettings {
  readonly mqtt: MqttSetting;
  /** The embedded broker's address (the HTTP host). */
  readonly host: string;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  readonly catalog?: CatalogSettings;
  /** Outside broker: the shared-subscription group and client id of this replica. */
  readonly shareGroup?: string;
  readonly clientId?: string;
  /** Outside broker: keep a persistent session (default true; tests turn it off). */
  readonly persistentSession?: boolean;
  readonly revocationPollMs?: number;
}

/** Counts of dropped and ingested messages (what /metrics will show). */
export interface SyncCountersSnapshot {
  readonly dropped: Readonly<Record<string, number>>;
  readonly ingested: Readonly<Record<string, number>>;
}

export interface SyncRuntime {
  readonly transport: SyncTransport;
  readonly service: SyncService;
  /** The embedded broker; undefined with an outside one. */
  readonly broker: EmbeddedBroker<DeviceSession> | undefined;
  /** Where devices connect: the embedded broker's bound URL, or the outside broker's. */
  readonly mqttUrl: string;
  counters(): SyncCountersSnapshot;
  /** One revocation watch tick now (tests; the timer does it every second). */
  pollRevocations(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSync(ctx: ServerContext, settings: SyncSettings, logger: Logger): Promise<SyncRuntime> {
  const deps = await ctx.issuanceDeps();
  const catalog = settings.catalog ?? { keepVersions: DEFAULT_KEEP_VERSIONS };
  const dropped: Record<string, number> = {};
  const ingested: Record<string, number> = {};
  const counters: SyncCounters = {
    dropped: (reason) => void (dropped[reason] = (dropped[reason] ?? 0) + 1),
    ingested: (status) => void (ingested[status] = (ingested[status] ?? 0) + 1),
  };
  const onError = (err: unknown): void => logger.error({ err }, 'sync: transport error');

  let broker: EmbeddedBroker<DeviceSession> | undefined;
  // made after the broker, whose events use it
  let service: SyncService | undefined;
  let transport: SyncTransport;
  let mqttUrl: string;
  if (settings.mqtt.kind === 'embedded') {
    broker = await startEmbeddedBroker<DeviceSession>({
      host: settings.host,
      port: settings.mqtt.port,
      ...(settings.tls ? { tls: settings.tls } : {}),
      authenticator: {
        authenticate: (connect) => authenticateDeviceSession(deps, connect),
        recheck: (session) => recheckSession(deps.storage, session, deps.clock.nowMs()),
      },
      events: {
        connected: (s) => {
          if (s.ordersOnly) logger.info({ deviceId: s.deviceId, tenant: s.tenant, reason: s.limitedBecause }, 'mqtt: a limited device connected (orders upload only)');
          deps.storage.touchDevice(s.tenant, s.deviceId, deps.clock.nowMs()).catch(onError);
          service?.tenantSeen(s.tenant).catch(onError);
        },
        cloneSuspected: (s) => {
          logger.warn({ deviceId: s.deviceId, tenant: s.tenant }, 'mqtt: a second live session of one device id: clone alarm');
          deps.storage.recordCloneAlarm(s.tenant, s.deviceId, deps.clock.nowMs()).catch(onError);
        },
        refused: (clientId, err) => {
          const e = err as { code?: unknown; details?: { reason?: unknown }; message?: unknown };
          logger.info({ clientId: String(clientId).slice(0, 64), code: e.code, reason: e.details?.reason }, `mqtt: connect refused: ${String(e.message ?? err).slice(0, 200)}`);
        },
        dropped: (s, reason) => logger.warn({ deviceId: s.deviceId, tenant: s.tenant, reason }, 'mqtt: dropped a live session (revoked, deactivated or expired)'),
      },
    });
    transport = createEmbeddedTransport(broker, onError);
    mqttUrl = broker.url;
  } else {
    transport = await createMqttTransport({
      url: settings.mqtt.url,
      ...(settings.shareGroup ? { shareGroup: settings.shareGroup } : {}),
      ...(settings.clientId ? { clientId: settings.clientId } : {}),
      ...(settings.persistentSession === undefined ? {} : { persistentSession: settings.persistentSession }),
      onError,
    }).catch((err: unknown) => {
      throw new KioskError('SERVER_UNREACHABLE', `cannot connect to the MQTT broker: ${(err as Error).message}`, { cause: err });
    });
    mqttUrl = settings.mqtt.url;
  }

  service = createSyncService({ issuance: deps, catalog, transport, logger, counters });
  const running = service;
  let version = await deps.storage.getRevocationVersion();
  let lastRecheck = deps.clock.nowMs();
  let polling: Promise<void> | undefined;
  const poll = async (): Promise<void> => {
    const now = await deps.storage.getRevocationVersion();
    const due = deps.clock.nowMs() - lastRecheck >= SESSION_RECHECK_MS;
    if (now !== version || due) {
      lastRecheck = deps.clock.nowMs();
      const n = (await broker?.recheckSessions()) ?? 0;
      if (n > 0) logger.info({ dropped: n, revocationVersion: now }, 'mqtt: sessions dropped after a re-check');
    }
    if (now !== version) {
      version = now;
      await running.publishRevocations();
    }
  };
  const pollOnce = (): Promise<void> => {
    polling ??= poll().finally(() => {
      polling = undefined;
    });
    return polling;
  };
  try {
    await running.start();
  } catch (err) {
    await transport.close().catch(() => undefined);
    await broker?.close();
    throw err;
  }
  const timer = setInterval(() => void pollOnce().catch((err: unknown) => logger.error({ err }, 'sync: revocation watch failed')), settings.revocationPollMs ?? REVOCATION_POLL_MS);
  timer.unref();

  let stopping: Promise<void> | undefined;
  return {
    transport,
    service: running,
    broker,
    mqttUrl,
    counters: () => ({ dropped: { ...dropped }, ingested: { ...ingested } }),
    pollRevocations: pollOnce,
    stop() {
      stopping ??= (async () => {
        clearInterval(timer);
        await polling?.catch(() => undefined);
        await transport.close();
        await running.idle();
        await broker?.close();
      })();
      return stopping;
    },
  };
}
