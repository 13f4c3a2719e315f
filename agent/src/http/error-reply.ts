// Every local API error as `{ error: { code, message } }` with the catalogue's status
// (common/errors.ts); fastify's own errors (body too large, bad JSON) mapped to codes.
import type { FastifyError, FastifyInstance } from 'fastify';
import { KioskError, type ErrorCode } from '../../../common/errors.ts';
import type { ServiceLogger as DaemonLogger } from '../domain/sync-runtime.ts';

const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_FAILED',
};

export function asApiError(err: unknown): KioskError {
  if (err instanceof KioskError) return err;
  const e = err as Partial<FastifyError> | undefined;
  const mapped = typeof e?.code === 'string' ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return new KioskError(mapped, e?.message ?? mapped);
  if (err instanceof SyntaxError || (typeof e?.statusCode === 'number' && e.statusCode === 400)) {
    return new KioskError('VALIDATION_FAILED', `the body is not valid JSON: ${e?.message ?? ''}`.trim());
  }
  return new KioskError('INTERNAL', 'an unexpected internal error', { cause: err });
}

export function installErrorReplies(app: FastifyInstance, logger: DaemonLogger): void {
  app.setErrorHandler(async (err, request, reply) => {
    const e = asApiError(err);
    if (e.code === 'INTERNAL' || e.code === 'STORAGE_ERROR' || e.code === 'DISK_FULL') {
      logger.error({ code: e.code, detail: e.message, cause: err instanceof Error ? err.message : String(err), method: request.method, url: request.url }, 'local API request failed');
    }
    return reply.code(e.httpStatus).header('content-type', 'application/json; charset=utf-8').send(e.toJSON());
  });
  app.setNotFoundHandler(async (request, reply) => {
    const e = new KioskError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`);
    return reply.code(404).send(e.toJSON());
  });
}
