import type { IdempotencyConfig } from './config.js';
import { runtimeProvider, type WrapperRuntime } from './engine-provider.js';
import { handlerNameOf } from './namespace.js';
import { runOptionsOf } from './run-options.js';
import type { EventBridgeEventLike, LambdaContextLike, MiddyLikeMiddleware, MiddyLikeRequest } from './types.js';

// A claimed request between `before` and `after`/`onError`: core's engine is waiting on `gate`
// for the handler's outcome, which Middy produces outside the engine's call.
interface InFlight<TResult> {
  succeed(result: TResult): void;
  fail(error: unknown): void;
  run: Promise<TResult>;
  runtime: WrapperRuntime<unknown, TResult>;
}

/**
 * The same behaviour as {@link makeIdempotent}, as a Middy middleware (`@middy/core` 4 to 6),
 * for handlers already wrapped in Middy. Middy is not imported: the middleware is a plain
 * `{ before, after, onError }`.
 *
 * - `before` claims the event's key. A completed duplicate answers at once with the stored
 *   result (or `duplicateResponse`'s): the handler and the rest of the chain are skipped, and
 *   nothing is thrown. A key in progress elsewhere throws `IdempotencyInProgressError` (after
 *   waiting for it, with `inProgress.wait`; or answers with `onInProgress`'s value).
 * - `after` stores the response as the result and completes the claim.
 * - `onError` releases the claim (the error still reaches Lambda, so the retry runs).
 *
 * Register it after middlewares that parse or validate the event, so it keys on what the
 * handler sees; and after any other middleware whose `before` can answer early — a request
 * answered early never reaches `after`, and its claim would then hold until its lease lapses.
 * The default namespace is `<function name>/<name>` (`name` defaults to `handler`).
 * @example
 * ```ts
 * import middy from '@middy/core';
 * import { idempotencyMiddleware } from '@idemkit/eventbridge';
 *
 * export const handler = middy(async (event) => crm.recordStateChange(event.detail))
 *   .use(idempotencyMiddleware({ store: 'redis://cache:6379', strategy: { preset: 'genesysCloud' } }));
 * ```
 */
export function idempotencyMiddleware<
  TEvent = EventBridgeEventLike,
  TResult = unknown,
  TContext extends LambdaContextLike = LambdaContextLike,
>(config: IdempotencyConfig<TEvent, TResult> = {}): MiddyLikeMiddleware<TEvent, TResult, TContext> {
  const runtime = runtimeProvider<TEvent, TResult>(config, handlerNameOf(config.name), {});
  const inFlight = new WeakMap<object, InFlight<TResult>>();
  const take = (request: object) => {
    const state = inFlight.get(request);
    inFlight.delete(request);
    return state;
  };

  return {
    async before(request: MiddyLikeRequest<TEvent, TResult, TContext>) {
      const current = await runtime.get(request.context);
      let succeed!: (result: TResult) => void;
      let fail!: (error: unknown) => void;
      const gate = new Promise<TResult>((resolve, reject) => {
        succeed = resolve;
        fail = reject;
      });
      let started!: () => void;
      const handlerStarted = new Promise<'started'>((resolve) => {
        started = () => resolve('started');
      });
      const run = current.engine.run(
        request.event,
        () => {
          started();
          return gate;
        },
        runOptionsOf(request.context, current.leaseFor),
      );
      const answered = run.then((result) => ({ result }));
      // Once the handler has started, `run` settles in after/onError; keep this branch's rejection quiet.
      answered.catch(() => undefined);
      let first: 'started' | { result: TResult };
      try {
        first = await Promise.race([handlerStarted, answered]);
      } catch (error) {
        current.finish(request.context);
        throw error;
      }
      if (first === 'started') {
        inFlight.set(request, { succeed, fail, run, runtime: current as WrapperRuntime<unknown, TResult> });
        return undefined;
      }
      // A completed duplicate: answer now, skipping the handler. Middy 4 and 5 respond early only
      // when `before` returns something other than undefined, so a stored undefined (the usual
      // EventBridge handler) answers as null — what Lambda sends for undefined anyway; Middy 6
      // reads `earlyResponse`.
      current.finish(request.context);
      const response = (first.result === undefined ? null : first.result) as TResult;
      request.earlyResponse = response;
      return response;
    },

    async after(request: MiddyLikeRequest<TEvent, TResult, TContext>) {
      const state = take(request);
      if (state === undefined) return;
      state.succeed(request.response as TResult);
      try {
        await state.run;
      } finally {
        state.runtime.finish(request.context);
      }
    },

    async onError(request: MiddyLikeRequest<TEvent, TResult, TContext>) {
      const state = take(request);
      if (state === undefined) return;
      state.fail(request.error);
      // The engine releases the claim and rethrows the handler's error, which Middy already holds.
      await state.run.catch(() => undefined);
      state.runtime.finish(request.context);
    },
  };
}
