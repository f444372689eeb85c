import type { Sleep } from '../../src/index.js';
import type { ManualClock } from '../../src/testing/index.js';

interface Pending {
  at: number;
  ms: number;
  order: number;
  wake(): void;
}

/**
 * Virtual time for the engine's `sleep` option, moved by the test in lock step with the loops that
 * sleep (waiting duplicates, heartbeats): time moves to the earliest pending wake-up only once the
 * expected number of loops are all asleep, so each loop finishes its store round trip (real I/O
 * included) before the next one wakes. No real time passes and nothing depends on timing.
 */
export function lockstepTimers(clock: ManualClock) {
  const pending: Pending[] = [];
  const listeners = new Set<() => void>();
  let order = 0;
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  const remove = (timer: Pending) => {
    const index = pending.indexOf(timer);
    if (index >= 0) pending.splice(index, 1);
  };

  /** Resolves once `count` sleeps are pending. */
  function asleep(count: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (pending.length < count) return;
        listeners.delete(check);
        resolve();
      };
      listeners.add(check);
      check();
    });
  }

  const sleep: Sleep = (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer: Pending = { at: clock.now() + ms, ms, order: order++, wake: resolve };
      signal?.addEventListener(
        'abort',
        () => {
          remove(timer);
          reject(signal.reason);
        },
        { once: true },
      );
      pending.push(timer);
      notify();
    });

  /** Moves the clock to the earliest pending wake-up and wakes that sleeper; returns its duration. */
  function wakeNext(): number | undefined {
    const next = [...pending].sort((a, b) => a.at - b.at || a.order - b.order)[0];
    if (next === undefined) return undefined;
    remove(next);
    if (next.at > clock.now()) clock.set(next.at);
    next.wake();
    return next.ms;
  }

  /**
   * Wakes sleepers in time order, each once `actors` loops are asleep, until `done` settles or the
   * next wake-up lies past `until`. Returns the durations slept, in order.
   */
  async function run(options: { actors: number; until: number; done?: Promise<unknown> }): Promise<number[]> {
    const slept: number[] = [];
    const settled = options.done?.then(
      () => 'settled' as const,
      () => 'settled' as const,
    );
    for (;;) {
      const state = await (settled === undefined ? asleep(options.actors) : Promise.race([asleep(options.actors), settled]));
      if (state === 'settled') return slept;
      const next = [...pending].sort((a, b) => a.at - b.at)[0];
      if (next === undefined || next.at > options.until) return slept;
      slept.push(wakeNext()!);
    }
  }

  return {
    sleep,
    asleep,
    wakeNext,
    run,
    /** How many sleeps are pending now. */
    get pending(): number {
      return pending.length;
    },
    /** The durations of the pending sleeps, earliest wake-up first. */
    pendingMs(): number[] {
      return [...pending].sort((a, b) => a.at - b.at).map((timer) => timer.ms);
    },
  };
}

/** The engine's timers in lock step with a manual clock. */
export type LockstepTimers = ReturnType<typeof lockstepTimers>;
