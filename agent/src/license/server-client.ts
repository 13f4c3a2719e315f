// The agent's client of the license server's device API (common/device-api.ts, DESIGN §4.7):
// activation, refresh, deactivation and the revocation list over global fetch. Every answer is
// `unknown` until a schema decodes it; the result is data — `{ok:true, value}` or
// `{ok:false, failure:{code, message, status}}` — never a thrown fetch error, so the CLI turns a
// failure into its exit code and the daemon's planner classifies it (domain/renewal.ts).
//
// Transport rules: off loopback only https (DESIGN §4.5 "Off loopback, HTTP and MQTT use TLS");
// no redirects are followed (a redirect could carry a proof to another host); bodies are capped;
// every request has a timeout. Server messages are shown, never the proof or token sent.
import { z } from 'zod';
import {
  DEVICE_API,
  deactivationResponseSchema,
  errorBodySchema,
  MAX_DEVICE_BODY_BYTES,
  revocationsResponseSchema,
  tokenResponseSchema,
  type ActivationBody,
  type DeactivationResponse,
  type RevocationsResponse,
  type TokenResponse,
} from '../../../common/device-api.ts';
import { isErrorCode, KioskError, type ErrorCode } from '../../../common/errors.ts';
import { MAX_REVOCATION_LIST_BYTES } from '../../../common/revocation-list.ts';
import { PRODUCT_VERSION } from '../../../common/version.ts';

export const DEFAULT_SERVER_TIMEOUT_MS = 15_000;
/** A token answer is a few KB; the revocation answer carries a list of up to 4 MiB (as JSON). */
const MAX_TOKEN_ANSWER_BYTES = MAX_DEVICE_BODY_BYTES;
const MAX_REVOCATIONS_ANSWER_BYTES = MAX_REVOCATION_LIST_BYTES + 64 * 1024;
const MAX_ERROR_ANSWER_BYTES = 16 * 1024;

export interface ServerFailure {
  readonly code: ErrorCode;
  readonly message: string;
  /** The HTTP status; null when no answer came (unreachable, timeout). */
  readonly status: number | null;
}

export type ServerAnswer<T> = { readonly ok: true; readonly value: T; readonly status: number } | { readonly ok: false; readonly failure: ServerFailure };

export interface ServerClientOptions {
  readonly timeoutMs?: number;
  /** Aborts every request in flight (the daemon's shutdown). */
  readonly signal?: AbortSignal;
  /** Injected in tests; global fetch otherwise. */
  readonly fetch?: typeof fetch;
}

export interface ServerClient {
  readonly baseUrl: string;
  activate(body: ActivationBody): Promise<ServerAnswer<TokenResponse>>;
  refresh(proof: string): Promise<ServerAnswer<TokenResponse>>;
  deactivate(proof: string): Promise<ServerAnswer<DeactivationResponse>>;
  revocations(): Promise<ServerAnswer<RevocationsResponse>>;
}

// ---------------------------------------------------------------------------------------------
// Server URLs

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

/** 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return LOOPBACK_HOSTS.has(h) || /^127(\.\d{1,3}){3}$/.test(h) || h.endsWith('.localhost');
}

export type ServerUrlCheck = { readonly ok: true; readonly url: string } | { readonly ok: false; readonly message: string };

/**
 * Checks a license server URL: http(s), no credentials, query or fragment; plain http only to a
 * loopback address. Returns the normalised base URL (path ending in `/`).
 */
export function checkServerUrl(text: string): ServerUrlCheck {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, message: `"${text.slice(0, 200)}" is not a URL (e.g. https://licenses.example.com)` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, message: `${url.protocol.replace(/:$/, '')} is not a license server URL scheme: use https://` };
  }
  if (url.username !== '' || url.password !== '') return { ok: false, message: 'a license server URL must not carry credentials' };
  if (url.search !== '' || url.hash !== '') return { ok: false, message: 'a license server URL has no query or fragment' };
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return {
      ok: false,
      message: `plain http to ${url.hostname} is refused: off loopback the agent talks to the license server over TLS only; use https://${url.host}${url.pathname === '/' ? '' : url.pathname}`,
    };
  }
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  return { ok: true, url: `${url.protocol}//${url.host}${path}` };
}

/** The URL of a device API path under a base URL (which may carry a path prefix). */
export function endpointUrl(baseUrl: string, path: string): string {
  return new URL(path.replace(/^\//, ''), baseUrl).toString();
}

// ---------------------------------------------------------------------------------------------
// The client

export function createServerClient(baseUrl: string, options: ServerClientOptions = {}): ServerClient {
  const checked = checkServerUrl(baseUrl);
  if (!checked.ok) throw new KioskError('CONFIG_INVALID', checked.message);
  const base = checked.url;
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS;

  async function call<S extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    schema: S,
    okStatuses: readonly number[],
    maxBytes: number,
  ): Promise<ServerAnswer<z.infer<S>>> {
    const url = endpointUrl(base, path);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        redirect: 'manual',
        signal,
        headers: {
          accept: 'application/json',
          'user-agent': `kiosk-agent/${PRODUCT_VERSION}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      return fail('SERVER_UNREACHABLE', unreachableMessage(base, err, timeout.aborted, timeoutMs), null);
    }
    const status = response.status;
    if (status >= 300 && status < 400) {
      await discard(response);
      return fail('SERVER_ERROR', `the license server at ${base} answered with a redirect (HTTP ${status}); redirects are not followed: use the final URL`, status);
    }
    const ok = okStatuses.includes(status);
    let text: string;
    try {
      text = await readCapped(response, ok ? maxBytes : MAX_ERROR_ANSWER_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLarge) return fail('SERVER_ERROR', `the license server's answer is larger than ${err.maxBytes} bytes`, status);
      return fail('SERVER_UNREACHABLE', unreachableMessage(base, err, timeout.aborted, timeoutMs), status);
    }
    const json = parseJson(text);
    if (ok) {
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        const first = parsed.error.issues[0];
        return fail('SERVER_ERROR', `the license server's answer (HTTP ${status}) is not what the device API defines (${first?.path.join('.') || 'body'}: ${first?.message ?? 'invalid'})`, status);
      }
      return { ok: true, value: parsed.data, status };
    }
    return { ok: false, failure: errorAnswer(json, status) };
  }

  return {
    baseUrl: base,
    activate: (body) => call('POST', DEVICE_API.activations, body, tokenResponseSchema, [200, 201], MAX_TOKEN_ANSWER_BYTES),
    refresh: (proof) => call('POST', DEVICE_API.refresh, { proof }, tokenResponseSchema, [200, 201], MAX_TOKEN_ANSWER_BYTES),
    deactivate: (proof) => call('POST', DEVICE_API.deactivations, { proof }, deactivationResponseSchema, [200, 201], MAX_TOKEN_ANSWER_BYTES),
    revocations: () => call('GET', DEVICE_API.revocations, undefined, revocationsResponseSchema, [200], MAX_REVOCATIONS_ANSWER_BYTES),
  };
}

/** A failed answer as the KioskError the CLI reports. */
export function failureToError(failure: ServerFailure): KioskError {
  return new KioskError(failure.code, failure.message, { details: { status: failure.status } });
}

const fail = (code: ErrorCode, message: string, status: number | null): { ok: false; failure: ServerFailure } => ({
  ok: false,
  failure: { code, message, status },
});

/**
 * A non-2xx answer: `{error:{code,message}}` with a catalogue code and a 4xx status is the
 * server's refusal, taken as it is (LICENSE_KEY_UNKNOWN, SEATS_FULL, REVOKED …). A 5xx, an
 * unknown code or a body that is not the error shape is SERVER_ERROR.
 */
function errorAnswer(json: unknown, status: number): ServerFailure {
  const parsed = errorBodySchema.safeParse(json);
  if (!parsed.success) return { code: 'SERVER_ERROR', message: `the license server answered HTTP ${status} without an error document`, status };
  const { code, message } = parsed.data.error;
  const shown = printable(message);
  if (status >= 500 || !isErrorCode(code)) {
    return { code: 'SERVER_ERROR', message: `the license server failed (HTTP ${status}, ${printable(code).slice(0, 64)}): ${shown}`, status };
  }
  return { code, message: `the license server refused: ${shown}`, status };
}

/** Server text for a one-line message: printable ASCII-ish, at most 300 characters. */
function printable(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return clean.length > 300 ? `${clean.slice(0, 297)}...` : clean;
}

function unreachableMessage(base: string, err: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `the license server at ${base} did not answer within ${Math.round(timeoutMs / 1000)} s`;
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err);
  return `the license server at ${base} cannot be reached (${printable(why).slice(0, 120)})`;
}

class BodyTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`body larger than ${maxBytes} bytes`);
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await discard(response);
    throw new BodyTooLarge(maxBytes);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
