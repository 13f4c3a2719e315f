// Input at the edge: bodies, params and query strings are `unknown` until a zod schema decodes
// them (STYLE "Conventions" 4); a failure is VALIDATION_FAILED naming the field.
import type { z } from 'zod';
import { KioskError, type ErrorCode } from '../../../common/errors.ts';

export function parseInput<T>(schema: z.ZodType<T>, value: unknown, what: string, code: ErrorCode = 'VALIDATION_FAILED'): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const where = first?.path.length ? first.path.join('.') : what;
  throw new KioskError(code, `${what}: ${where === what ? '' : `${where}: `}${first?.message ?? 'invalid'}`);
}
