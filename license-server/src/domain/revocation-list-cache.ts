// The signed revocation list, kept per version: the version is read from the database on every
// request (cheap), the list is signed again only when it changed. One cache per process, made
// by the wiring (app.ts) and handed in through IssuanceDeps.
export interface SignedRevocationList {
  /** The compact JWS (typ kiosk-revocations+jwt). */
  readonly list: string;
  readonly version: number;
}

export interface RevocationListCache {
  /** The list of exactly this version, signed by key `kid`; undefined when not cached. */
  get(version: number, kid: string): SignedRevocationList | undefined;
  /** Keeps the newest version only; an older one never replaces it. */
  set(value: SignedRevocationList, kid: string): void;
}

export function createRevocationListCache(): RevocationListCache {
  let slot: { readonly value: SignedRevocationList; readonly kid: string } | undefined;
  return {
    get(version, kid) {
      return slot && slot.value.version === version && slot.kid === kid ? slot.value : undefined;
    },
    set(value, kid) {
      if (slot && slot.value.version > value.version) return;
      slot = { value, kid };
    },
  };
}
