import { ConfigError } from '../errors.js';
import { describeType } from '../internal/path.js';
import { closestName } from '../internal/suggest.js';
import type { IdempotencyLogger } from '../engine/logger.js';
import type { IdempotencyOutcome } from '../engine/options.js';
import { assertPositiveMs } from '../store/validate.js';
import type { VersionRecord, VersionStore } from '../store/types.js';
import { fieldAt, isRecord } from '../strategies/checks.js';
import { versionReader, type EntitySource, type VersionElementSource, type VersionReader, type VersionSource } from './sources.js';
import type { Version, VersionElement } from './version.js';

/**
 * How long an entity's applied version is remembered: an event older than it that arrives later
 * than this is no longer known to be stale. A week outlasts EventBridge's 24 h of retries and a
 * default SQS queue's 4 days; raise it towards 14 days (SQS's longest) for long-lived entities.
 */
export const DEFAULT_ORDERING_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * The ordering guard as plain JSON, what `IDEMKIT_ORDERING` holds:
 * `{ "entity": "detail.conversationId", "version": ["detail.eventTime", "id"] }`.
 */
export interface OrderingConfig {
  /** Path of the entity whose newest state is kept, e.g. `detail.conversationId`. */
  entity: string;
  /** Path of the version (an event time, a sequence number), or a tuple whose later paths break ties. */
  version: VersionElementSource | readonly VersionElementSource[];
  /**
   * How long an entity's applied version is remembered.
   * @default 604800000 (7 days, {@link DEFAULT_ORDERING_RETENTION_MS})
   */
  retentionMs?: number;
}

/** What the guard tells hooks about an event it skipped without running the handler. */
export interface SkippedEvent<TEvent = unknown> {
  /** `stale`: a newer version of the entity was applied; `duplicate`: this very version was. */
  kind: 'stale' | 'duplicate';
  /** The full, namespaced entity key. */
  entity: string;
  /** This event's version, as read from it. */
  version: Version;
  /** The entity's applied version (decoded: always a tuple). */
  applied: VersionElement[];
  /** The entity's version record as the store returned it. */
  record: VersionRecord;
  /** The skipped event itself. */
  event: TEvent;
}

/**
 * The ordering guard's options as the `ordering` option of `idempotent` and the wrappers: the
 * JSON config, or the same with functions and hooks.
 */
export interface OrderingOptions<TEvent = unknown, TResult = unknown> {
  /** The entity: a path, or a function returning a non-empty string. */
  entity: EntitySource<TEvent>;
  /** The version: a path, a tuple of paths for ties, or a function returning a {@link Version}. */
  version: VersionSource<TEvent>;
  /**
   * Where versions live.
   * @default the engine's store, which must then implement {@link VersionStore}
   */
  store?: VersionStore;
  /**
   * How long an entity's applied version is remembered after its last event; keep it above how
   * long your queue keeps a message.
   * @default 604800000 (7 days, {@link DEFAULT_ORDERING_RETENTION_MS})
   */
  retentionMs?: number;
  /** Called for every event skipped as stale (a newer version of its entity was applied). */
  onStale?: (stale: SkippedEvent<TEvent>) => void;
  /**
   * What a skipped event (stale, or its version already applied) returns.
   * @default undefined
   */
  skippedResponse?: (skipped: SkippedEvent<TEvent>) => TResult | Promise<TResult>;
}

/** Options of {@link ordered}: the guard's, plus what the engine would otherwise provide. */
export interface OrderedOptions<TEvent = unknown, TResult = unknown> extends OrderingOptions<TEvent, TResult> {
  /** Where versions live: `MemoryStore`, `RedisStore`, `DynamoDBStore`, `PostgresStore`. */
  store: VersionStore;
  /**
   * Prefix that keeps this consumer's entities apart from others sharing the store.
   * @default 'idemkit'
   */
  namespace?: string;
  /**
   * How long a claimed version holds other versions of its entity off while the handler runs.
   * @default 60000
   */
  leaseMs?: number;
  /**
   * When the store is unreachable, run the handler anyway, unguarded (and log a warning).
   * @default false (fail closed)
   */
  failOpen?: boolean;
  /** Called once per call with how it ended (`processed`, `stale`, `duplicate`, …). */
  onOutcome?: (outcome: IdempotencyOutcome) => void;
  /**
   * Where the guard logs (entity keys hashed, never payloads).
   * @default silent
   */
  logger?: IdempotencyLogger;
  /**
   * How entity keys appear in log lines: a short hash by default, or `'raw'`.
   * @default 'hash'
   */
  logKeys?: 'hash' | 'raw';
}

/** The guard's checked settings. */
export interface ResolvedOrdering<TEvent, TResult> {
  /** Reads an event's namespaced entity key and version. */
  read: VersionReader<TEvent>;
  store: VersionStore;
  retentionMs: number;
  onStale: ((stale: SkippedEvent<TEvent>) => void) | undefined;
  skippedResponse: ((skipped: SkippedEvent<TEvent>) => TResult | Promise<TResult>) | undefined;
}

const CONFIG_FIELDS = ['entity', 'version', 'retentionMs'] as const;
const CODE_FIELDS = ['store', 'onStale', 'skippedResponse'] as const;
const EXAMPLE = '{"entity":"detail.conversationId","version":["detail.eventTime","id"]}';

/**
 * Checks the guard's options (an object, or its JSON text) and builds its settings.
 * @param fallbackStore - the store to use when the options name none (the engine's).
 * @param placement - `prefix`: where the options sit, for error fields (`''`, or `ordering` in
 * engine options); `also`: further fields the caller reads itself (a standalone guard's `namespace`, …).
 * @throws {@link ConfigError} naming the field: bad JSON, an unknown field (with a suggestion),
 * a missing or malformed path, a store that does not implement {@link VersionStore}.
 */
export function resolveOrdering<TEvent, TResult>(
  input: unknown,
  namespace: string,
  fallbackStore: unknown,
  placement: { prefix?: string; also?: readonly string[] } = {},
): ResolvedOrdering<TEvent, TResult> {
  const { prefix = '', also = [] } = placement;
  const options = checkedOptions(input, [...CONFIG_FIELDS, ...CODE_FIELDS, ...also], prefix);
  const store = options['store'] ?? fallbackStore;
  if (!isVersionStore(store)) {
    const name = isRecord(store) && typeof store['name'] === 'string' ? ` "${store['name']}"` : '';
    throw new ConfigError(
      fieldAt(prefix, 'store'),
      `the store${name} does not keep versions (it lacks claimVersion); pass a VersionStore: MemoryStore, RedisStore, DynamoDBStore or PostgresStore`,
    );
  }
  const retentionMs = options['retentionMs'] ?? DEFAULT_ORDERING_RETENTION_MS;
  assertPositiveMs(fieldAt(prefix, 'retentionMs'), retentionMs);
  return {
    read: versionReader<TEvent>(options['entity'], options['version'], namespace, prefix),
    store,
    retentionMs,
    onStale: optionalFunction(options['onStale'], fieldAt(prefix, 'onStale')),
    skippedResponse: optionalFunction(options['skippedResponse'], fieldAt(prefix, 'skippedResponse')),
  };
}

/**
 * Checks the guard's JSON config (an object, or its JSON text, as in `IDEMKIT_ORDERING`) without
 * building anything: for a deployment's variables, checked before the first event arrives.
 * @throws {@link ConfigError} naming the field, as {@link ordered} would.
 * @example orderingFromConfig('{"entity":"detail.conversationId","version":["detail.eventTime","id"]}')
 */
export function orderingFromConfig(config: OrderingConfig | string): OrderingConfig {
  const options = checkedOptions(config, CONFIG_FIELDS, '');
  versionReader(options['entity'], options['version'], 'idemkit');
  if (options['retentionMs'] !== undefined) assertPositiveMs('retentionMs', options['retentionMs']);
  return options as unknown as OrderingConfig;
}

// The options as a record, every field known (an unknown one, a typo, gets a suggestion).
function checkedOptions(input: unknown, known: readonly string[], prefix: string): Record<string, unknown> {
  const where = prefix === '' ? '(root)' : prefix;
  const options = typeof input === 'string' ? parseJson(input, where) : input;
  if (!isRecord(options)) throw new ConfigError(where, `must be ordering options like ${EXAMPLE}, got ${describeType(options)}`);
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const guess = closestName(name, known);
    throw new ConfigError(
      fieldAt(prefix, name),
      `is not an ordering option; ` + (guess === undefined ? `they are ${known.map((k) => `"${k}"`).join(', ')}` : `did you mean "${guess}"?`),
    );
  }
  return options;
}

/** Whether a store implements the ordering guard's contract. */
export function isVersionStore(store: unknown): store is VersionStore {
  return isRecord(store) && typeof store['claimVersion'] === 'function' && typeof store['completeVersion'] === 'function';
}

function optionalFunction<T>(value: unknown, field: string): T | undefined {
  if (value === undefined || typeof value === 'function') return value as T | undefined;
  throw new ConfigError(field, `must be a function, got ${describeType(value)}`);
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError(field, `is not valid JSON (${(error as Error).message}); expected JSON like ${EXAMPLE}`, { cause: error });
  }
}
