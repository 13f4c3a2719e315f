// The signing port: the domain builds claims, signing/ turns them into compact JWS with the
// active key (DESIGN §4.2). A port, so the domain never touches key files.
import type { DocumentKind, LicenseClaims } from '../../../common/license-token.ts';

export interface DocumentSigner {
  /** This vendor's issuer id (`iss`), from the key set. */
  readonly issuer: string;
  /** The key id that signs (`kid` header). */
  readonly kid: string;
  /** Validates the claims against licenseClaimsSchema and signs them as `kiosk-license+jwt`. */
  signLicense(claims: LicenseClaims): Promise<string>;
  /** Signs another document type with its own `typ`; `iss` is set to the issuer when absent. */
  signDocument(kind: DocumentKind, claims: Readonly<Record<string, unknown>>): Promise<string>;
}
