// Time is a parameter (STYLE: jose's `currentDate`): code takes a Clock, tests pass a fake one.

export interface Clock {
  /** Wall-clock time in milliseconds since the epoch. */
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

export function fixedClock(ms: number): Clock & { set(ms: number): void; advance(ms: number): void } {
  let current = ms;
  return {
    nowMs: () => current,
    set: (value: number) => {
      current = value;
    },
    advance: (delta: number) => {
      current += delta;
    },
  };
}

export const toSeconds = (ms: number): number => Math.floor(ms / 1000);
