import { describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION } from '../../../../agent/src/store/migrations.ts';

describe('migration list', () => {
  it('is numbered 1, 2, 3 … in order, and SCHEMA_VERSION is the last', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('every migration has a name and SQL', () => {
    for (const m of MIGRATIONS) {
      expect(m.name.length).toBeGreaterThan(0);
      expect(m.sql.trim().length).toBeGreaterThan(0);
    }
  });
});
