import { describe, expect, it } from 'vitest';
import { KioskError } from '../../../common/errors.ts';
import { toApiError } from '../../../license-server/src/http/error-handler.ts';

const fastifyError = (code: string, statusCode: number, message = 'fastify says'): Error => Object.assign(new Error(message), { code, statusCode });

describe('toApiError', () => {
  it('passes KioskErrors through', () => {
    const e = new KioskError('SEATS_FULL', 'full');
    expect(toApiError(e)).toBe(e);
  });

  it("maps fastify's own errors onto the catalogue", () => {
    const cases: Array<[Error, string, number]> = [
      [fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413), 'PAYLOAD_TOO_LARGE', 413],
      [fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415), 'UNSUPPORTED_MEDIA_TYPE', 415],
      [fastifyError('FST_ERR_CTP_EMPTY_JSON_BODY', 400), 'VALIDATION_FAILED', 400],
      [fastifyError('FST_ERR_CTP_INVALID_JSON_BODY', 400), 'VALIDATION_FAILED', 400],
      [fastifyError('FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400), 'VALIDATION_FAILED', 400],
      [fastifyError('FST_ERR_VALIDATION', 400), 'VALIDATION_FAILED', 400],
      [fastifyError('FST_ERR_NOT_FOUND', 404), 'NOT_FOUND', 404],
      [fastifyError('FST_ERR_SOMETHING_NEW', 413), 'PAYLOAD_TOO_LARGE', 413],
      [fastifyError('FST_ERR_SOMETHING_NEW', 431), 'VALIDATION_FAILED', 400],
    ];
    for (const [err, code, status] of cases) {
      const mapped = toApiError(err, 65_536);
      expect([mapped.code, mapped.httpStatus], (err as { code?: string }).code).toEqual([code, status]);
    }
    expect(toApiError(fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413), 65_536).message).toContain('65536');
  });

  it('hides the message of anything unexpected', () => {
    const mapped = toApiError(new Error('SELECT * FROM secrets failed at /srv/data'));
    expect(mapped.code).toBe('INTERNAL');
    expect(mapped.httpStatus).toBe(500);
    expect(mapped.message).not.toContain('secrets');
    expect(toApiError('a string').code).toBe('INTERNAL');
    expect(toApiError(undefined).code).toBe('INTERNAL');
  });
});
