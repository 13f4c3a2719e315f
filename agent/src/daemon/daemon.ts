// The daemon's frame (`kiosk-agent run`): an ordered list of services started one after the
// other and stopped in reverse. The license keeper (license-keeper.ts) is the first; the sync
// issue adds the local HTTP API and the MQTT client as further services (they read the license
// mode from the keeper). Time is injected: a Scheduler (timers) and the Clock, so tests drive
// the whole daemon without sleeping.

/** A started unit of the daemon. start() returns once it runs; stop() once it has let go of everything. */
export interface DaemonService {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface TimerHandle {
  cancel(): void;
}

/** One-shot timers (injected; tests use a fake one that they fire by hand). */
export interface Scheduler {
  schedule(delayMs: number, fn: () => void): TimerHandle;
}

/** setTimeout's largest delay. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export const systemScheduler: Scheduler = {
  schedule(delayMs, fn) {
    const t = setTimeout(fn, Math.min(Math.max(0, Math.ceil(delayMs)), MAX_TIMER_DELAY_MS));
    return { cancel: () => clearTimeout(t) };
  },
};

/** The log methods the daemon uses (pino's logger has them). */
export interface DaemonLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface Daemon {
  readonly services: readonly DaemonService[];
  /** Starts the services in order; if one fails, those already started are stopped and the error is thrown. */
  start(): Promise<void>;
  /** Stops the started services in reverse order; every stop is attempted, the first error is thrown. */
  stop(): Promise<void>;
}

export function createDaemon(services: readonly DaemonService[], logger: DaemonLogger): Daemon {
  const started: DaemonService[] = [];
  async function stopStarted(): Promise<void> {
    let first: unknown;
    for (const service of started.splice(0).reverse()) {
      try {
        await service.stop();
        logger.debug({ service: service.name }, 'service stopped');
      } catch (err) {
        logger.error({ service: service.name, err: errorFacts(err) }, 'service failed to stop');
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  }
  return {
    services,
    async start() {
      for (const service of services) {
        try {
          await service.start();
        } catch (err) {
          logger.error({ service: service.name, err: errorFacts(err) }, 'service failed to start');
          await stopStarted().catch(() => undefined);
          throw err;
        }
        started.push(service);
        logger.debug({ service: service.name }, 'service started');
      }
    },
    stop: stopStarted,
  };
}

/** An error as log fields: code and message, never a stack with data in it. */
export function errorFacts(err: unknown): { code: string; message: string } {
  const code = (err as { code?: unknown } | undefined)?.code;
  return {
    code: typeof code === 'string' ? code : 'INTERNAL',
    message: err instanceof Error ? err.message : String(err),
  };
}
