// One error handler and one not-found handler: every failure is `{ "error": { "code",
// "message" } }` with the catalogue's HTTP status (common/errors.ts). fastify's own errors
// (bad JSON, wrong media type, body too large, schema validation, 404) are mapped onto the
// catalogue; anything unexpected is INTERNAL without its message (it may hold internals) and
// is logged in full.
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { KioskError } from '../../../common/errors.ts';

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request, reply) => {
    const e = toApiError(err, request.routeOptions?.bodyLimit);
    if (e.httpStatus >= 500) request.log.error({ err, code: e.code }, 'request failed');
    else request.log.info({ code: e.code }, e.message);
    return sendError(reply, e);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    return sendError(reply, new KioskError('NOT_FOUND', `no route ${request.method} ${path.length > 200 ? `${path.slice(0, 200)}…` : path}`));
  });
}

export function sendError(reply: FastifyReply, e: KioskError): FastifyReply {
  if (e.code === 'RATE_LIMITED') {
    const seconds = e.details?.retryAfterSeconds;
    reply.header('retry-after', String(typeof seconds === 'number' ? seconds : 1));
  }
  if (e.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer');
  return reply.code(e.httpStatus).header('cache-control', 'no-store').type('application/json; charset=utf-8').send(e.toJSON());
}

/** Any thrown value as the KioskError the client sees. */
export function toApiError(err: unknown, bodyLimit?: number): KioskError {
  if (err instanceof KioskError) return err;
  const e = err as Partial<FastifyError> | undefined;
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new KioskError('PAYLOAD_TOO_LARGE', `the body is larger than ${bodyLimit ?? 'the limit of'} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new KioskError('UNSUPPORTED_MEDIA_TYPE', 'the body must be JSON (Content-Type: application/json)');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new KioskError('VALIDATION_FAILED', 'the body is empty but Content-Type says JSON');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new KioskError('VALIDATION_FAILED', 'the body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new KioskError('VALIDATION_FAILED', 'Content-Length does not match the body');
    case 'FST_ERR_VALIDATION':
      return new KioskError('VALIDATION_FAILED', e.message ?? 'the input is invalid');
    case 'FST_ERR_NOT_FOUND':
      return new KioskError('NOT_FOUND', 'no such resource');
    default:
      break;
  }
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status === 413) return new KioskError('PAYLOAD_TOO_LARGE', 'the body is larger than allowed');
  if (status === 404) return new KioskError('NOT_FOUND', 'no such resource');
  if (status === 400 && err instanceof SyntaxError) return new KioskError('VALIDATION_FAILED', 'the body is not valid JSON');
  if (status >= 400 && status < 500) return new KioskError('VALIDATION_FAILED', 'the request is not acceptable');
  return new KioskError('INTERNAL', 'an unexpected internal error (see the server log)');
}
