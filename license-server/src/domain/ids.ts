// Identifiers made by the server, prefixed by what they name. Activation ids and token ids
// (jti) start with their creation time (48 bits of ms) and end in random bits: unique, and new
// rows land at the end of their indexes instead of on a random page of each (an activation
// writes fewer database pages). Neither is a secret; license ids stay fully random.
import type { RandomBytes } from '../../../common/license-key.ts';

export const LICENSE_ID_PATTERN = /^lic_[0-9a-f]{20}$/;
export const ACTIVATION_ID_PATTERN = /^act_[0-9a-f]{20}$/;

/** `lic_` + 80 random bits. */
export const newLicenseId = (random: RandomBytes): string => `lic_${hex(random, 10)}`;
/** `act_` + 48 bits of creation time (ms) + 32 random bits, 20 hex digits in all. */
export const newActivationId = (random: RandomBytes, nowMs: number): string => `act_${timeBytes(nowMs).toString('hex')}${hex(random, 4)}`;
/** A token id (`jti`): 48 bits of issue time (ms) + 80 random bits, base64url (22 characters). */
export const newTokenId = (random: RandomBytes, nowMs: number): string => Buffer.concat([timeBytes(nowMs), Buffer.from(random(10))]).toString('base64url');

const hex = (random: RandomBytes, bytes: number): string => Buffer.from(random(bytes)).toString('hex');

/** The time as 6 big-endian bytes (ms since 1970, until the year 10889). */
function timeBytes(nowMs: number): Buffer {
  const out = Buffer.alloc(6);
  out.writeUIntBE(Math.max(0, Math.min(2 ** 48 - 1, Math.floor(nowMs))), 0, 6);
  return out;
}
