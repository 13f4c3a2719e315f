// The device API (common/device-api.ts, pinned): online activation (rate limited per client
// address), refresh and deactivation by device proof, and the signed revocation list. Bodies
// are at most MAX_DEVICE_BODY_BYTES.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { activationBodySchema, DEVICE_API, MAX_DEVICE_BODY_BYTES, proofBodySchema, type RevocationsResponse, type TokenResponse } from '../../../../common/device-api.ts';
import { activate } from '../../domain/activation.ts';
import { deactivateByProof } from '../../domain/deactivation.ts';
import { refreshActivation } from '../../domain/refresh.ts';
import { currentRevocationList } from '../../domain/revocations.ts';
import type { HttpAppDeps } from '../http-deps.ts';
import { parseInput } from '../input.ts';
import { deactivationResponse } from '../views.ts';

export function registerDeviceRoutes(app: FastifyInstance, deps: HttpAppDeps): void {
  const tokenResponse = (token: string): TokenResponse => ({ token, ...deps.publicUrls(), serverTimeMs: deps.clock.nowMs() });

  app.post(DEVICE_API.activations, { config: { public: true, rateLimit: 'activations' }, bodyLimit: MAX_DEVICE_BODY_BYTES }, async (request, reply) => {
    const body = parseActivationBody(request.body);
    const result = await activate(await deps.issuanceDeps(), {
      licenseKey: body.licenseKey,
      request: body.request,
      mode: 'online',
      actor: `device:${body.request.deviceId}`,
    });
    reply.code(201);
    return tokenResponse(result.token);
  });

  app.post(DEVICE_API.refresh, { config: { public: true }, bodyLimit: MAX_DEVICE_BODY_BYTES }, async (request) => {
    const { proof } = parseInput(proofBodySchema, request.body, 'body');
    const result = await refreshActivation(await deps.issuanceDeps(), { proof });
    return tokenResponse(result.token);
  });

  app.post(DEVICE_API.deactivations, { config: { public: true }, bodyLimit: MAX_DEVICE_BODY_BYTES }, async (request) => {
    const { proof } = parseInput(proofBodySchema, request.body, 'body');
    return deactivationResponse(await deactivateByProof(await deps.issuanceDeps(), { proof }));
  });

  app.get(DEVICE_API.revocations, { config: { public: true } }, async (request, reply): Promise<RevocationsResponse | FastifyReply> => {
    const { list, version } = await currentRevocationList(await deps.issuanceDeps());
    const etag = `"${version}"`;
    reply.header('cache-control', 'no-cache').header('etag', etag);
    if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
    return { list, version };
  });
}

/** Made once: a zod schema built per request is compiled again for every request. */
const ACTIVATION_BODY_OUTER = activationBodySchema.pick({ licenseKey: true }).passthrough();

/**
 * The body with the request checked by the shared schema: a wrong request document is
 * ACTIVATION_REQUEST_INVALID (what the agent and activate-offline report), anything else
 * VALIDATION_FAILED. The domain checks the request's ids again.
 */
function parseActivationBody(body: unknown): ReturnType<typeof activationBodySchema.parse> {
  const outer = parseInput(ACTIVATION_BODY_OUTER, body, 'body');
  const request = parseInput(activationBodySchema.shape.request, (outer as Record<string, unknown>).request, 'request', 'ACTIVATION_REQUEST_INVALID');
  return { licenseKey: outer.licenseKey, request };
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === etag || tag === '*';
  });
}
