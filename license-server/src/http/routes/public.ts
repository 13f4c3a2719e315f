// Public routes: the vendor's public key set (every trusted key, the next one included, with
// the issuer beside them) and the OpenAPI document of this API.
import type { FastifyInstance } from 'fastify';
import { DEVICE_API } from '../../../../common/device-api.ts';
import type { HttpAppDeps } from '../http-deps.ts';
import { buildOpenApiDocument } from '../openapi-document.ts';

export function registerPublicRoutes(app: FastifyInstance, deps: HttpAppDeps): void {
  app.get(DEVICE_API.jwks, { config: { public: true } }, async (_request, reply) => {
    // jwks.json as it is now (a rotation shows at once), parsed: a set with a private member
    // (`d`) is refused, never published.
    const set = await (await deps.issuanceDeps()).serverKeySet();
    reply.header('cache-control', 'public, max-age=300');
    return set;
  });

  let openApi: unknown;
  app.get('/openapi.json', { config: { public: true } }, async (_request, reply) => {
    openApi ??= buildOpenApiDocument();
    reply.header('cache-control', 'public, max-age=300');
    return openApi;
  });
}
