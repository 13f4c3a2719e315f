import { describe, expect, it } from 'vitest';
import { createHttpLogger, REDACTED, redactUrl } from '../../../license-server/src/http/logger.ts';

const KEY = '7QF3K-M2ZP9-X4TVA-8HRC1-5N';

describe('redactUrl', () => {
  it('hides license keys in paths and query strings, in any spelling', () => {
    expect(redactUrl(`/v1/licenses/${KEY}`)).toBe(`/v1/licenses/${REDACTED}`);
    expect(redactUrl(`/v1/licenses/${KEY.toLowerCase().replace(/-/g, '')}/devices`)).toBe(`/v1/licenses/${REDACTED}/devices`);
    expect(redactUrl(`/v1/licenses/${encodeURIComponent(KEY.replace(/-/g, ' '))}`)).toBe(`/v1/licenses/${REDACTED}`);
    expect(redactUrl(`/v1/audit?license=${KEY}&limit=5`)).toBe(`/v1/audit?license=${REDACTED}&limit=5`);
    expect(redactUrl('/x?token=abc&apiKey=1&proof=2&ok=3')).toBe(`/x?token=${REDACTED}&apiKey=${REDACTED}&proof=${REDACTED}&ok=3`);
  });

  it('keeps ids and ordinary paths readable', () => {
    for (const url of [
      '/v1/licenses/lic_0123456789abcdef0123',
      '/v1/licenses/lic_0123456789abcdef0123/devices/5f0e3c2b9a8d7e6f5a4b3c2d1e0f9a8b/deactivate',
      '/v1/deactivation-files',
      '/.well-known/jwks.json',
      '/v1/audit?after=12&limit=100',
      '/v1/licenses?tenant=acme-bakery',
    ]) {
      expect(redactUrl(url)).toBe(url);
    }
  });
});

describe('createHttpLogger', () => {
  it('writes JSON lines with secret fields redacted at any depth', () => {
    const lines: string[] = [];
    const log = createHttpLogger({ level: 'info', write: (l) => void lines.push(l) });
    log.info({ licenseKey: KEY, body: { token: 'tok-secret', proof: 'proof-secret' }, nested: { deeper: { document: 'doc-secret' } }, req: { headers: { authorization: 'Bearer kat_secret' } } }, 'hello');
    expect(lines).toHaveLength(1);
    const text = lines[0] ?? '';
    expect(JSON.parse(text)).toMatchObject({ msg: 'hello', licenseKey: REDACTED, body: { token: REDACTED, proof: REDACTED } });
    for (const secret of [KEY, 'tok-secret', 'proof-secret', 'doc-secret', 'kat_secret']) expect(text).not.toContain(secret);
    log.debug('not written at info');
    expect(lines).toHaveLength(1);
  });
});
