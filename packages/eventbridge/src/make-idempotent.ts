import type { IdempotencyConfig, PresetIdempotencyConfig } from './config.js';
import { runtimeProvider } from './engine-provider.js';
import { handlerNameOf } from './namespace.js';
import { withBatchHint } from './hints.js';
import type { PresetEvent, PresetName } from './presets/index.js';
import { runOptionsOf } from './run-options.js';
import type { EventBridgeEventLike, LambdaContextLike } from './types.js';

/** A Lambda handler as the wrappers take it: `(event, context)`, async or not. */
export type LambdaHandlerLike<TEvent, TResult, TContext> = (event: TEvent, context: TContext) => Promise<TResult> | TResult;

/**
 * {@link makeIdempotent} with a preset written in code (`{ preset: 'genesysCloud' }`): the
 * handler's `event` is typed as that source's event, e.g. `event.detail` as `GenesysCloudDetail`.
 * (With `genesysCloud()` itself the general signature infers the same from the strategy.)
 */
export function makeIdempotent<P extends PresetName, TResult = unknown, TContext extends LambdaContextLike | undefined = LambdaContextLike>(
  handler: LambdaHandlerLike<PresetEvent<P>, TResult, TContext>,
  config: PresetIdempotencyConfig<P, TResult>,
): (event: PresetEvent<P>, context: TContext) => Promise<TResult>;
/**
 * Makes an EventBridge Lambda handler idempotent: its side effect runs once per logical event,
 * however many times EventBridge, a retry or the source delivers it. Returns a handler with the
 * same signature (async).
 *
 * - **New event**: claims its key, runs `handler`, stores its result (JSON), returns it.
 * - **Completed duplicate**: returns the stored result (or `duplicateResponse`'s) without
 *   running `handler`, and **never throws** — an error would make EventBridge retry and
 *   deliver yet more copies. One JSON log line records it.
 * - **In progress elsewhere**: throws `IdempotencyInProgressError` (`retryable: true`); the
 *   delivery fails and EventBridge (or Lambda's async retry) tries again later. With
 *   `inProgress.wait` it first waits for the other delivery's result (within the invocation's
 *   remaining time); `onInProgress` can answer instead of the error.
 * - **`handler` throws**: the claim is released and the error rethrown, so the retry runs.
 * - A handler returning `undefined` works; duplicates then return `undefined` too.
 *
 * The claim's lease is the invocation's remaining time plus `leaseMarginMs` (see
 * {@link leaseFromContext}). Each wrapper has its own namespace, by default
 * `<function name>/<handler name>`, so several wrapped handlers in one Lambda keep their keys
 * apart. Options missing from `config` come from `IDEMKIT_*` variables ({@link configFromEnv}).
 * Inside `handler`, core's `currentClaim()` gives the fencing token.
 * @example
 * ```ts
 * import { makeIdempotent } from '@idemkit/eventbridge';
 *
 * export const handler = makeIdempotent(
 *   async (event) => crm.recordStateChange(event.detail),
 *   { store: process.env.REDIS_URL, strategy: { preset: 'genesysCloud' } },
 * );
 * ```
 */
export function makeIdempotent<
  TEvent = EventBridgeEventLike,
  TResult = unknown,
  TContext extends LambdaContextLike | undefined = LambdaContextLike,
>(
  handler: LambdaHandlerLike<TEvent, TResult, TContext>,
  config?: IdempotencyConfig<TEvent, TResult>,
): (event: TEvent, context: TContext) => Promise<TResult>;
export function makeIdempotent<TEvent, TResult, TContext extends LambdaContextLike | undefined>(
  handler: LambdaHandlerLike<TEvent, TResult, TContext>,
  config: IdempotencyConfig<TEvent, TResult> = {},
): (event: TEvent, context: TContext) => Promise<TResult> {
  const owner = {};
  const runtime = runtimeProvider<TEvent, TResult>(config, handlerNameOf(config.name, handler), owner);
  return async (event, context) => {
    const { engine, leaseFor, finish } = runtime.ready ?? (await runtime.get(context));
    try {
      return await engine.run(event, (claimed) => handler(claimed, context), runOptionsOf(context, leaseFor));
    } catch (error) {
      throw withBatchHint(error, event);
    } finally {
      finish(context);
    }
  };
}
