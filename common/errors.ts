// One catalogue of stable error codes for both programs (DESIGN §4.1, STYLE "Conventions" 1).
// Callers switch on `code`, never on a message. Each code carries the CLI exit code and the
// HTTP status it maps to, so the CLI and both HTTP APIs agree.
//
// Exit codes: 0 ok · 1 environment (I/O, unreachable server, bad config) · 2 usage ·
// 3 the license is not usable / refused.

interface CatalogueEntry {
  readonly exit: 1 | 2 | 3;
  readonly http: number;
  readonly summary: string;
}

const entry = (exit: 1 | 2 | 3, http: number, summary: string): CatalogueEntry => ({ exit, http, summary });

export const ERROR_CATALOGUE = {
  // usage and input
  USAGE: entry(2, 400, 'the command line is wrong'),
  VALIDATION_FAILED: entry(2, 400, 'an input value is invalid'),
  ACTIVATION_REQUEST_INVALID: entry(2, 400, 'the activation request file is not a valid request'),
  PAYLOAD_TOO_LARGE: entry(2, 413, 'the input is larger than allowed'),
  // environment
  CONFIG_INVALID: entry(1, 500, 'the configuration is invalid'),
  IO_ERROR: entry(1, 500, 'a file could not be read or written'),
  DATA_DIR_UNUSABLE: entry(1, 500, 'the data directory cannot be used'),
  STORAGE_ERROR: entry(1, 500, 'the database failed'),
  KEYS_MISSING: entry(1, 500, 'no signing keys are available'),
  KEYS_INVALID: entry(1, 500, 'a key file is invalid'),
  SERVER_UNREACHABLE: entry(1, 502, 'the license server cannot be reached'),
  SERVER_ERROR: entry(1, 502, 'the license server answered with an error'),
  NOT_FOUND: entry(1, 404, 'no such resource'),
  UNAUTHORIZED: entry(1, 401, 'credentials are missing or invalid'),
  FORBIDDEN: entry(1, 403, 'the credentials do not allow this'),
  RATE_LIMITED: entry(1, 429, 'too many requests'),
  INTERNAL: entry(1, 500, 'an unexpected internal error'),
  // license reasons (DESIGN §4.4): why a license is not usable
  LICENSE_MISSING: entry(3, 403, 'no license is installed'),
  TOKEN_MALFORMED: entry(3, 400, 'the license token is not a well-formed JWS'),
  ALG_NOT_ALLOWED: entry(3, 403, 'the token uses an algorithm other than ES256'),
  KEY_UNKNOWN: entry(3, 403, 'the token names no trusted key'),
  SIGNATURE_INVALID: entry(3, 403, 'the token signature does not verify'),
  TYPE_INVALID: entry(3, 403, 'the token is not of the expected document type'),
  CLAIM_INVALID: entry(3, 403, 'a token claim is missing or wrong'),
  NOT_YET_VALID: entry(3, 403, 'the token is not valid yet'),
  EXPIRED: entry(3, 403, 'the license has expired'),
  DEVICE_MISMATCH: entry(3, 403, 'the license is bound to other hardware'),
  FINGERPRINT_UNVERIFIABLE: entry(3, 403, 'too little of the hardware is readable to check the binding'),
  REVOKED: entry(3, 403, 'the license or device has been revoked'),
  CLOCK_TAMPERED: entry(3, 403, 'the system clock is behind the trusted time'),
  TOKEN_REPLAYED: entry(3, 409, 'an older token of the installed license was offered'),
  // issuance and activation
  LICENSE_KEY_MALFORMED: entry(3, 400, 'the license key is mistyped (bad format or checksum)'),
  LICENSE_KEY_UNKNOWN: entry(3, 404, 'no license has this key'),
  SEATS_FULL: entry(3, 409, 'every seat of the license is taken'),
  VIRTUAL_NOT_ALLOWED: entry(3, 403, 'the license does not allow virtual machines or containers'),
  // selling
  LICENSE_REQUIRED: entry(3, 402, 'a license is required for this'),
  TRIAL_LIMIT_REACHED: entry(3, 429, 'the trial limit is reached'),
  ORDER_CONFLICT: entry(2, 409, 'an order with this id exists with other content, or the correction is not possible'),
  DISK_FULL: entry(1, 507, 'the disk is full: nothing was stored'),
  // local API guards (DESIGN §4.6)
  UNSUPPORTED_MEDIA_TYPE: entry(2, 415, 'only application/json bodies are accepted'),
  HOST_NOT_ALLOWED: entry(2, 421, 'the Host header is not one this API answers to'),
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOGUE, value);
}

export class KioskError extends Error {
  override readonly name = 'KioskError';
  readonly code: ErrorCode;
  /** Extra, non-secret facts for logs and JSON output. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }

  get exitCode(): 1 | 2 | 3 {
    return ERROR_CATALOGUE[this.code].exit;
  }

  get httpStatus(): number {
    return ERROR_CATALOGUE[this.code].http;
  }

  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Any thrown value as a KioskError; unknown errors become INTERNAL (or IO_ERROR for fs errors). */
export function asKioskError(err: unknown): KioskError {
  if (err instanceof KioskError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  if (e && typeof e.code === 'string' && typeof e.syscall === 'string') {
    return new KioskError('IO_ERROR', `${e.syscall} ${e.path ?? ''}: ${e.code}`.replace(/\s+:/, ':'), { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new KioskError('INTERNAL', message, { cause: err });
}
