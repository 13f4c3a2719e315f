// Decoding a compact JWS without verifying it: enough to see which key and which checks apply.
// Pure; the signature is checked by the VerifyEs256 port (signing/jws-verify.ts).
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface DecodedJws {
  /** The protected header: a JSON object. */
  readonly header: Readonly<Record<string, unknown>>;
  /** The payload as JSON (still unchecked). */
  readonly payload: unknown;
}

/** The header and payload of a compact JWS of at most maxBytes; null when it is not one. */
export function decodeCompactJws(text: string, maxBytes: number): DecodedJws | null {
  if (typeof text !== 'string' || text.length > maxBytes) return null;
  const parts = text.split('.');
  if (parts.length !== 3) return null;
  const [h, p, sig] = parts as [string, string, string];
  if (!SEGMENT.test(h) || !SEGMENT.test(p) || !SEGMENT.test(sig)) return null;
  const header = parseJson(h);
  if (header === undefined || header === null || typeof header !== 'object' || Array.isArray(header)) return null;
  const payload = parseJson(p);
  if (payload === undefined) return null;
  return { header: header as Record<string, unknown>, payload };
}

function parseJson(segment: string): unknown {
  try {
    return JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')));
  } catch {
    return undefined;
  }
}
