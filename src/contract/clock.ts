/**
 * The time a component reads and the timers it sets, taken by injection so
 * that behaviour over minutes (a round's duration, a mode's search, a
 * replacement delay) can be tested in fake time, in milliseconds
 * (`__tests__/helpers/fake-clock.ts`). The controller passes one clock down
 * from `createController`; `systemClock` is the real one.
 */

/** A timer set by a Clock: cleared through the clock that set it. */
export interface ClockTimer {
  /** The timer does not keep the process alive (a no-op in fake time). */
  unref(): unknown;
}

export interface Clock {
  /** Unix time, ms. */
  nowMs(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer | undefined): void;
  setInterval(fn: () => void, ms: number): ClockTimer;
  clearInterval(timer: ClockTimer | undefined): void;
}

/** The process's own clock and timers. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (timer) => clearInterval(timer as NodeJS.Timeout | undefined),
};
