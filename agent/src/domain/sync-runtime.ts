// The runtime collaborators the local API and the sync engine are given (the same shapes as the
// daemon's, declared here because IO folders do not import the daemon wiring): one-shot timers,
// a structured logger, and the start/stop frame of a daemon service.

export interface TimerHandle {
  cancel(): void;
}

export interface Scheduler {
  schedule(delayMs: number, fn: () => void): TimerHandle;
}

export interface ServiceLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface Service {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
