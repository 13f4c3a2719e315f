// The signed revocation list (DESIGN §4.5 `…/revocations`, §4.7 `GET /v1/revocations`):
// typ kiosk-revocations+jwt, signed by the vendor's license key. Versions only grow; an agent
// never replaces a newer list with an older one.
import { z } from 'zod';
import { ISSUER_PATTERN, LICENSE_AUDIENCE } from './license-token.ts';

const ids = z.array(z.string().min(1).max(64)).max(100_000);

export const revocationListClaimsSchema = z.object({
  iss: z.string().regex(ISSUER_PATTERN),
  aud: z.literal(LICENSE_AUDIENCE),
  iat: z.number().int().nonnegative(),
  /** Monotonic: an older version never replaces a newer one. */
  version: z.number().int().nonnegative(),
  /** Revoked license ids (`sub`). */
  licenses: ids,
  /** Revoked (deactivated) device ids (`device.id`): a freed seat cannot be used twice. */
  devices: ids,
  /** Revoked token ids (`jti`): superseded tokens. */
  tokens: ids,
});
export type RevocationListClaims = z.infer<typeof revocationListClaimsSchema>;

/** A list of many thousand ids is still far below this. */
export const MAX_REVOCATION_LIST_BYTES = 4 * 1024 * 1024;
