import type { Clock } from '../clock.js';

/** A clock that moves only when told to: expiry tests advance it instead of sleeping. */
export interface ManualClock {
  /** The clock function to hand to a store or engine. */
  readonly now: Clock;
  /** Moves time forward by `ms`. */
  advance(ms: number): void;
  /** Jumps to an absolute epoch-ms instant. */
  set(epochMs: number): void;
}

/**
 * Creates a {@link ManualClock}, starting at the real time so server-side TTLs stay sane.
 * @example
 * ```ts
 * const clock = manualClock();
 * const store = new MemoryStore({ clock: clock.now });
 * clock.advance(60_000);
 * ```
 */
export function manualClock(startMs: number = Date.now()): ManualClock {
  let current = startMs;
  return {
    now: () => current,
    advance(ms) {
      current += ms;
    },
    set(epochMs) {
      current = epochMs;
    },
  };
}
