// Decoding database rows: a row is `unknown` until a schema decodes it (STYLE 4).
import type { z } from 'zod';
import { KioskError } from '../../../common/errors.ts';

export function decodeRow<S extends z.ZodType>(schema: S, row: unknown, table: string): z.infer<S> {
  const parsed = schema.safeParse(row);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new KioskError('STORAGE_ERROR', `a row of ${table} does not decode (${first?.path.join('.') || 'row'}: ${first?.message})`);
  }
  return parsed.data;
}

export function decodeOptionalRow<S extends z.ZodType>(schema: S, row: unknown, table: string): z.infer<S> | null {
  return row === undefined ? null : decodeRow(schema, row, table);
}
