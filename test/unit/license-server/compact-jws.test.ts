import { describe, expect, it } from 'vitest';
import { decodeCompactJws } from '../../../license-server/src/domain/compact-jws.ts';

const seg = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('decodeCompactJws', () => {
  it('returns the header object and the JSON payload', () => {
    expect(decodeCompactJws(`${seg({ alg: 'ES256' })}.${seg({ a: 1 })}.c2ln`, 1000)).toEqual({ header: { alg: 'ES256' }, payload: { a: 1 } });
  });

  it('refuses what is not a compact JWS', () => {
    const ok = `${seg({ alg: 'ES256' })}.${seg({ a: 1 })}.c2ln`;
    for (const bad of [
      '',
      'a.b',
      `${ok}.x`,
      `${seg({ alg: 'ES256' })}.${seg({ a: 1 })}.`, // empty signature
      `${seg([1])}.${seg({ a: 1 })}.c2ln`, // header not an object
      `${seg('null')}.${seg({ a: 1 })}.c2ln`,
      `${seg('{bad')}.${seg({ a: 1 })}.c2ln`,
      `${seg({ alg: 'ES256' })}.${seg('{bad')}.c2ln`,
      `${seg({ alg: 'ES256' })}.${Buffer.from([0xff, 0xfe]).toString('base64url')}.c2ln`, // not UTF-8
      `${seg({ alg: 'ES256' })}+.${seg({ a: 1 })}.c2ln`, // not base64url
    ]) {
      expect(decodeCompactJws(bad, 1000), bad).toBeNull();
    }
    expect(decodeCompactJws(ok, ok.length - 1)).toBeNull(); // too large
    expect(decodeCompactJws(ok, ok.length)).not.toBeNull();
  });
});
