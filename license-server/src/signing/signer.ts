// Signs documents with the active key (DESIGN §4.2): compact JWS, header
// {alg: "ES256", typ: <the document type's>, kid}; license claims are checked against the
// shared schema before they are signed, so the server never issues a token agents would refuse.
import { SignJWT } from 'jose';
import { KioskError } from '../../../common/errors.ts';
import { DOCUMENT_TYPES, licenseClaimsSchema, SIGNING_ALG, type DocumentKind, type LicenseClaims } from '../../../common/license-token.ts';
import type { DocumentSigner } from '../domain/document-signer.ts';
import { loadSigningKey, type SigningKey } from './key-dir.ts';

export function createSigner(key: SigningKey): DocumentSigner {
  const signDocument = async (kind: DocumentKind, claims: Readonly<Record<string, unknown>>): Promise<string> => {
    if (claims.iss !== undefined && claims.iss !== key.issuer) {
      throw new KioskError('INTERNAL', `refusing to sign for issuer ${String(claims.iss)}: this key set belongs to ${key.issuer}`);
    }
    let payload: Record<string, unknown> = { ...claims, iss: key.issuer };
    if (kind === 'license') {
      const parsed = licenseClaimsSchema.safeParse(payload);
      if (!parsed.success) {
        const first = parsed.error.issues[0];
        throw new KioskError('INTERNAL', `refusing to sign invalid license claims (${first?.path.join('.') || 'claims'}: ${first?.message})`);
      }
      payload = parsed.data; // exactly the schema's claims, nothing else
    }
    return new SignJWT(payload).setProtectedHeader({ alg: SIGNING_ALG, typ: DOCUMENT_TYPES[kind], kid: key.kid }).sign(key.privateKey);
  };
  return {
    issuer: key.issuer,
    kid: key.kid,
    signLicense: (claims: LicenseClaims) => signDocument('license', claims),
    signDocument,
  };
}

/** The signer of a key directory; KEYS_MISSING when it holds no keys. */
export function loadSigner(keysDir: string): DocumentSigner {
  return createSigner(loadSigningKey(keysDir));
}
