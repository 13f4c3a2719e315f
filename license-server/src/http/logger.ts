// The server's logs: pino JSON lines (to stderr, through a writer the caller gives) with every
// secret redacted — Authorization and cookies, license keys, tokens, proofs and deactivation
// documents wherever they appear as fields, and license keys in URLs (`GET /v1/licenses/KEY`).
// Request logs carry the method, the redacted URL, the route and the client address; never
// headers or bodies.
import pino, { type Logger } from 'pino';
import type { FastifyRequest } from 'fastify';

export type LogLevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

const SECRET_FIELDS = ['licenseKey', 'token', 'proof', 'document', 'privateKey', 'apiToken', 'password', 'authorization'];

export const REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  ...SECRET_FIELDS.map((f) => `*.*.${f}`),
];

export const REDACTED = '[redacted]';

export function createHttpLogger(options: { readonly level: LogLevelName; readonly write: (line: string) => void }): Logger {
  return pino(
    {
      level: options.level,
      base: { name: 'license-server' },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      serializers: { req: requestForLog, res: (reply: { statusCode: number }) => ({ statusCode: reply.statusCode }) },
    },
    { write: options.write },
  );
}

/** Only these fields, whatever was logged under `req` (never headers or a body). */
function requestForLog(request: Partial<FastifyRequest> | undefined): Record<string, unknown> {
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const url = text(request?.url);
  return {
    method: text(request?.method),
    url: url === undefined ? undefined : redactUrl(url),
    route: text(request?.routeOptions?.url),
    remoteAddress: text(request?.ip),
  };
}

/**
 * A URL for logs: path segments and query values that could be a license key (22 symbols of
 * its alphabet, dashes aside, any case) become `[redacted]`, and so do query values under a
 * secret-sounding name. Ids (`lic_…`, 32-hex device ids) stay readable.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const shownPath = path.split('/').map((s) => (looksSecret(s) ? REDACTED : s)).join('/');
  if (q < 0) return shownPath;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return looksSecret(pair) ? REDACTED : pair;
      const name = pair.slice(0, eq);
      return /key|token|proof|secret|pass|auth/i.test(name) || looksSecret(pair.slice(eq + 1)) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
  return `${shownPath}?${query}`;
}

function looksSecret(segment: string): boolean {
  let text: string;
  try {
    text = decodeURIComponent(segment);
  } catch {
    text = segment;
  }
  const compact = text.replace(/[\s+_-]+/g, '');
  // Crockford base32 plus the letters people mistype for digits (I, L, O), and U
  if (/^[a-z]{3}_[0-9a-f]{20}$/.test(text)) return false; // lic_…, act_… ids
  return compact.length >= 18 && compact.length <= 26 && /^[0-9A-Za-z]+$/.test(compact);
}
