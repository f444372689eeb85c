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

  /**
   * For in-process stores only (every step a microtask): wakes sleepers in time order, letting
   * everything that can run finish between two wake-ups, until `done` settles. Throws when
   * nothing is asleep yet `done` has not settled (a deadlock).
   */
  async function drain(done: Promise<unknown>, maxWakes = 100_000): Promise<void> {
    let settled = false;
    void done.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let wakes = 0; ; wakes++) {
      // The microtask queue empties before the next macrotask: every chain runs to its next sleep.
      await new Promise((resolve) => setImmediate(resolve));
      if (settled) return;
      if (wakes >= maxWakes) throw new Error(`still not settled after ${maxWakes} wake-ups`);
      if (wakeNext() === undefined) throw new Error('deadlock: nothing is asleep and the calls have not settled');
    }
  }

  return {
    sleep,
    asleep,
    wakeNext,
    run,
    drain,
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
