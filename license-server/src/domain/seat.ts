// The seat of an activation, as its parts travel: the request checked without the database
// (PreparedActivation), what the caller decided (SeatTicket), and what the transaction decided
// (SeatDecision). Plain data: takeSeat may run on another thread (structured clone).
import type { LicenseClaims, ActivationRequest } from '../../../common/license-token.ts';
import type { ActivationMode, ActivationRecord, DevicePublicJwk, LicenseRecord } from './server-storage.ts';

/** A request that passed every check that needs no database: what takeSeat is given. */
export interface PreparedActivation {
  readonly keyHash: string;
  readonly request: ActivationRequest;
  readonly devicePublicJwk: DevicePublicJwk;
  /** Why the device counts as virtual, or null (the license decides whether that is allowed). */
  readonly virtualReason: string | null;
  readonly mode: ActivationMode;
  readonly actor: string;
}

/**
 * What the caller decided before the seat is taken: the time, the ids and the issuer. Made
 * where the clock and the random source are, so takeSeat itself is deterministic (it may run
 * on another thread, with its own connection to the database: SeatTaker).
 */
export interface SeatTicket {
  readonly nowMs: number;
  /** Used when the request takes a new seat. */
  readonly activationId: string;
  readonly jti: string;
  readonly issuer: string;
}

/** The seat taken and the claims of the token to sign for it; recorded (jti included) and committed. */
export interface SeatDecision {
  readonly claims: LicenseClaims;
  readonly license: LicenseRecord;
  readonly activation: ActivationRecord;
  /** 'reused': the request matched an active activation, whose seat and device id it keeps. */
  readonly seat: 'new' | 'reused';
  readonly activeDevices: number;
}

export interface ActivationResult extends SeatDecision {
  /** The signed license token (compact JWS). */
  readonly token: string;
}

/** Takes the seat for a prepared request and signs its token (takeSeatAndSign, on a thread of its own). */
export type SeatActivator = (prepared: PreparedActivation, ticket: SeatTicket) => Promise<ActivationResult>;

