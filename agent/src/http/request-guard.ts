// The local API's guards (DESIGN §4.6): the API listens on 127.0.0.1 but any web page the
// kiosk's browser opens can reach it, so
// - only the Host names of this listener pass (DNS rebinding) → 421 HOST_NOT_ALLOWED;
// - a request carrying an Origin that is not this listener, and every OPTIONS preflight, are
//   refused → 403 FORBIDDEN; no Access-Control-* header is ever sent;
// - bodies must be application/json → 415 UNSUPPORTED_MEDIA_TYPE;
// - with a token configured, `Authorization: Bearer <token>` is required → 401 UNAUTHORIZED.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { KioskError } from '../../../common/errors.ts';

export interface GuardOptions {
  /** The listening port (known after listen when configured as 0). */
  port(): number;
  readonly token: string | null;
}

export function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function installRequestGuards(app: FastifyInstance, options: GuardOptions): void {
  app.addHook('onRequest', async (request) => {
    const hosts = allowedHosts(options.port());
    const host = request.headers.host ?? '';
    if (!hosts.has(host.toLowerCase())) throw new KioskError('HOST_NOT_ALLOWED', `this API answers only to ${[...hosts].join(', ')}`);
    if (request.method === 'OPTIONS') throw new KioskError('FORBIDDEN', 'cross-origin requests are not served (no CORS)');
    const origin = request.headers.origin;
    if (origin !== undefined && !(origin.startsWith('http://') && hosts.has(origin.slice('http://'.length).toLowerCase()))) {
      throw new KioskError('FORBIDDEN', 'cross-origin requests are not served (no CORS)');
    }
    if (options.token !== null) {
      const auth = request.headers.authorization ?? '';
      const given = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
      if (!timingSafeEqual(digest(given), digest(options.token))) throw new KioskError('UNAUTHORIZED', 'a bearer token is required');
    }
    if (request.method === 'POST' || request.method === 'PUT' || request.method === 'PATCH') {
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') throw new KioskError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    }
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    for (const name of Object.keys(reply.getHeaders())) if (name.toLowerCase().startsWith('access-control-')) reply.removeHeader(name);
    return payload;
  });
}
