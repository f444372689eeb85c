/**
 * idemkit core: the idempotency engine, key strategies, the store contract and the
 * embedded in-memory store. Database adapters live in `@idemkit/redis`,
 * `@idemkit/dynamodb` and `@idemkit/postgres`; the Lambda wrapper in `@idemkit/eventbridge`.
 * @packageDocumentation
 */
export * from './errors.js';
export { systemClock, type Clock } from './clock.js';

export type * from './store/types.js';
export { MemoryStore, type MemoryStoreOptions } from './store/memory-store.js';
export {
  assertValidClaim,
  assertValidCompletion,
  assertValidExtension,
  assertValidRelease,
  assertValidVersionClaim,
  assertPositiveInteger,
  assertPositiveMs,
} from './store/validate.js';
export {
  blocks,
  canTakeOver,
  claimLifetimeMs,
  identitiesOf,
  isLive,
  judgeIdentity,
  meets,
  newClaimRecord,
  refusalOf,
  type IdentityVerdict,
} from './store/claim-rules.js';
export { judgeVersion, type VersionVerdict } from './store/version-rules.js';

export * from './strategies/index.js';

export {
  IdempotencyEngine,
  BatchItemSkippedError,
  type BatchItem,
  type BatchItemOutcome,
  type BatchOptions,
  type ClaimedHandler,
  type RunOptions,
} from './engine/engine.js';
export { idempotent, type IdempotentFunction, type IdempotentOptions } from './engine/idempotent.js';
export type {
  DuplicateInfo,
  EngineOptions,
  FirstRunInfo,
  HeartbeatOption,
  IdempotencyOutcome,
  InProgressInfo,
  InProgressWait,
  OutcomeKind,
  PayloadMismatchPolicy,
  Sleep,
} from './engine/options.js';
export type { OversizePolicy } from './engine/result-codec.js';
export { currentClaim, type ActiveClaim } from './engine/claim-context.js';
export { jsonLogger, silentLogger, type IdempotencyLogger, type LogFields } from './engine/logger.js';
export { decodeVersion, encodeVersion, type Version, type VersionElement } from './ordering/version.js';
export { ordered, type OrderedFunction, type OrderedHandler } from './ordering/ordered.js';
export type { OrderingClaim } from './ordering/guard.js';
export {
  DEFAULT_ORDERING_RETENTION_MS,
  orderingFromConfig,
  type OrderedOptions,
  type OrderingConfig,
  type OrderingOptions,
  type SkippedEvent,
} from './ordering/options.js';
export type { EntitySource, EventVersion, VersionElementSource, VersionSource } from './ordering/sources.js';
export type { LocalCacheOptions } from './engine/local-cache.js';
