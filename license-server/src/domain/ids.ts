// Identifiers made by the server: random, prefixed by what they name.
import type { RandomBytes } from '../../../common/license-key.ts';

export const LICENSE_ID_PATTERN = /^lic_[0-9a-f]{20}$/;
export const ACTIVATION_ID_PATTERN = /^act_[0-9a-f]{20}$/;

/** `lic_` + 80 random bits. */
export const newLicenseId = (random: RandomBytes): string => `lic_${hex(random, 10)}`;
/** `act_` + 80 random bits. */
export const newActivationId = (random: RandomBytes): string => `act_${hex(random, 10)}`;
/** A token id (`jti`): 128 random bits, base64url. */
export const newTokenId = (random: RandomBytes): string => Buffer.from(random(16)).toString('base64url');

const hex = (random: RandomBytes, bytes: number): string => Buffer.from(random(bytes)).toString('hex');
