import {
  assertPositiveMs,
  ConfigError,
  eventId,
  IdempotencyEngine,
  MemoryStore,
  type EngineOptions,
  type IdempotencyLogger,
  type IdempotencyOutcome,
  type IdempotencyStore,
} from '@idemkit/core';
import type { IdempotencyConfig } from './config.js';
import { configFromEnv, type EnvConfig } from './env.js';
import { DEFAULT_LEASE_MARGIN_MS, leaseFromContext } from './lease.js';
import { levelLogger } from './logging.js';
import { defaultNamespace } from './namespace.js';
import { resolveStrategy } from './presets/index.js';
import { storeFromUrl, type UrlStore } from './store/from-url.js';
import { isOutage, reopeningStore } from './store/reopening.js';
import { parseStoreUrl, redactUrl } from './store/url.js';
import type { ModuleLoader } from './store/load.js';
import type { LambdaContextLike } from './types.js';

/** What one wrapper runs with, built on its first invocation. */
export interface WrapperRuntime<TEvent, TResult> {
  engine: IdempotencyEngine<TEvent, TResult>;
  logger: IdempotencyLogger;
  /** The lease for a claim taken now: from the context when there is one, else the engine's. */
  leaseFor(context: LambdaContextLike | undefined): number | undefined;
  /** Ends an invocation: flushes the metrics sink. */
  finish(context: LambdaContextLike | undefined): void;
}

/** Builds a wrapper's runtime once, lazily: the function name may only be known from the first context. */
export interface RuntimeProvider<TEvent, TResult> {
  get(context: LambdaContextLike | undefined): Promise<WrapperRuntime<TEvent, TResult>>;
  /** The runtime once built: a warm invocation takes it without waiting on a promise. */
  readonly ready: WrapperRuntime<TEvent, TResult> | undefined;
}

// Stores opened from URLs, shared by every wrapper in the process: one client per URL (and
// loader, which only changes where the packages come from).
const storesByUrl = new Map<ModuleLoader | undefined, Map<string, Promise<UrlStore>>>();
let defaultStore: MemoryStore | undefined;
// Which wrapper took which non-explicit namespace on which store, to catch two wrappers sharing one.
const namespaceOwners = new WeakMap<IdempotencyStore, Map<string, object>>();

/**
 * Returns the provider of one wrapper's runtime. `handlerName` is the handler half of the
 * default namespace; `owner` identifies the wrapper for the shared-namespace check.
 */
export function runtimeProvider<TEvent, TResult>(
  config: IdempotencyConfig<TEvent, TResult>,
  handlerName: string,
  owner: object,
): RuntimeProvider<TEvent, TResult> {
  let pending: Promise<WrapperRuntime<TEvent, TResult>> | undefined;
  let built: WrapperRuntime<TEvent, TResult> | undefined;
  return {
    get(context) {
      if (pending === undefined) {
        pending = build(config, handlerName, owner, context);
        pending.then(
          (runtime) => {
            built = runtime;
          },
          // A failed build (bad config, store unreachable at migrate) is retried by the next invocation.
          () => {
            pending = undefined;
          },
        );
      }
      return pending;
    },
    get ready() {
      return built;
    },
  };
}

async function build<TEvent, TResult>(
  config: IdempotencyConfig<TEvent, TResult>,
  handlerName: string,
  owner: object,
  context: LambdaContextLike | undefined,
): Promise<WrapperRuntime<TEvent, TResult>> {
  const env: EnvConfig = config.env === false ? {} : configFromEnv(config.env ?? process.env);
  const logger = config.logger ?? levelLogger(config.logLevel ?? env.logLevel ?? 'info');
  const leaseMarginMs = config.leaseMarginMs ?? env.leaseMarginMs ?? DEFAULT_LEASE_MARGIN_MS;
  assertPositiveMs('leaseMarginMs', leaseMarginMs);

  const strategy = config.strategy !== undefined ? resolveStrategy(config.strategy) : (env.strategy ?? eventId());
  const store = await resolveStore(config, env, logger);
  const explicit = config.namespace !== undefined;
  const namespace = config.namespace ?? env.namespace ?? defaultNamespace(context, handlerName, config.env || process.env);
  if (!explicit) claimNamespace(store, namespace, owner, env.namespace !== undefined);

  const metrics = config.metrics;
  const onOutcome = combine(config.onOutcome, metrics?.onOutcome.bind(metrics));
  const options: EngineOptions<TEvent, TResult> = {
    store,
    strategy: strategy as EngineOptions<TEvent, TResult>['strategy'],
    namespace,
    logger,
  };
  const leaseMs = config.leaseMs ?? env.leaseMs;
  if (leaseMs !== undefined) options.leaseMs = leaseMs;
  const retentionMs = config.retentionMs ?? env.retentionMs;
  if (retentionMs !== undefined) options.retentionMs = retentionMs;
  const payloadMismatch = config.payloadMismatch ?? env.payloadMismatch;
  if (payloadMismatch !== undefined) options.payloadMismatch = payloadMismatch;
  const storeResult = config.storeResult ?? env.storeResult;
  if (storeResult !== undefined) options.storeResult = storeResult;
  const onOversizeResult = config.onOversizeResult ?? env.onOversizeResult;
  if (onOversizeResult !== undefined) options.onOversizeResult = onOversizeResult;
  const failOpen = config.failOpen ?? env.failOpen;
  if (failOpen !== undefined) options.failOpen = failOpen;
  if (config.fingerprint !== undefined) options.fingerprint = config.fingerprint;
  if (config.maxResultBytes !== undefined) options.maxResultBytes = config.maxResultBytes;
  if (config.duplicateResponse !== undefined) options.duplicateResponse = config.duplicateResponse;
  if (config.onDuplicate !== undefined) options.onDuplicate = config.onDuplicate;
  const ordering = config.ordering ?? env.ordering;
  if (ordering !== undefined) options.ordering = ordering;
  if (config.onFirstRun !== undefined) options.onFirstRun = config.onFirstRun;
  if (config.inProgress !== undefined) options.inProgress = config.inProgress;
  if (config.onInProgress !== undefined) options.onInProgress = config.onInProgress;
  if (config.heartbeat !== undefined) options.heartbeat = config.heartbeat;
  if (config.localCache !== undefined) options.localCache = config.localCache;
  if (config.logKeys !== undefined) options.logKeys = config.logKeys;
  if (config.clock !== undefined) options.clock = config.clock;
  if (config.sleep !== undefined) options.sleep = config.sleep;
  if (onOutcome !== undefined) options.onOutcome = onOutcome;

  const engine = new IdempotencyEngine<TEvent, TResult>(options);
  return {
    engine,
    logger,
    leaseFor: (ctx) => leaseFromContext(ctx, leaseMarginMs),
    finish(ctx) {
      try {
        metrics?.flush?.(ctx);
      } catch (error) {
        logger.warn('idempotency: the metrics sink failed to flush', { error: String(error) });
      }
    },
  };
}

async function resolveStore<TEvent, TResult>(
  config: IdempotencyConfig<TEvent, TResult>,
  env: EnvConfig,
  logger: IdempotencyLogger,
): Promise<IdempotencyStore> {
  if (config.store !== undefined && typeof config.store !== 'string') return config.store;
  const url = config.store ?? env.store;
  if (url === undefined) {
    logger.warn(
      'idempotency: no store configured (`store` or IDEMKIT_STORE); using the in-memory store, ' +
        'which deduplicates within this Lambda instance only',
    );
    defaultStore ??= new MemoryStore();
    return defaultStore;
  }
  const field = config.store !== undefined ? 'store' : 'IDEMKIT_STORE';
  const loader = config.loader;
  let byUrl = storesByUrl.get(loader);
  if (byUrl === undefined) {
    byUrl = new Map();
    storesByUrl.set(loader, byUrl);
  }
  const shared = byUrl;
  const open = (): Promise<UrlStore> => {
    let opening = shared.get(url);
    if (opening === undefined) {
      opening = storeFromUrl(url, loader === undefined ? { field } : { field, loader });
      shared.set(url, opening);
      // A failed open (package missing, server unreachable at migrate) is retried by the next invocation.
      opening.catch(() => shared.delete(url));
    }
    return opening;
  };
  try {
    return await open();
  } catch (error) {
    // A bad URL or a missing package fails closed whatever `failOpen` says; an unreachable server
    // (a cold start while the database is down, `?migrate=true` failing) does not fail the
    // invocation under `failOpen`: the handler runs without a claim until the store opens.
    if (!(config.failOpen ?? env.failOpen) || !isOutage(error)) throw error;
    logger.warn('idempotency: the store could not be opened; handlers run without claims (failOpen) until it can', {
      store: redactUrl(url),
      error: error instanceof Error ? error.message : String(error),
    });
    return reopeningStore(parseStoreUrl(url, field).kind, open);
  }
}

function claimNamespace(store: IdempotencyStore, namespace: string, owner: object, fromEnv: boolean): void {
  let owners = namespaceOwners.get(store);
  if (owners === undefined) {
    owners = new Map();
    namespaceOwners.set(store, owners);
  }
  const holder = owners.get(namespace);
  if (holder === undefined) {
    owners.set(namespace, owner);
    return;
  }
  if (holder === owner) return;
  throw new ConfigError(
    fromEnv ? 'IDEMKIT_NAMESPACE' : 'name',
    `two wrapped handlers in this process would share the namespace "${namespace}" on one store, ` +
      'so one would skip the other\'s events as duplicates; give each wrapper its own `name` ' +
      '(or set `namespace` explicitly to share keys on purpose)',
  );
}

function combine(
  ...hooks: Array<((outcome: IdempotencyOutcome) => void) | undefined>
): ((outcome: IdempotencyOutcome) => void) | undefined {
  const present = hooks.filter((hook): hook is (outcome: IdempotencyOutcome) => void => hook !== undefined);
  if (present.length === 0) return undefined;
  return (outcome) => {
    for (const hook of present) hook(outcome);
  };
}

/**
 * Closes every store opened from a URL by the wrappers in this process (graceful shutdown). Not
 * needed for a script or test to end: those clients never keep an idle process alive.
 */
export async function closeSharedStores(): Promise<void> {
  const opening = [...storesByUrl.values()].flatMap((byUrl) => [...byUrl.values()]);
  storesByUrl.clear();
  await Promise.all(opening.map((store) => store.then((opened) => opened.close()).catch(() => undefined)));
}
