// Sync on real parts: a server context over a temp SQLite file and a generated key set, the
// embedded aedes broker on a free port with the real device authentication, the HTTP app
// (inject), and devices with their own P-256 keys that sign fresh device proofs as MQTT
// passwords — mqtt.js clients speaking the device side of docs/sync-protocol.md.
import type { FastifyInstance } from 'fastify';
import { onTestFinished } from 'vitest';
import { fixedClock } from '../../../../common/clock.ts';
import { topics } from '../../../../common/sync-messages.ts';
import { createHttpAppDeps, type ServerContext } from '../../../../license-server/src/app.ts';
import { activate } from '../../../../license-server/src/domain/activation.ts';
import { createApiToken } from '../../../../license-server/src/domain/api-tokens.ts';
import type { CatalogSettings } from '../../../../license-server/src/domain/catalog.ts';
import { createLicense } from '../../../../license-server/src/domain/licenses.ts';
import { buildHttpApp } from '../../../../license-server/src/http/http-app.ts';
import { createHttpLogger } from '../../../../license-server/src/http/logger.ts';
import { startSync, type SyncRuntime } from '../../../../license-server/src/sync-app.ts';
import { connectTestClient, type TestMqttClient } from '../../../helpers/mqtt-device.ts';
import { HTTP_ISSUER, makeServerContext, PUBLIC_URLS } from './http-fixture.ts';
import { makeTestDevice, signProof, type ProofOptions, type TestDevice } from './online-fixture.ts';

export interface EnrolledDevice {
  readonly device: TestDevice;
  readonly tenant: string;
  readonly token: string;
  readonly licenseId: string;
  proof(options?: ProofOptions): Promise<string>;
}

export interface SyncFixture {
  readonly ctx: ServerContext;
  readonly sync: SyncRuntime;
  readonly app: FastifyInstance;
  readonly clock: ReturnType<typeof fixedClock>;
  readonly logLines: string[];
  readonly adminToken: string;
  /** A license of `tenant` with one activated device. */
  enrol(n: number, tenant?: string, licenseKey?: string): Promise<EnrolledDevice & { licenseKey: string }>;
  /** Connects as the device with a fresh proof (or the given password). */
  connect(d: EnrolledDevice, options?: { password?: string; clientId?: string }): Promise<TestMqttClient>;
  /** Subscribes to the device's res topic and the tenant's catalog. */
  connectReady(d: EnrolledDevice): Promise<TestMqttClient>;
  /** Resolves with the first log line matching pattern (bounded). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

let seq = 0;
export const orderMessage = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'order',
  v: 1,
  orderId: `ord-${process.pid}-${++seq}-${Date.now().toString(36)}`,
  seq: 1,
  kind: 'sale',
  createdAt: new Date().toISOString(),
  catalogVersion: 0,
  currency: 'EUR',
  lines: [{ sku: 'ESP-01', qty: 2, unitPriceMinor: 250, taxMinor: 33 }],
  totalMinor: 500,
  taxMinor: 33,
  ...over,
});

export async function syncFixture(options: { readonly catalog?: CatalogSettings } = {}): Promise<SyncFixture> {
  const clock = fixedClock(Date.now());
  const { ctx } = await makeServerContext({ clock });
  const logLines: string[] = [];
  const listeners = new Set<() => void>();
  const logger = createHttpLogger({
    level: 'info',
    write: (line) => {
      logLines.push(line);
      for (const l of [...listeners]) l();
    },
  });
  const sync = await startSync(ctx, { mqtt: { kind: 'embedded', port: 0 }, host: '127.0.0.1', revocationPollMs: 25, ...(options.catalog ? { catalog: options.catalog } : {}) }, logger);
  const app = buildHttpApp(
    createHttpAppDeps(ctx, {
      rateLimit: { activations: { burst: 1000, perMinute: 60_000 } },
      publicUrls: () => PUBLIC_URLS,
      ...(options.catalog ? { catalog: options.catalog } : {}),
      onCatalogChanged: (tenant) => void sync.service.catalogChanged(tenant),
    }),
  );
  await app.ready();
  onTestFinished(async () => {
    await app.close();
    await sync.stop();
  });
  const adminToken = (await createApiToken(await ctx.deps(), { name: 'admin', scopes: ['admin'], actor: 'test' })).token;

  const fixture: SyncFixture = {
    ctx,
    sync,
    app,
    clock,
    logLines,
    adminToken,
    async enrol(n, tenant = 'shop-1', existingKey) {
      const deps = await ctx.issuanceDeps();
      const licenseKey = existingKey ?? (await createLicense(deps, { tenant, features: ['pos'], maxDevices: 5, days: 365, graceDays: 7, actor: 'test' })).licenseKey;
      const device = await makeTestDevice(n, { issuer: HTTP_ISSUER });
      const result = await activate(deps, { licenseKey, request: device.request, mode: 'online', actor: 'test' });
      return {
        device,
        tenant,
        token: result.token,
        licenseId: result.license.id,
        licenseKey,
        proof: (o = {}) => signProof(device, result.token, { nowMs: clock.nowMs(), ...o }),
      };
    },
    async connect(d, o = {}) {
      const password = o.password ?? (await d.proof());
      const clientId = o.clientId ?? d.device.deviceId;
      return connectTestClient(sync.mqttUrl, { clientId, username: clientId, password, clean: true });
    },
    async connectReady(d) {
      const c = await fixture.connect(d);
      const granted = await c.subscribe([topics.deviceRes(d.tenant, d.device.deviceId), `kiosk/v1/${d.tenant}/catalog/#`]);
      if (granted.some((g) => g.qos > 1)) throw new Error(`subscription refused: ${JSON.stringify(granted)}`);
      return c;
    },
    waitForLog(pattern, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const hit = logLines.find((l) => pattern.test(l));
          if (!hit) return false;
          listeners.delete(poll);
          clearTimeout(timer);
          resolve(hit);
          return true;
        };
        const poll = (): void => void check();
        const timer = setTimeout(() => {
          listeners.delete(poll);
          reject(new Error(`timed out waiting for a log line ${pattern}`));
        }, timeoutMs);
        if (!check()) listeners.add(poll);
      });
    },
  };
  return fixture;
}
