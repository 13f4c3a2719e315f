// The public key set a verifier trusts: a JWKS with the issuer id beside the keys, exactly as
// `license-server keys generate` writes it (DESIGN §4.1). Decoded by a schema: a key set is
// `unknown` until it passes.
import { z } from 'zod';
import { KioskError } from './errors.ts';
import { ISSUER_PATTERN, SIGNING_ALG } from './license-token.ts';

export const publicJwkSchema = z
  .object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    y: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    kid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    alg: z.literal(SIGNING_ALG).optional(),
    use: z.literal('sig').optional(),
  })
  .passthrough()
  .refine((k) => !('d' in k), { message: 'a trusted key set must not contain private keys' });
export type PublicJwk = z.infer<typeof publicJwkSchema>;

export const trustedKeySetSchema = z.object({
  issuer: z.string().regex(ISSUER_PATTERN),
  keys: z.array(publicJwkSchema).min(1).max(32),
});
export type TrustedKeySet = z.infer<typeof trustedKeySetSchema>;

export function parseTrustedKeySet(value: unknown, source: string): TrustedKeySet {
  const parsed = trustedKeySetSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new KioskError('KEYS_INVALID', `${source}: not a trusted key set (${first?.path.join('.') || 'root'}: ${first?.message})`);
  }
  const kids = new Set<string>();
  for (const key of parsed.data.keys) {
    if (kids.has(key.kid)) throw new KioskError('KEYS_INVALID', `${source}: kid ${key.kid} appears twice`);
    kids.add(key.kid);
  }
  return parsed.data;
}

export function parseTrustedKeySetText(text: string, source: string): TrustedKeySet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KioskError('KEYS_INVALID', `${source}: not JSON`);
  }
  return parseTrustedKeySet(value, source);
}
