// Who may call a route. Every route declares its access in its config: `{ scope }` (a vendor
// route: bearer API token with that scope) or `{ public: true }` (device and public routes).
// One onRequest hook checks it and REFUSES a route that declares neither (fail closed), so a
// new route cannot forget authentication; test/integration/license-server/http-auth.test.ts
// walks the route table to prove it.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KioskError } from '../../../common/errors.ts';
import { authenticateApiToken, hasScope, type ApiScope, type ApiTokenRecord } from '../domain/api-tokens.ts';
import type { HttpAppDeps } from './http-deps.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A vendor route: the API token scope it needs. */
    scope?: ApiScope;
    /** A device or public route: no API token. */
    public?: true;
    /** The rate limit bucket of the route (token-bucket.ts), keyed by client address. */
    rateLimit?: 'activations';
  }
  interface FastifyRequest {
    /** The authenticated API token of a vendor route; null on public routes. */
    apiToken: ApiTokenRecord | null;
  }
}

/** At most this long; API tokens are far shorter. */
const MAX_BEARER_LENGTH = 512;
const BEARER = /^Bearer +([\x21-\x7e]+)$/i;

export function registerRouteAccess(app: FastifyInstance, deps: HttpAppDeps): void {
  app.decorateRequest('apiToken', null);
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) return; // the not-found handler answers; it reveals nothing
    const { scope, public: isPublic } = request.routeOptions.config;
    if (isPublic === true && scope === undefined) return;
    if (scope === undefined || isPublic !== undefined) {
      request.log.error({ route: request.routeOptions.url }, 'route declares no access rule (or two): refused');
      throw new KioskError('FORBIDDEN', `${request.method} ${request.routeOptions.url ?? ''} declares no access rule: refused`);
    }
    reply.header('cache-control', 'no-store');
    const record = await authenticateApiToken(await deps.domainDeps(), bearerToken(request));
    if (!hasScope(record, scope)) throw new KioskError('FORBIDDEN', `this API token lacks the scope ${scope}`);
    request.apiToken = record;
  });
}

/** The actor recorded in the audit log for a vendor request. */
export function apiActor(request: FastifyRequest): string {
  if (!request.apiToken) throw new KioskError('INTERNAL', 'a vendor route ran without an authenticated API token');
  return `api:${request.apiToken.id}`;
}

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header === undefined || header === '') {
    throw new KioskError('UNAUTHORIZED', 'an API token is required: send "Authorization: Bearer TOKEN" (license-server admin create-token)');
  }
  const match = header.length <= MAX_BEARER_LENGTH ? BEARER.exec(header) : null;
  if (!match?.[1]) throw new KioskError('UNAUTHORIZED', 'the Authorization header must be "Bearer TOKEN"');
  return match[1];
}
