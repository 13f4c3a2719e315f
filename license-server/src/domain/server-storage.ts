// The storage port of the license server: what the domain needs, asynchronous so that
// PostgreSQL can join SQLite without touching the domain (DESIGN §4.7). Implementations live
// in storage/ and all pass test/contract/server-storage.contract.ts.
//
// Times are epoch milliseconds (`…Ms`), except the token fields `iat`/`exp`, which are epoch
// seconds exactly as in the signed token.
import type { ComponentHashes } from '../../../common/fingerprint.ts';
import type { SyncStorageOps } from './sync-storage.ts';

export type LicenseStatus = 'active' | 'revoked';
export type ActivationMode = 'online' | 'offline';
export type ActivationStatus = 'active' | 'deactivated';

export interface LicenseRecord {
  /** `lic_<hex>`: the token's `sub`. */
  readonly id: string;
  /** SHA-256 hex of the canonical license key (common/license-key.ts); unique. */
  readonly keyHash: string;
  /** The key's last 4 symbols, for lists; not secret. */
  readonly keyHint: string;
  readonly tenant: string;
  readonly features: readonly string[];
  readonly maxDevices: number;
  readonly startsAtMs: number;
  /** The license's end: the token's `lexp` (whole seconds). */
  readonly expiresAtMs: number;
  readonly graceSeconds: number;
  readonly allowVirtual: boolean;
  readonly status: LicenseStatus;
  readonly createdAtMs: number;
  readonly revokedAtMs: number | null;
}

export interface DevicePublicJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
}

export interface ActivationRecord {
  /** `act_<hex>`. */
  readonly id: string;
  readonly licenseId: string;
  /** The device id of record: the one every token of this seat carries. */
  readonly deviceId: string;
  /** The component hashes of the latest request. */
  readonly components: ComponentHashes;
  /** RFC 7638 thumbprint of devicePublicJwk: the token's `cnf.jkt`. */
  readonly jkt: string;
  readonly devicePublicJwk: DevicePublicJwk;
  /** The request's `platform` object (arch, virtualization, container, …). */
  readonly platform: Readonly<Record<string, unknown>>;
  readonly mode: ActivationMode;
  readonly status: ActivationStatus;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly lastTokenJti: string | null;
  /** Epoch seconds. */
  readonly lastTokenIat: number | null;
}

/** What a re-activation of a known device refreshes; the id and device id of record stay. */
export interface ActivationRefresh {
  readonly components: ComponentHashes;
  readonly jkt: string;
  readonly devicePublicJwk: DevicePublicJwk;
  readonly platform: Readonly<Record<string, unknown>>;
  readonly mode: ActivationMode;
  readonly updatedAtMs: number;
}

export interface IssuedTokenRecord {
  readonly jti: string;
  readonly licenseId: string;
  readonly activationId: string;
  /** Epoch seconds, as in the token. */
  readonly iat: number;
  readonly exp: number;
}

export interface AuditEntryInput {
  readonly atMs: number;
  /** Who did it: "cli", "api:<token id>", "device:<device id>" … */
  readonly actor: string;
  /** e.g. "license.create", "activation.new", "activation.refused". */
  readonly action: string;
  readonly licenseId: string | null;
  readonly deviceId: string | null;
  /** Non-secret facts; never a license key or a token. */
  readonly details: Readonly<Record<string, unknown>>;
}

export interface AuditEntry extends AuditEntryInput {
  /** Increases with every entry; entries are never changed or removed. */
  readonly seq: number;
}

export interface LicenseWithSeats {
  readonly license: LicenseRecord;
  /** Active activations: seats in use. */
  readonly activeDevices: number;
}

/**
 * A vendor API token as stored: the SHA-256 of the token, never the token itself. Scope names
 * are kept as given at creation; domain/api-tokens.ts decodes them (an unknown name grants nothing).
 */
export interface StoredApiToken {
  /** `atk_<hex>`: not secret (lists, audit). */
  readonly id: string;
  readonly name: string;
  /** SHA-256 hex of the whole token string; unique. */
  readonly tokenHash: string;
  readonly scopes: readonly string[];
  readonly createdAtMs: number;
  readonly revokedAtMs: number | null;
  readonly lastUsedAtMs: number | null;
}

/** What the signed revocation list names (common/revocation-list.ts): license, device or token ids. */
export type RevocationKind = 'license' | 'device' | 'token';

export interface RevocationEntry {
  readonly kind: RevocationKind;
  /** A license id (`sub`), device id (`device.id`) or token id (`jti`). */
  readonly value: string;
  /** Epoch seconds: listed while now < untilS; afterwards it no longer matters and is pruned. */
  readonly untilS: number;
}

export interface RevocationChange {
  /** Upserted; an entry listed already keeps the later untilS. */
  readonly add?: readonly RevocationEntry[];
  readonly remove?: readonly Pick<RevocationEntry, 'kind' | 'value'>[];
}

/** The list in force at one instant, and the version it belongs to (ids sorted). */
export interface RevocationSnapshot {
  readonly version: number;
  readonly licenses: readonly string[];
  readonly devices: readonly string[];
  readonly tokens: readonly string[];
}

/** A device proof's id, remembered until the proof expires (single use). */
export interface ProofJtiUse {
  /** The proof's `iss`: the device id. */
  readonly issuer: string;
  readonly jti: string;
  /** The proof's `exp` (epoch seconds). */
  readonly expS: number;
}

/**
 * The operations. Every write that breaks a uniqueness rule (license id or key hash, an active
 * activation of the same device on a license, a token id) or names a missing row rejects with
 * KioskError STORAGE_ERROR; `details.conflict` names the rule for uniqueness breaks.
 */
export interface StorageOps extends SyncStorageOps {
  insertLicense(license: LicenseRecord): Promise<void>;
  getLicense(id: string): Promise<LicenseRecord | undefined>;
  findLicenseByKeyHash(keyHash: string): Promise<LicenseRecord | undefined>;
  /** Oldest first (created, then id). */
  listLicenses(filter?: { readonly tenant?: string }): Promise<LicenseWithSeats[]>;
  /** Sets status revoked; false when it was revoked already (the first revocation time stays). */
  revokeLicense(id: string, atMs: number): Promise<boolean>;

  insertActivation(activation: ActivationRecord): Promise<void>;
  getActivation(id: string): Promise<ActivationRecord | undefined>;
  /** Oldest first. */
  listActivations(licenseId: string, filter?: { readonly status?: ActivationStatus }): Promise<ActivationRecord[]>;
  countActiveActivations(licenseId: string): Promise<number>;
  /**
   * The active activations of a license that could be the device of an activation request: the
   * one holding `deviceId`, and every one that shares at least one component (same name, same
   * hash) with `components` — so every active seat that fingerprint-matches the request is
   * among them. Oldest first (created, then id), as listActivations.
   */
  listSeatCandidates(licenseId: string, deviceId: string, components: ComponentHashes): Promise<ActivationRecord[]>;
  /** Rejects with NOT_FOUND when there is no such activation. */
  refreshActivation(id: string, refresh: ActivationRefresh): Promise<void>;
  /** Frees the seat; false when it was not active. */
  deactivateActivation(id: string, atMs: number): Promise<boolean>;

  /** Records a signed token and makes it the activation's latest (lastTokenJti/Iat). */
  recordIssuedToken(token: IssuedTokenRecord): Promise<void>;
  /** Oldest first. */
  listIssuedTokens(licenseId: string): Promise<IssuedTokenRecord[]>;

  /** Appends to the audit log, which refuses changes and deletions. */
  appendAudit(entry: AuditEntryInput): Promise<AuditEntry>;
  /** In seq order. */
  listAudit(filter?: { readonly licenseId?: string; readonly afterSeq?: number; readonly limit?: number }): Promise<AuditEntry[]>;

  // --- online licensing: tokens by id, a device's seats, the revocation list, proof ids, API tokens

  getIssuedToken(jti: string): Promise<IssuedTokenRecord | undefined>;
  /** The tokens issued for one activation, oldest first. */
  listActivationTokens(activationId: string): Promise<IssuedTokenRecord[]>;
  /** Every activation of a device id, on any license, oldest first. */
  listDeviceActivations(deviceId: string): Promise<ActivationRecord[]>;

  /** The revocation list's version: 0 until the first change, then one more with every change. */
  getRevocationVersion(): Promise<number>;
  /** The entries still in force at nowS (untilS > nowS) with their version, read consistently. */
  readRevocations(nowS: number): Promise<RevocationSnapshot>;
  /** One entry, whatever its untilS; undefined when not listed. */
  getRevocationEntry(kind: RevocationKind, value: string): Promise<RevocationEntry | undefined>;
  /**
   * Applies the change, drops entries whose untilS ≤ nowS, and raises the version by exactly
   * one — atomically, inside the caller's transaction. Returns the new version.
   */
  changeRevocations(change: RevocationChange, nowS: number): Promise<number>;

  /**
   * Remembers (issuer, jti) until expS; false when it is remembered already (a replay). Forgets
   * remembered ids whose expS < forgetBeforeS.
   */
  useProofJti(use: ProofJtiUse, forgetBeforeS: number): Promise<boolean>;

  /** Rejects with STORAGE_ERROR (details.conflict) on a duplicate id or token hash. */
  insertApiToken(token: StoredApiToken): Promise<void>;
  getApiToken(id: string): Promise<StoredApiToken | undefined>;
  findApiTokenByHash(tokenHash: string): Promise<StoredApiToken | undefined>;
  /** Oldest first. */
  listApiTokens(): Promise<StoredApiToken[]>;
  /** False when there is no such token or it was revoked already (the first time stays). */
  revokeApiToken(id: string, atMs: number): Promise<boolean>;
  /** Sets lastUsedAtMs = atMs only when it is null or ≤ staleBeforeMs; true when it wrote. */
  touchApiToken(id: string, atMs: number, staleBeforeMs: number): Promise<boolean>;
}

/** The operations inside a transaction; unusable (STORAGE_ERROR) once the transaction ended. */
export type StorageTransaction = StorageOps;

export interface ServerStorage extends StorageOps {
  /**
   * Runs fn atomically: all of its writes commit when it resolves, none when it rejects (the
   * rejection passes through unchanged). Transactions and single operations never see another
   * transaction's uncommitted writes, and concurrent transactions behave as if run one by one —
   * also across processes sharing the database.
   */
  transaction<T>(fn: (tx: StorageTransaction) => Promise<T>): Promise<T>;
  /** Waits for running work; afterwards every operation rejects with STORAGE_ERROR. */
  close(): Promise<void>;
}
