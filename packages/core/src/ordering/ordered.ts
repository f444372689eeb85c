import { ConfigError } from '../errors.js';
import { NAMESPACE_PATTERN, type RunOptions } from '../engine/engine.js';
import { silentLogger } from '../engine/logger.js';
import { EngineReporter } from '../engine/reporter.js';
import { assertPositiveMs } from '../store/validate.js';
import { OrderingGuard, outcomeOfFailure, type OrderingClaim } from './guard.js';
import { resolveOrdering, type OrderedOptions } from './options.js';
import type { EventVersion } from './sources.js';

/** The name outcomes and log lines of a standalone guard carry in their `strategy` field. */
const GUARD_NAME = 'ordering';
// Options a standalone guard takes that the engine provides otherwise.
const STANDALONE_FIELDS = ['namespace', 'leaseMs', 'failOpen', 'onOutcome', 'logger', 'logKeys'];

/** A handler run under a version claim; `claim` is undefined only when `failOpen` let a store outage through. */
export type OrderedHandler<TEvent, TResult> = (event: TEvent, claim: OrderingClaim | undefined) => Promise<TResult> | TResult;

/** A guarded function, with the guard's view of an event for inspection (`versionOf(event)`). */
export type OrderedFunction<TEvent, TResult> = ((event: TEvent, runOptions?: RunOptions) => Promise<TResult | undefined>) & {
  /** The entity key and version the guard would claim for `event`, without touching the store. */
  readonly versionOf: (event: TEvent) => EventVersion;
};

/**
 * Wraps a handler so it applies only the newest state of each entity. `fn` runs when the event's
 * version is newer than the last one applied to its entity; the version becomes the applied one
 * when `fn` returns. An event whose version equals the applied one is a duplicate and an older one
 * is stale: both return (`skippedResponse`'s value, else undefined) without running `fn` and
 * without an error, so a queue does not retry them; stale ones are also reported to `onStale`.
 * While another version of the entity runs, the call throws {@link IdempotencyInProgressError}
 * (retryable); an error from `fn` releases the claim and is rethrown.
 *
 * `fn` gets the version claim as its second argument (and from {@link currentClaim}`().ordering`):
 * its fencing token strictly increases per entity, to guard your own write of the state.
 * @throws {@link ConfigError} naming the bad option.
 * @example
 * ```ts
 * import { MemoryStore, ordered } from '@idemkit/core';
 *
 * const saveState = ordered(
 *   async (event, claim) => db.upsertConversation(event.detail, claim!.fencingToken),
 *   { store: new MemoryStore(), entity: 'detail.conversationId', version: ['detail.eventTime', 'id'] },
 * );
 * await saveState(newer); // runs
 * await saveState(older); // skipped as stale, returns undefined
 * ```
 */
export function ordered<TEvent = unknown, TResult = unknown>(
  fn: OrderedHandler<TEvent, TResult>,
  options: OrderedOptions<TEvent, TResult>,
): OrderedFunction<TEvent, TResult> {
  if (typeof fn !== 'function') throw new ConfigError('fn', 'must be a function (event, claim) => result');
  const namespace = options.namespace ?? 'idemkit';
  if (!NAMESPACE_PATTERN.test(namespace)) throw new ConfigError('namespace', `must match ${NAMESPACE_PATTERN} (got "${namespace}")`);
  const leaseMs = options.leaseMs ?? 60_000;
  assertPositiveMs('leaseMs', leaseMs);
  const logKeys = options.logKeys ?? 'hash';
  if (logKeys !== 'hash' && logKeys !== 'raw') throw new ConfigError('logKeys', `must be one of hash, raw (got "${String(logKeys)}")`);
  const reporter = new EngineReporter(options.logger ?? silentLogger, GUARD_NAME, logKeys, { onOutcome: options.onOutcome });
  const guard = new OrderingGuard<TEvent, TResult>({
    ordering: resolveOrdering<TEvent, TResult>(options, namespace, undefined, { also: STANDALONE_FIELDS }),
    failOpen: options.failOpen ?? false,
    reporter,
  });

  const wrapped = async (event: TEvent, runOptions: RunOptions = {}): Promise<TResult | undefined> => {
    let target: EventVersion;
    try {
      target = guard.versionOf(event);
    } catch (error) {
      reporter.outcome('invalid_key');
      throw error;
    }
    try {
      const run = await guard.apply(target, event, (claim) => fn(event, claim), {
        leaseMs: runOptions.leaseMs ?? leaseMs,
        owner: runOptions.owner,
      });
      reporter.outcome(run.kind, target.entity);
      return run.result;
    } catch (error) {
      reporter.outcome(outcomeOfFailure(error), target.entity);
      throw error;
    }
  };
  return Object.assign(wrapped, { versionOf: (event: TEvent) => guard.versionOf(event) });
}
