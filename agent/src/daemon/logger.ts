// The daemon's log: pino JSON lines to stderr (journald picks them up under systemd). Time comes
// from the injected clock. Tokens, keys and proofs are never passed to the logger; the redact
// list is a second line of defence should one ever be.
import { pino, type Logger } from 'pino';
import type { Clock } from '../../../common/clock.ts';
import type { LogLevel } from '../config.ts';

const REDACTED_PATHS = [
  'token',
  'proof',
  'lic',
  'licenseKey',
  'privateKey',
  'document',
  'list',
  '*.token',
  '*.proof',
  '*.lic',
  '*.licenseKey',
  '*.privateKey',
  '*.document',
  '*.list',
];

export interface DaemonLoggerOptions {
  readonly level: LogLevel;
  /** Receives one JSON line per record (process stderr, or a test's capture). */
  readonly write: (line: string) => void;
  readonly clock: Clock;
}

export function createDaemonLogger(options: DaemonLoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { pid: process.pid, name: 'kiosk-agent' },
      timestamp: () => `,"time":"${new Date(options.clock.nowMs()).toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    { write: (line: string) => options.write(line) },
  );
}
