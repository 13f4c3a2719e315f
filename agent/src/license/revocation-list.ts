// The signed revocation list (DESIGN §4.5 `…/revocations`, §4.7 `GET /v1/revocations`):
// typ kiosk-revocations+jwt, signed by the vendor like a license. PROVISIONAL claims shape
// until it is pinned in common/license-token.ts beside the license claims.
import { z } from 'zod';
import { ISSUER_PATTERN, LICENSE_AUDIENCE } from '../../../common/license-token.ts';
import type { TrustedKeySet } from '../../../common/trusted-keys.ts';
import type { RevocationFacts } from '../domain/license-policy.ts';
import { verifySignedDocument, type VerifyResult } from './verify-token.ts';

const ids = z.array(z.string().min(1).max(64)).max(100_000);

export const revocationListClaimsSchema = z.object({
  iss: z.string().regex(ISSUER_PATTERN),
  aud: z.literal(LICENSE_AUDIENCE),
  iat: z.number().int().nonnegative(),
  /** Monotonic: an older version never replaces a newer one. */
  version: z.number().int().nonnegative(),
  /** Revoked license ids (`sub`). */
  licenses: ids,
  /** Revoked device ids (`device.id`). */
  devices: ids,
  /** Revoked token ids (`jti`). */
  tokens: ids,
});
export type RevocationListClaims = z.infer<typeof revocationListClaimsSchema>;

/** A list of many thousand ids is still far below this. */
export const MAX_REVOCATION_LIST_BYTES = 4 * 1024 * 1024;

export function verifyRevocationList(text: string, keys: TrustedKeySet): Promise<VerifyResult<RevocationListClaims>> {
  return verifySignedDocument(text, keys, 'revocationList', revocationListClaimsSchema, { maxBytes: MAX_REVOCATION_LIST_BYTES });
}

export function revocationFacts(claims: RevocationListClaims): RevocationFacts {
  return {
    licenseIds: new Set(claims.licenses),
    deviceIds: new Set(claims.devices),
    tokenIds: new Set(claims.tokens),
  };
}
