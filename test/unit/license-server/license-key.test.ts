import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KioskError } from '../../../common/errors.ts';
import {
  CROCKFORD_ALPHABET,
  generateLicenseKey,
  hashLicenseKey,
  isWellFormedLicenseKey,
  LICENSE_KEY_PATTERN,
  LICENSE_KEY_SYMBOLS,
  licenseKeyHint,
  normalizeLicenseKey,
} from '../../../common/license-key.ts';

/** A deterministic random source (so a failure names the key that broke). */
function seeded(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) =>
    Uint8Array.from({ length: n }, () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x & 0xff;
    });
}

const symbolsOf = (key: string): string[] => [...key.replace(/-/g, '')];
const fromSymbols = (s: readonly string[]): string => s.join('');

function malformed(input: string): KioskError {
  try {
    normalizeLicenseKey(input);
  } catch (err) {
    expect(err).toBeInstanceOf(KioskError);
    expect((err as KioskError).code).toBe('LICENSE_KEY_MALFORMED');
    return err as KioskError;
  }
  throw new Error(`accepted a corrupted key: ${input}`);
}

const KEYS = [
  ...Array.from({ length: 24 }, (_, i) => generateLicenseKey(seeded(i + 1))),
  generateLicenseKey(() => new Uint8Array(13)), // all zero
  generateLicenseKey(() => new Uint8Array(13).fill(0xff)), // all one bits
];

describe('license keys', () => {
  it('look like XXXXX-XXXXX-XXXXX-XXXXX-CC, carry 100 random bits and are canonical', () => {
    for (const key of KEYS) {
      expect(key).toMatch(LICENSE_KEY_PATTERN);
      expect(normalizeLicenseKey(key)).toBe(key);
    }
    expect(KEYS[KEYS.length - 2]).toBe('00000-00000-00000-00000-00');
    // 100 bits: 13 random bytes → 20 data symbols; the last 4 bits are unused
    const a = generateLicenseKey(() => Uint8Array.from([...Array(12).fill(0), 0x00]));
    const b = generateLicenseKey(() => Uint8Array.from([...Array(12).fill(0), 0x0f]));
    expect(a).toBe(b);
    const c = generateLicenseKey(() => Uint8Array.from([...Array(12).fill(0), 0x10]));
    expect(c).not.toBe(a);
    const many = new Set(Array.from({ length: 2000 }, () => generateLicenseKey()));
    expect(many.size).toBe(2000);
  });

  it('catch every single-character substitution (brute force)', () => {
    let tried = 0;
    for (const key of KEYS) {
      const s = symbolsOf(key);
      for (let i = 0; i < s.length; i++) {
        for (const ch of CROCKFORD_ALPHABET) {
          if (ch === s[i]) continue;
          const t = [...s];
          t[i] = ch;
          malformed(fromSymbols(t));
          tried++;
        }
      }
    }
    expect(tried).toBe(KEYS.length * LICENSE_KEY_SYMBOLS * 31);
  });

  it('catch every adjacent transposition, and every other swap too (brute force)', () => {
    let adjacent = 0;
    for (const key of KEYS) {
      const s = symbolsOf(key);
      for (let i = 0; i < s.length; i++) {
        for (let j = i + 1; j < s.length; j++) {
          if (s[i] === s[j]) continue; // swapping equal symbols changes nothing
          const t = [...s];
          [t[i], t[j]] = [t[j] as string, t[i] as string];
          malformed(fromSymbols(t));
          if (j === i + 1) adjacent++;
        }
      }
    }
    expect(adjacent).toBeGreaterThan(KEYS.length * 15);
  });

  it('catch a dropped, doubled or added character by length', () => {
    const s = symbolsOf(KEYS[0] as string);
    for (let i = 0; i < s.length; i++) {
      malformed(fromSymbols(s.filter((_, j) => j !== i)));
      malformed(fromSymbols([...s.slice(0, i), s[i] as string, ...s.slice(i)]));
    }
  });

  it('read case-insensitively, with or without dashes and spaces, O as 0 and I/L as 1', () => {
    expect(normalizeLicenseKey('ooooo-OOOOO-00000-0o0O0-oo')).toBe('00000-00000-00000-00000-00');
    for (const k of KEYS) {
      const compact = k.replace(/-/g, '');
      expect(normalizeLicenseKey(compact)).toBe(k);
      expect(normalizeLicenseKey(compact.toLowerCase())).toBe(k);
      expect(normalizeLicenseKey(` ${compact.match(/.{1,4}/g)?.join(' ')} \n`)).toBe(k);
      expect(normalizeLicenseKey(k.replace(/0/g, 'O').replace(/1/g, 'l'))).toBe(k);
      expect(normalizeLicenseKey(k.replace(/1/g, 'i').toLowerCase())).toBe(k);
    }
    expect(isWellFormedLicenseKey(KEYS[0] as string)).toBe(true);
    expect(isWellFormedLicenseKey('00000-00000-00000-00000-01')).toBe(false);
  });

  it('explain what is wrong without echoing the key', () => {
    const key = KEYS[3] as string;
    const u = malformed(`${key.slice(0, 6)}U${key.slice(7)}`);
    expect(u.message).toMatch(/"U"/);
    expect(u.message).not.toContain(key.slice(0, 5));
    expect(malformed(key.slice(0, -3)).message).toMatch(/22 .*this one has 20/);
    const t = symbolsOf(key);
    t[0] = t[0] === 'A' ? 'B' : 'A';
    expect(malformed(fromSymbols(t)).message).toMatch(/mistyped|swapped/);
    expect(malformed('').message).toMatch(/this one has 0/);
    expect(malformed('lic_0123').message).toMatch(/"_"/);
  });

  it('hash the canonical form, so every way of typing a key finds the same license', () => {
    const key = KEYS[5] as string;
    const h = hashLicenseKey(key);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(hashLicenseKey(key.toLowerCase().replace(/-/g, ' '))).toBe(h);
    expect(hashLicenseKey(KEYS[6] as string)).not.toBe(h);
    expect(() => hashLicenseKey('nonsense')).toThrow(KioskError);
  });

  it('give a short, non-secret hint: the last 4 symbols', () => {
    const key = KEYS[7] as string;
    expect(licenseKeyHint(key)).toBe(key.replace(/-/g, '').slice(-4));
    expect(licenseKeyHint(key)).toHaveLength(4);
  });

  it('refuse a random source that returns too little', () => {
    expect(() => generateLicenseKey(() => randomBytes(12))).toThrow(KioskError);
  });
});
