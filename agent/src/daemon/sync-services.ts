// Wiring of the sync issue's daemon services: the local API (127.0.0.1) and the MQTT sync
// engine, over the store's sales port and the license keeper (mode, identity, device proof,
// re-evaluation after a revocation list arrives over MQTT).
import { readFileSync } from 'node:fs';
import { KioskError } from '../../../common/errors.ts';
import type { AgentContext } from '../app.ts';
import type { RunConfig } from '../config.ts';
import { createLocalApi } from '../http/local-api.ts';
import { verifyRevocationList } from '../license/revocation-list.ts';
import { createSyncEngine, type SyncEngine } from '../sync/sync-engine.ts';
import { systemScheduler, type DaemonLogger, type DaemonService } from './daemon.ts';
import type { LicenseKeeper } from './license-keeper.ts';
import { createSyncMetrics } from './sync-metrics.ts';

export interface SyncServices {
  readonly services: DaemonService[];
  readonly apiUrl: () => string | null;
  readonly engine: SyncEngine | null;
}

/** Reads the UI's bearer token file (first line, trimmed); CONFIG_INVALID when unusable. */
export function readApiToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new KioskError('CONFIG_INVALID', `cannot read the API token file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const token = (text.split('\n')[0] ?? '').trim();
  if (token.length < 16) throw new KioskError('CONFIG_INVALID', `the API token in ${file} is shorter than 16 characters`);
  return token;
}

export function buildSyncServices(ctx: AgentContext, run: RunConfig, logger: DaemonLogger, license: LicenseKeeper): SyncServices {
  const store = ctx.store();
  const sales = store.sales;
  const metrics = createSyncMetrics(sales);
  const clock = ctx.clock;
  const scheduler = ctx.options.scheduler ?? systemScheduler;
  const random = ctx.options.random ?? Math.random;
  const services: DaemonService[] = [];

  let engine: SyncEngine | null = null;
  if (run.sync.enabled) {
    engine = createSyncEngine({
      store: sales,
      identity: () => {
        const s = license.status();
        return s && s.tenant !== null && s.deviceId !== null ? { tenant: s.tenant, deviceId: s.deviceId } : null;
      },
      deviceProof: () => license.deviceProof(),
      mqttUrl: () => run.sync.mqttUrl ?? store.serverLink.get()?.mqttUrl ?? null,
      apiUrl: () => run.serverUrl ?? store.serverLink.get()?.apiUrl ?? null,
      acceptRevocations: async (message) => {
        const verified = await verifyRevocationList(message.list, ctx.trustedKeys());
        if (!verified.ok) {
          logger.error({ reason: verified.reason, detail: verified.message }, 'the revocation list over MQTT does not verify: ignored');
          return;
        }
        const { claims } = verified;
        const stored = store.licenseState.storeRevocationList({ version: claims.version, iat: claims.iat, document: verified.text, storedAtMs: clock.nowMs() });
        if (!stored) {
          logger.debug({ version: claims.version }, 'revocation list over MQTT not newer: ignored');
          return;
        }
        logger.info({ version: claims.version, announcedVersion: message.version, source: 'mqtt' }, 'revocation list stored');
        await license.recheck('revocations');
      },
      statusFacts: () => {
        const s = license.status();
        return { mode: s?.mode ?? null, reason: s?.reason ?? null };
      },
      onLicenseChange: (listener) => license.onStatusChange(() => listener()),
      clock,
      scheduler,
      random,
      logger,
      counters: metrics.counters,
      windowSize: run.sync.windowSize,
      ackTimeoutMs: run.sync.ackTimeoutSeconds * 1000,
      ackedRetentionMs: run.sync.ackedRetentionHours * 60 * 60 * 1000,
    });
  }

  let api: ReturnType<typeof createLocalApi> | null = null;
  if (run.api.enabled) {
    api = createLocalApi({
      store: sales,
      license: () => {
        const s = license.status();
        return s && { mode: s.mode, reason: s.reason, trial: { endsAt: s.trial.endsAt, daysLeft: s.trial.daysLeft, maxOrdersPerDay: s.trial.maxOrdersPerDay } };
      },
      sync: engine,
      metrics,
      clock,
      logger,
      port: run.api.port,
      token: run.api.tokenFile === null ? null : readApiToken(run.api.tokenFile),
    });
  }
  // start order: sync, then the API (so the API stops first and no order arrives after the sync client is gone)
  if (engine) services.push(engine);
  if (api) services.push(api);
  return { services, apiUrl: () => (api ? api.url() : null), engine };
}
