// Messages between the main thread and the seat worker thread (structured clone).
import type { ErrorCode } from '../../../common/errors.ts';
import type { ActivationResult, PreparedActivation, SeatTicket } from '../domain/seat.ts';

export interface SeatThreadData {
  /** The thread module to load, and whether it is TypeScript source (tsx registers in the thread). */
  readonly module: string;
  readonly typescript: boolean;
  readonly file: string;
  /** The signing key directory (followed as the main thread follows it: rotation takes effect). */
  readonly keysDir: string;
  /** better-sqlite3's addon path, when a build hands one in. */
  readonly nativeBinding?: string;
}

export type ThreadRequest = { readonly op: 'activate'; readonly id: number; readonly prepared: PreparedActivation; readonly ticket: SeatTicket } | { readonly op: 'close' };

export interface ThreadError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export type ThreadReply =
  | { readonly op: 'result'; readonly id: number; readonly value?: ActivationResult; readonly error?: ThreadError }
  /** The thread's connection is open and its signer loaded (or why not). */
  | { readonly op: 'ready'; readonly error?: ThreadError };
