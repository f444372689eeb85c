/**
 * `@idemkit/eventbridge`: make AWS Lambda consumers of EventBridge events — direct, or through
 * SQS — idempotent. Wrap the handler (`makeIdempotent`, `makeIdempotentSqs`, or the Middy
 * middleware), pick a key strategy or a source preset (Genesys Cloud, NICE CXone) in code or
 * in `IDEMKIT_*` variables, and name a store by URL. The semantics are `@idemkit/core`'s.
 * @packageDocumentation
 */
export { makeIdempotent, type LambdaHandlerLike } from './make-idempotent.js';
export {
  makeIdempotentSqs,
  type SqsRecordContext,
  type SqsRecordHandler,
} from './sqs/make-idempotent-sqs.js';
export { idempotencyMiddleware } from './middy.js';
export type {
  IdempotencyConfig,
  PresetIdempotencyConfig,
  PresetSqsIdempotencyConfig,
  SqsBodyMode,
  SqsIdempotencyConfig,
} from './config.js';
export type {
  EventBridgeEventLike,
  LambdaContextLike,
  MiddyLikeMiddleware,
  MiddyLikeRequest,
  SqsBatchItemFailure,
  SqsBatchResponseLike,
  SqsEventLike,
  SqsRecordLike,
} from './types.js';

export {
  genesysCloud,
  niceCxone,
  presets,
  resolveStrategy,
  GENESYS_CLOUD_WINDOW_MS,
  NICE_CXONE_WINDOW_MS,
  NO_IDEMPOTENCY_KEY,
  type GenesysCloudDetail,
  type GenesysCloudEvent,
  type GenesysCloudOptions,
  type NiceCxoneDetail,
  type NiceCxoneEvent,
  type NiceCxoneOptions,
  type PresetConfig,
  type PresetConfigOf,
  type PresetEvent,
  type PresetName,
  type PresetOptions,
  type PresetStrategy,
  type StrategyInput,
} from './presets/index.js';

export { configFromEnv, ENV_VARIABLES, type EnvConfig } from './env.js';
export { storeFromUrl, type StoreFromUrlOptions, type UrlStore } from './store/from-url.js';
export { redactUrl } from './store/url.js';
export type { AdapterModule, ModuleLoader } from './store/load.js';
export { closeSharedStores } from './engine-provider.js';
export { leaseFromContext, DEFAULT_LEASE_MARGIN_MS } from './lease.js';
export { defaultNamespace } from './namespace.js';
export { levelLogger, type LogLevel } from './logging.js';
export { MalformedRecordError, MissingAdapterError } from './errors.js';

export { createCounters, OUTCOME_KINDS, type OutcomeCounters, type OutcomeCounts } from './metrics/counters.js';
export { emfMetrics, EMF_METRIC_NAMES, type EmfDocument, type EmfMetricsOptions } from './metrics/emf.js';
export type { OutcomeSink } from './metrics/sink.js';
