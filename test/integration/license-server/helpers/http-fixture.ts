// The HTTP API over a real SQLite file and real keys in a temp dir, driven with inject():
// API tokens per scope, licenses, and devices that keep their private key (to sign proofs and
// deactivation files the way an agent does). Logs are captured line by line for leak checks.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { calculateJwkThumbprint, CompactSign } from 'jose';
import { onTestFinished } from 'vitest';
import { fixedClock } from '../../../../common/clock.ts';
import { SERVER_AUDIENCE } from '../../../../common/device-api.ts';
import { computeDeviceId } from '../../../../common/fingerprint.ts';
import { DOCUMENT_TYPES, type ActivationRequest } from '../../../../common/license-token.ts';
import { createHttpAppDeps, createServerContext, type ServerContext } from '../../../../license-server/src/app.ts';
import { resolveServerConfig } from '../../../../license-server/src/config.ts';
import { createApiToken, type ApiScope } from '../../../../license-server/src/domain/api-tokens.ts';
import { buildHttpApp } from '../../../../license-server/src/http/http-app.ts';
import type { HttpAppDeps } from '../../../../license-server/src/http/http-deps.ts';
import { createHttpLogger, type LogLevelName } from '../../../../license-server/src/http/logger.ts';
import { generateKey } from '../../../../license-server/src/signing/key-dir.ts';
import { capturingIO } from '../../../helpers/cli.ts';
import { hashComponents, physicalDevice } from '../../../helpers/activation-request.ts';
import { makeTempDir } from '../../../helpers/tmp.ts';

export const HTTP_ISSUER = 'urn:kiosk:vendor:http-test';
export const PUBLIC_URLS = { apiUrl: 'https://licenses.example.test', mqttUrl: 'mqtts://broker.example.test:8883' } as const;

export interface TestDevice {
  readonly request: ActivationRequest;
  readonly deviceId: string;
  readonly privateKey: KeyObject;
  /** A device proof (typ kiosk-device-proof+jwt) carrying the license token. */
  proof(licenseToken: string, options?: { readonly lifetimeS?: number; readonly nowS?: number }): Promise<string>;
  /** The offline deactivation file (typ kiosk-deactivation+jwt). */
  deactivationFile(licenseToken: string, options?: { readonly nowS?: number }): Promise<string>;
}

export interface HttpFixture {
  readonly dir: string;
  readonly ctx: ServerContext;
  readonly app: FastifyInstance;
  readonly clock: ReturnType<typeof fixedClock>;
  /** Every log line (JSON text) the app wrote. */
  readonly logLines: string[];
  /** An API token with the admin scope. */
  readonly adminToken: string;
  token(scopes: ApiScope[], name?: string): Promise<string>;
  get(url: string, token?: string | null, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  post(url: string, body?: unknown, token?: string | null): Promise<LightMyRequestResponse>;
  /** POST /v1/licenses; returns the key and the id. */
  createLicense(body?: Record<string, unknown>): Promise<{ key: string; id: string }>;
  device(n: number | string): Promise<TestDevice>;
}

let jtiCounter = 0;

export async function makeDevice(issuer: string, n: number | string): Promise<TestDevice> {
  const components = hashComponents(issuer, physicalDevice(n).raw);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { x, y } = publicKey.export({ format: 'jwk' });
  const devicePublicKey = { kty: 'EC' as const, crv: 'P-256' as const, x: x ?? '', y: y ?? '' };
  const jkt = await calculateJwkThumbprint(devicePublicKey, 'sha256');
  const deviceId = computeDeviceId(components);
  const request: ActivationRequest = {
    type: 'kiosk-activation-request',
    v: 1,
    issuer,
    deviceId,
    components,
    devicePublicKey,
    jkt,
    platform: { arch: 'x64', virtualization: null, container: null },
    agentVersion: '0.1.0-test',
    createdAt: new Date(0).toISOString(),
  };
  const sign = (typ: string, claims: Record<string, unknown>): Promise<string> =>
    new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader({ alg: 'ES256', typ, kid: jkt }).sign(privateKey);
  const jti = (): string => `proof-${process.pid}-${++jtiCounter}-${'x'.repeat(8)}`;
  return {
    request,
    deviceId,
    privateKey,
    proof(lic, options = {}) {
      const iat = options.nowS ?? Math.floor(Date.now() / 1000);
      return sign(DOCUMENT_TYPES.deviceProof, { iss: deviceId, aud: SERVER_AUDIENCE, iat, exp: iat + (options.lifetimeS ?? 120), jti: jti(), lic });
    },
    deactivationFile(lic, options = {}) {
      const iat = options.nowS ?? Math.floor(Date.now() / 1000);
      return sign(DOCUMENT_TYPES.deactivation, { iss: deviceId, aud: SERVER_AUDIENCE, iat, jti: jti(), lic, action: 'deactivate' });
    },
  };
}

/** A server context over a fresh temp dir with a generated key set. */
export async function makeServerContext(options: { readonly clock?: ReturnType<typeof fixedClock> } = {}): Promise<{ dir: string; ctx: ServerContext }> {
  const dir = makeTempDir('kiosk-http-');
  const config = resolveServerConfig({ flags: { 'data-dir': join(dir, 'data') }, env: {}, cwd: dir });
  await generateKey(config.keysDir, { issuer: HTTP_ISSUER });
  const ctx = createServerContext(config, options.clock ? { clock: options.clock } : {}, capturingIO({}, dir));
  onTestFinished(() => ctx.close());
  return { dir, ctx };
}

export async function httpFixture(options: { readonly rateLimit?: HttpAppDeps['rateLimit']; readonly logLevel?: LogLevelName } = {}): Promise<HttpFixture> {
  const clock = fixedClock(Date.now());
  const { dir, ctx } = await makeServerContext({ clock });
  const logLines: string[] = [];
  const logger = createHttpLogger({ level: options.logLevel ?? 'info', write: (line) => void logLines.push(line) });
  const app = buildHttpApp(
    createHttpAppDeps(ctx, {
      logger,
      rateLimit: options.rateLimit ?? { activations: { burst: 1000, perMinute: 60_000 } },
      publicUrls: () => PUBLIC_URLS,
    }),
  );
  onTestFinished(() => app.close());
  await app.ready();
  const token = async (scopes: ApiScope[], name = 'test'): Promise<string> => (await createApiToken(await ctx.deps(), { name, scopes, actor: 'test' })).token;
  const adminToken = await token(['admin'], 'admin');
  const auth = (t: string | null | undefined): Record<string, string> => (t === null ? {} : { authorization: `Bearer ${t ?? adminToken}` });
  const fixture: HttpFixture = {
    dir,
    ctx,
    app,
    clock,
    logLines,
    adminToken,
    token,
    get: (url, t, headers = {}) => app.inject({ method: 'GET', url, headers: { ...auth(t), ...headers } }),
    post: (url, body, t) =>
      app.inject({ method: 'POST', url, headers: auth(t), ...(body === undefined ? {} : { payload: body as Record<string, unknown> }) }),
    async createLicense(body = {}) {
      const res = await fixture.post('/v1/licenses', { tenant: 'shop-1', features: ['pos', 'sync'], maxDevices: 3, days: 365, ...body });
      if (res.statusCode !== 201) throw new Error(`license create: ${res.statusCode} ${res.body}`);
      const out = res.json<{ license: { id: string }; licenseKey: string }>();
      return { key: out.licenseKey, id: out.license.id };
    },
    device: (n) => makeDevice(HTTP_ISSUER, n),
  };
  return fixture;
}
