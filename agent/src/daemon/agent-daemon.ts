// Wiring of `kiosk-agent run`: builds the daemon's services from the command's context and the
// run config. The license keeper comes first; the sync issue appends its services to the list
// below (the local HTTP API on 127.0.0.1 and the MQTT sync client), reading the mode from
// `license.status()` / `license.onStatusChange()` and the MQTT password from
// `license.deviceProof()`. They are stopped in reverse order, so the license keeper stops last.
import { licenseServiceDeps, type AgentContext } from '../app.ts';
import type { RunConfig } from '../config.ts';
import { DEFAULT_BACKOFF } from '../domain/backoff.ts';
import type { RenewalPolicy } from '../domain/renewal.ts';
import { readClockTrust } from '../hardware/time-sync.ts';
import { loadDeviceKey } from '../license/device-key.ts';
import { createServerClient } from '../license/server-client.ts';
import { createDaemon, systemScheduler, type Daemon, type DaemonLogger, type DaemonService } from './daemon.ts';
import { createLicenseKeeper, type LicenseKeeper } from './license-keeper.ts';
import { buildSyncServices } from './sync-services.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

export interface AgentDaemon {
  readonly daemon: Daemon;
  readonly license: LicenseKeeper;
  /** The local API's URL once started (null when disabled). */
  readonly apiUrl: () => string | null;
}

export function renewalPolicyFromConfig(run: RunConfig): RenewalPolicy {
  return Object.freeze({
    renewAfterMs: run.renewal.afterDays * DAY_MS,
    renewBeforeExpiryMs: run.renewal.beforeExpiryDays * DAY_MS,
    minRenewalSpacingMs: DAY_MS,
    retryAfterRefusalMs: run.renewal.retryAfterRefusalHours * HOUR_MS,
    revocationIntervalMs: run.revocations.intervalMinutes * MINUTE_MS,
    checkIntervalMs: run.checkIntervalMinutes * MINUTE_MS,
    backoff: DEFAULT_BACKOFF,
  });
}

export function buildAgentDaemon(ctx: AgentContext, run: RunConfig, logger: DaemonLogger): AgentDaemon {
  const { dataDir, sysroot } = ctx.config;
  const store = ctx.store();
  const license = createLicenseKeeper({
    store,
    licenseDeps: licenseServiceDeps(ctx, 'create'),
    clockTrust: (serverTimeReceived) => readClockTrust(sysroot, { serverTimeReceived }),
    loadDeviceKey: () => loadDeviceKey(dataDir),
    serverClient: (baseUrl, signal) => createServerClient(baseUrl, { signal }),
    serverUrlOverride: run.serverUrl,
    policy: renewalPolicyFromConfig(run),
    clock: ctx.clock,
    scheduler: ctx.options.scheduler ?? systemScheduler,
    random: ctx.options.random ?? Math.random,
    logger,
  });
  // Services in start order: the license keeper, then sync-services.ts (the MQTT sync engine and
  // the local API on 127.0.0.1), each switchable in the run config (api.enabled, sync.enabled).
  const sync = buildSyncServices(ctx, run, logger, license);
  const services: DaemonService[] = [license, ...sync.services];
  return { daemon: createDaemon(services, logger), license, apiUrl: sync.apiUrl };
}
