import { IdempotencyEngine, type RunOptions } from './engine.js';
import type { EngineOptions } from './options.js';

/** Options of {@link idempotent}: the engine's, plus how to find the event among the arguments. */
export interface IdempotentOptions<TArgs extends unknown[], TEvent, TResult> extends EngineOptions<TEvent, TResult> {
  /**
   * Picks the event out of the call's arguments.
   * @default the first argument
   */
  eventFrom?: (...args: TArgs) => TEvent;
  /** Per-call overrides computed from the arguments, such as a lease from the Lambda context. */
  runOptionsFrom?: (...args: TArgs) => RunOptions;
}

/** An idempotent function, with the engine behind it for inspection (`engine.keyFor(event)`). */
export type IdempotentFunction<TArgs extends unknown[], TResult, TEvent> = ((...args: TArgs) => Promise<TResult>) & {
  readonly engine: IdempotencyEngine<TEvent, TResult>;
};

/**
 * Wraps any async function so it runs once per key: a completed duplicate returns the stored
 * result without calling `fn`; a call whose key is in progress elsewhere throws
 * {@link IdempotencyInProgressError}; an error from `fn` releases the claim and is rethrown.
 * Inside `fn`, {@link currentClaim} gives the fencing token.
 *
 * @example
 * ```ts
 * import { idempotent, MemoryStore } from '@idemkit/core';
 *
 * const chargeOnce = idempotent(charge, {
 *   store: new MemoryStore(),
 *   strategy: { strategy: 'eventId', path: 'detail.paymentId' },
 * });
 * await chargeOnce(event); // runs charge
 * await chargeOnce(event); // returns the first result, charge not called
 * ```
 */
export function idempotent<TArgs extends unknown[], TResult, TEvent = TArgs[0]>(
  fn: (...args: TArgs) => Promise<TResult> | TResult,
  options: IdempotentOptions<TArgs, TEvent, TResult>,
): IdempotentFunction<TArgs, TResult, TEvent> {
  const engine = new IdempotencyEngine<TEvent, TResult>(options);
  const eventFrom = options.eventFrom ?? ((...args: TArgs) => args[0] as TEvent);
  const wrapped = (...args: TArgs) =>
    engine.run(eventFrom(...args), () => fn(...args), options.runOptionsFrom?.(...args) ?? {});
  return Object.assign(wrapped, { engine });
}
