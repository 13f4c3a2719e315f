// What a new license allows, checked before anything is stored. Pure.
import { KioskError } from '../../../common/errors.ts';
import { FEATURE_PATTERN, TENANT_PATTERN } from '../../../common/license-token.ts';

export const MAX_DEVICES_LIMIT = 100_000;
export const MAX_LICENSE_DAYS = 36_500;
export const MAX_GRACE_DAYS = 365;
export const DEFAULT_GRACE_DAYS = 7;
export const MAX_FEATURES = 256;
export const DAY_MS = 86_400_000;

export interface LicenseTermsInput {
  readonly tenant: string;
  readonly features: readonly string[];
  readonly maxDevices: number;
  /** Length in days from now; or */
  readonly days?: number;
  /** the end: `YYYY-MM-DD` (valid through that day, UTC) or an ISO date-time with a zone. */
  readonly expires?: string;
  readonly graceDays?: number;
  readonly allowVirtual?: boolean;
}

export interface LicenseTerms {
  readonly tenant: string;
  readonly features: readonly string[];
  readonly maxDevices: number;
  readonly startsAtMs: number;
  /** Whole seconds (it becomes the token's `lexp`). */
  readonly expiresAtMs: number;
  readonly graceSeconds: number;
  readonly allowVirtual: boolean;
}

export function resolveLicenseTerms(input: LicenseTermsInput, nowMs: number): LicenseTerms {
  if (!TENANT_PATTERN.test(input.tenant)) {
    invalid(`tenant "${input.tenant}" must be 1-64 characters of A-Z a-z 0-9 _ - (it appears in MQTT topics)`);
  }
  const features = [...new Set(input.features)];
  for (const f of features) {
    if (!FEATURE_PATTERN.test(f)) invalid(`feature "${f}" must be 1-64 characters of A-Z a-z 0-9 _ . : -`);
  }
  if (features.length > MAX_FEATURES) invalid(`at most ${MAX_FEATURES} features`);
  if (!isWhole(input.maxDevices, 1, MAX_DEVICES_LIMIT)) invalid(`max devices must be a whole number from 1 to ${MAX_DEVICES_LIMIT}`);
  const graceDays = input.graceDays ?? DEFAULT_GRACE_DAYS;
  if (!isWhole(graceDays, 0, MAX_GRACE_DAYS)) invalid(`grace days must be a whole number from 0 to ${MAX_GRACE_DAYS}`);

  const startsAtMs = floorToSecond(nowMs);
  const expiresAtMs = floorToSecond(resolveExpiry(input, nowMs));
  if (expiresAtMs <= nowMs) invalid('the license would end before it starts: give an expiry date in the future');
  if (expiresAtMs - nowMs > MAX_LICENSE_DAYS * DAY_MS) invalid(`a license runs at most ${MAX_LICENSE_DAYS} days`);

  return {
    tenant: input.tenant,
    features,
    maxDevices: input.maxDevices,
    startsAtMs,
    expiresAtMs,
    graceSeconds: graceDays * 86_400,
    allowVirtual: input.allowVirtual ?? false,
  };
}

function resolveExpiry(input: LicenseTermsInput, nowMs: number): number {
  if ((input.days === undefined) === (input.expires === undefined)) invalid('give either a length in days or an expiry date, not both and not neither');
  if (input.days !== undefined) {
    if (!isWhole(input.days, 1, MAX_LICENSE_DAYS)) invalid(`days must be a whole number from 1 to ${MAX_LICENSE_DAYS}`);
    return nowMs + input.days * DAY_MS;
  }
  return parseExpiryDate(input.expires ?? '');
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** `YYYY-MM-DD` → the end of that day (UTC); ISO date-time with a zone → that instant. */
export function parseExpiryDate(text: string): number {
  const day = DATE_ONLY.exec(text);
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const start = Date.UTC(y, m - 1, d);
    const check = new Date(start);
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) invalid(`"${text}" is not a calendar date`);
    return start + DAY_MS;
  }
  if (DATE_TIME.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return ms;
  }
  return invalid(`expiry "${text}" must be a date (YYYY-MM-DD, valid through that day UTC) or an ISO date-time with a zone (2027-06-30T12:00:00Z)`);
}

const isWhole = (n: number, min: number, max: number): boolean => Number.isInteger(n) && n >= min && n <= max;
const floorToSecond = (ms: number): number => Math.floor(ms / 1000) * 1000;

function invalid(message: string): never {
  throw new KioskError('VALIDATION_FAILED', message);
}
