// The signed revocation list (DESIGN §4.5 `…/revocations`, §4.7 `GET /v1/revocations`):
// typ kiosk-revocations+jwt, signed by the vendor like a license; claims in common/revocation-list.ts.
import { MAX_REVOCATION_LIST_BYTES, revocationListClaimsSchema, type RevocationListClaims } from '../../../common/revocation-list.ts';
import type { TrustedKeySet } from '../../../common/trusted-keys.ts';
import type { RevocationFacts } from '../domain/license-policy.ts';
import { verifySignedDocument, type VerifyResult } from './verify-token.ts';

export type { RevocationListClaims };

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
