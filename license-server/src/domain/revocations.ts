// The signed revocation list (common/revocation-list.ts) as GET /v1/revocations and the retained
// MQTT message serve it. The version is read from the database on every call — cheap — so a
// revoke from the CLI in another process shows in a running server at once; the signed document
// is made again only when the version moved (IssuanceDeps.revocationCache).
import { toSeconds } from '../../../common/clock.ts';
import { KioskError } from '../../../common/errors.ts';
import { LICENSE_AUDIENCE } from '../../../common/license-token.ts';
import { MAX_REVOCATION_LIST_BYTES, revocationListClaimsSchema } from '../../../common/revocation-list.ts';
import type { IssuanceDeps } from './deps.ts';
import type { SignedRevocationList } from './revocation-list-cache.ts';

export async function currentRevocationList(deps: IssuanceDeps): Promise<{ list: string; version: number }> {
  const version = await deps.storage.getRevocationVersion();
  const cached = deps.revocationCache?.get(version, deps.signer.kid);
  if (cached) return { list: cached.list, version: cached.version };

  const nowS = toSeconds(deps.clock.nowMs());
  const snapshot = await deps.storage.readRevocations(nowS); // may be newer than `version`: it is what we sign
  const parsed = revocationListClaimsSchema.safeParse({
    iss: deps.signer.issuer,
    aud: LICENSE_AUDIENCE,
    iat: nowS,
    version: snapshot.version,
    licenses: snapshot.licenses,
    devices: snapshot.devices,
    tokens: snapshot.tokens,
  });
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new KioskError('INTERNAL', `refusing to sign a revocation list agents would refuse (${first?.path.join('.') || 'claims'}: ${first?.message})`);
  }
  const list = await deps.signer.signDocument('revocationList', parsed.data);
  if (Buffer.byteLength(list, 'utf8') > MAX_REVOCATION_LIST_BYTES) {
    throw new KioskError('INTERNAL', `the revocation list (version ${snapshot.version}) is larger than ${MAX_REVOCATION_LIST_BYTES} bytes`);
  }
  const signed: SignedRevocationList = { list, version: snapshot.version };
  deps.revocationCache?.set(signed, deps.signer.kid);
  return { list, version: snapshot.version };
}
