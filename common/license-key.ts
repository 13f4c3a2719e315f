// License keys a person can type (DESIGN §4.7): 100 random bits as 20 Crockford base32 symbols
// plus 2 check symbols, grouped for reading: `XXXXX-XXXXX-XXXXX-XXXXX-CC`.
// Shared because the agent checks a key's form before it calls the server.
//
// The check: symbols s0…s21 with weights 2…21 for the data, 32 and 1 for the two check symbols;
// Σ wᵢ·sᵢ ≡ 0 (mod 1021). 1021 is a prime above every weight and every symbol difference, and
// all weights differ, so a changed symbol (Δ = w·d) and two swapped symbols (Δ = (wᵢ−wⱼ)·d) both
// leave a non-zero remainder: every single-character typo and every transposition is caught.
// Keys are stored only as SHA-256 hashes of the canonical form.
import { createHash, randomBytes } from 'node:crypto';
import { KioskError } from './errors.ts';

/** Returns `size` random bytes; injected in tests. */
export type RandomBytes = (size: number) => Uint8Array;

export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const LICENSE_KEY_DATA_SYMBOLS = 20;
export const LICENSE_KEY_CHECK_SYMBOLS = 2;
export const LICENSE_KEY_SYMBOLS = LICENSE_KEY_DATA_SYMBOLS + LICENSE_KEY_CHECK_SYMBOLS;
/** 20 symbols × 5 bits. */
export const LICENSE_KEY_RANDOM_BITS = 100;
export const LICENSE_KEY_FORMAT = 'XXXXX-XXXXX-XXXXX-XXXXX-CC';
/** The canonical form, the only one ever hashed. */
export const LICENSE_KEY_PATTERN = /^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}-[0-9A-HJKMNP-TV-Z]{2}$/;

const MODULUS = 1021;
const CHECK_WEIGHTS = [32, 1] as const;
const dataWeight = (index: number): number => index + 2;
/** Letters people type for the digits they resemble (Crockford). */
const ALIASES: Readonly<Record<string, string>> = { O: '0', I: '1', L: '1' };

/** A fresh key in canonical form. Print it once; store only hashLicenseKey(key). */
export function generateLicenseKey(random: RandomBytes = randomBytes): string {
  const bytes = random(13); // 104 bits; the first 100 are used
  if (bytes.length < 13) throw new KioskError('INTERNAL', 'the random source returned too few bytes');
  const data: number[] = [];
  for (let i = 0; i < LICENSE_KEY_DATA_SYMBOLS; i++) data.push(readBits(bytes, i * 5, 5));
  return formatSymbols([...data, ...checkSymbols(data)]);
}

/**
 * The canonical form of a typed key: case-insensitive, dashes and spaces optional, O read as 0
 * and I/L as 1. Throws LICENSE_KEY_MALFORMED (never echoing the key) when it cannot be a key.
 */
export function normalizeLicenseKey(input: string): string {
  const compact = input.replace(/[\s-]+/g, '').toUpperCase();
  const symbols: number[] = [];
  for (const raw of compact) {
    const ch = ALIASES[raw] ?? raw;
    const value = CROCKFORD_ALPHABET.indexOf(ch);
    if (value < 0) {
      const shown = /^[\x21-\x7e]$/.test(raw) ? `"${raw}"` : `U+${raw.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')}`;
      throw new KioskError('LICENSE_KEY_MALFORMED', `a license key is made of the digits 0-9 and the letters A-Z except U, grouped by dashes; ${shown} does not belong in one`);
    }
    symbols.push(value);
  }
  if (symbols.length !== LICENSE_KEY_SYMBOLS) {
    throw new KioskError('LICENSE_KEY_MALFORMED', `a license key has ${LICENSE_KEY_SYMBOLS} letters and digits (${LICENSE_KEY_FORMAT}); this one has ${symbols.length}`);
  }
  const data = symbols.slice(0, LICENSE_KEY_DATA_SYMBOLS);
  const [c0, c1] = checkSymbols(data);
  if (symbols[LICENSE_KEY_DATA_SYMBOLS] !== c0 || symbols[LICENSE_KEY_DATA_SYMBOLS + 1] !== c1) {
    throw new KioskError('LICENSE_KEY_MALFORMED', 'the license key does not add up (checksum): a character is mistyped or two are swapped; compare it with the original');
  }
  return formatSymbols(symbols);
}

/** True when the input normalises to a key (for forms that validate as the user types). */
export function isWellFormedLicenseKey(input: string): boolean {
  try {
    normalizeLicenseKey(input);
    return true;
  } catch {
    return false;
  }
}

/** SHA-256 (hex) of the canonical key: what the server stores and looks keys up by. */
export function hashLicenseKey(key: string): string {
  return createHash('sha256').update(normalizeLicenseKey(key), 'utf8').digest('hex');
}

/** The last 4 symbols (2 of them check symbols): shown in lists to tell keys apart; not secret. */
export function licenseKeyHint(key: string): string {
  return normalizeLicenseKey(key).replace(/-/g, '').slice(-4);
}

function checkSymbols(data: readonly number[]): [number, number] {
  let sum = 0;
  data.forEach((s, i) => {
    sum = (sum + dataWeight(i) * s) % MODULUS;
  });
  // 32·c0 + c1 ≡ −sum (mod 1021), with 0 ≤ 32·c0 + c1 < 1021.
  const c = (MODULUS - sum) % MODULUS;
  return [Math.floor(c / CHECK_WEIGHTS[0]), c % CHECK_WEIGHTS[0]];
}

function formatSymbols(symbols: readonly number[]): string {
  const text = symbols.map((s) => CROCKFORD_ALPHABET[s]).join('');
  return `${text.slice(0, 5)}-${text.slice(5, 10)}-${text.slice(10, 15)}-${text.slice(15, 20)}-${text.slice(20)}`;
}

function readBits(bytes: Uint8Array, offset: number, count: number): number {
  let value = 0;
  for (let i = 0; i < count; i++) {
    const bit = offset + i;
    value = (value << 1) | (((bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1);
  }
  return value;
}
