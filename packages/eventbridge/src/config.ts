import type { EngineOptions, IdempotencyStore } from '@idemkit/core';
import type { LogLevel } from './logging.js';
import type { OutcomeSink } from './metrics/sink.js';
import type { PresetConfigOf, PresetEvent, PresetName, StrategyInput } from './presets/index.js';
import type { ModuleLoader } from './store/load.js';

/**
 * Configuration of {@link makeIdempotent}, {@link makeIdempotentSqs} and
 * {@link idempotencyMiddleware}: core's engine options, with the store and strategy also
 * accepted as a URL and as JSON config. Every option left out is read from its `IDEMKIT_*`
 * environment variable (see {@link configFromEnv}), then from its default.
 */
export interface IdempotencyConfig<TEvent = unknown, TResult = unknown>
  extends Omit<EngineOptions<TEvent, TResult>, 'store' | 'strategy' | 'namespace' | 'logger'> {
  /**
   * Where claims live: a store (`new RedisStore(…)`), or a store URL (`redis://…`, see
   * {@link storeFromUrl}) opened once per process and shared by every wrapper using that URL.
   * @default `IDEMKIT_STORE`, else an in-memory store, which deduplicates within one warm
   * Lambda instance only
   */
  store?: IdempotencyStore | string;
  /**
   * How an event becomes a key: a strategy, core's JSON config, a preset
   * (`{ preset: 'genesysCloud' }`), or either as JSON text.
   * @default `IDEMKIT_STRATEGY`, else `{ strategy: 'eventId' }` (the EventBridge envelope id)
   */
  strategy?: StrategyInput<TEvent>;
  /**
   * The ordering guard, after dedup: a new event runs only when its version is newer than the one
   * applied to its entity; an older one is acknowledged as stale (an SQS record is not reported
   * failed). Versions live in the wrapper's store unless `ordering.store` names another.
   * @default `IDEMKIT_ORDERING`, else none
   */
  ordering?: EngineOptions<TEvent, TResult>['ordering'];
  /**
   * Prefix of every key, used as given. Set it to keep keys stable across a function rename,
   * or to share keys between functions.
   * @default `IDEMKIT_NAMESPACE`, else `<function name>/<name>`
   */
  namespace?: string;
  /**
   * The handler half of the default namespace: keeps several wrapped handlers in one Lambda apart.
   * @default the handler function's name, else `handler`
   */
  name?: string;
  /**
   * With a Lambda context, each claim's lease is the invocation's remaining time plus this
   * margin (see {@link leaseFromContext}); `leaseMs` applies only without a context.
   * @default `IDEMKIT_LEASE_MARGIN_MS`, else 1000
   */
  leaseMarginMs?: number;
  /**
   * Where idemkit logs.
   * @default `jsonLogger()` at `logLevel`: JSON lines on stdout, one per duplicate skipped
   */
  logger?: EngineOptions<TEvent, TResult>['logger'];
  /**
   * Level of the default logger (ignored when `logger` is given).
   * @default `IDEMKIT_LOG_LEVEL`, else 'info'
   */
  logLevel?: LogLevel;
  /** Counters or metrics fed with every outcome and flushed after each invocation: {@link createCounters}, {@link emfMetrics}. */
  metrics?: OutcomeSink;
  /**
   * Where `IDEMKIT_*` variables are read from; `false` reads none.
   * @default process.env
   */
  env?: Record<string, string | undefined> | false;
  /**
   * Imports the adapter packages of a store URL. In a bundled handler (esbuild, CDK
   * `NodejsFunction`, SAM) pass the one of your store — `redisLoader` from
   * `@idemkit/eventbridge/redis`, `postgresLoader`, `dynamodbLoader` — so the bundle includes
   * that store, and only that one.
   * @default an `import()` at run time from `node_modules`, which bundlers do not follow
   */
  loader?: ModuleLoader;
}

/** How {@link makeIdempotentSqs} reads a message body. */
export type SqsBodyMode = 'envelope' | 'detail' | 'auto';

/** Configuration of {@link makeIdempotentSqs}: the shared configuration plus batch options. */
export interface SqsIdempotencyConfig<TEvent = unknown, TResult = unknown> extends IdempotencyConfig<TEvent, TResult> {
  /**
   * What each body holds. `envelope`: the whole EventBridge event (the default target of an
   * EventBridge rule). `detail`: only its `detail` (an input transformer `$.detail`); the handler
   * and strategy then see `{ id: <messageId>, detail: <body> }`, so presets and `detail.*` paths
   * work unchanged. `auto`: an envelope when the body is an object with a `detail` member and a
   * string `detail-type`, else a detail.
   * @default 'auto'
   */
  body?: SqsBodyMode;
  /**
   * FIFO queues must keep order: stop at the first failed record and report it and every later
   * record as failed, unrun. `auto` does so when the records come from a queue whose ARN ends in `.fifo`.
   * @default 'auto'
   */
  fifo?: boolean | 'auto';
  /**
   * When completions are recorded. `each`: sent right after each record's handler, so a crash
   * mid-batch repeats only the records in flight; the next record runs while it travels (FIFO
   * queues wait for it), and the batch answers once every completion has. `batch`: one `completeMany` after the last
   * handler (one round trip for the batch on Redis and Postgres), but a crash before it repeats
   * every record that ran once their leases lapse.
   * @default 'each'
   */
  completion?: 'each' | 'batch';
}

/**
 * The configuration of a wrapper whose strategy is a preset written in code
 * (`{ preset: 'genesysCloud' }`): its handler's event is typed as that source's event.
 */
export type PresetIdempotencyConfig<P extends PresetName, TResult = unknown> = IdempotencyConfig<PresetEvent<P>, TResult> & {
  strategy: PresetConfigOf<P>;
};

/** {@link PresetIdempotencyConfig} for {@link makeIdempotentSqs}. */
export type PresetSqsIdempotencyConfig<P extends PresetName, TResult = unknown> = SqsIdempotencyConfig<PresetEvent<P>, TResult> & {
  strategy: PresetConfigOf<P>;
};
