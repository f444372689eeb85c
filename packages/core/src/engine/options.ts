import type { IdempotencyRecord, IdempotencyStore } from '../store/types.js';
import type { OrderingOptions } from '../ordering/options.js';
import type { DedupKeyStrategy } from '../strategies/types.js';
import type { StrategyConfig } from '../strategies/index.js';
import type { IdempotencyLogger } from './logger.js';
import type { OversizePolicy } from './result-codec.js';

/** How to treat a completed key whose stored payload fingerprint differs from this event's. */
export type PayloadMismatchPolicy = 'error' | 'warn' | 'ignore';

/** What the engine tells `onDuplicate` about a skipped delivery. */
export interface DuplicateInfo<TEvent = unknown> {
  key: string;
  /** Name of the strategy that made the key. */
  strategy: string;
  /** The stored record of the first delivery (its `claimedAt` is the original time). */
  record: IdempotencyRecord;
  event: TEvent;
}

/** Every way one delivery can end, for counters and metrics. */
export type OutcomeKind =
  | 'processed'
  | 'duplicate'
  | 'in_progress'
  | 'failed'
  | 'conflict'
  | 'lease_lost'
  | 'fail_open'
  | 'invalid_key'
  | 'stale';

/** One delivery's outcome, reported to `onOutcome`. */
export interface IdempotencyOutcome {
  kind: OutcomeKind;
  /** The key, when one could be built. */
  key?: string;
  /** The fencing token the handler ran under, when it ran. */
  fencingToken?: number;
  strategy: string;
}

/** Options of {@link IdempotencyEngine} and {@link idempotent}. */
export interface EngineOptions<TEvent = unknown, TResult = unknown> {
  /** Where claims and results live. */
  store: IdempotencyStore;
  /** How an event becomes a key: a strategy, its JSON config, or that config as a JSON string. */
  strategy: DedupKeyStrategy<TEvent> | StrategyConfig | string;
  /**
   * Prefix that keeps this consumer's keys apart from others sharing the store.
   * @default 'idemkit'
   */
  namespace?: string;
  /**
   * How long a claim protects a key while the handler runs; set it above the handler's timeout.
   * @default 60000
   */
  leaseMs?: number;
  /**
   * How long a completed key is remembered (duplicates later than this run again).
   * @default 3600000 (one hour)
   */
  retentionMs?: number;
  /**
   * Same key, different payload: throw {@link IdempotencyKeyConflictError}, log a warning, or ignore.
   * Windowed and content strategies expect payloads to differ, hence the default.
   * @default 'ignore'
   */
  payloadMismatch?: PayloadMismatchPolicy;
  /**
   * Which part of the event is fingerprinted for `payloadMismatch`.
   * @default the whole event
   */
  fingerprint?: { include?: string[]; exclude?: string[] } | ((event: TEvent) => string);
  /**
   * Store the handler's result so duplicates return it. Turn off when results hold PII.
   * @default true
   */
  storeResult?: boolean;
  /**
   * A result larger than the store accepts: `'error'` completes the key without its result
   * (so the side effect never repeats) and throws {@link IdempotencyResultTooLargeError};
   * `'skip'` completes without the result silently.
   * @default 'error'
   */
  onOversizeResult?: OversizePolicy;
  /**
   * Overrides the store's own result-size limit, in bytes of JSON.
   * @default store.maxResultBytes
   */
  maxResultBytes?: number;
  /** Builds the value a duplicate returns, instead of the stored result. */
  duplicateResponse?: (duplicate: DuplicateInfo<TEvent>) => TResult | Promise<TResult>;
  /**
   * When the store is unreachable, run the handler anyway (and log a warning) instead of failing.
   * @default false (fail closed)
   */
  failOpen?: boolean;
  /**
   * The ordering guard, after dedup: a new event runs only when its version is newer than the one
   * applied to its entity; an older one is acknowledged as `stale`, an equal one as a `duplicate`.
   * Options, or their JSON text (`{"entity":"detail.conversationId","version":["detail.eventTime","id"]}`);
   * see {@link ordered}. Versions live in `ordering.store`, by default this store.
   * @default none: every new event runs, in whatever order it arrives
   */
  ordering?: OrderingOptions<TEvent, TResult> | string;
  /** Called for every delivery skipped as a duplicate. */
  onDuplicate?: (duplicate: DuplicateInfo<TEvent>) => void;
  /** Called once per delivery with how it ended; feed counters and metrics from here. */
  onOutcome?: (outcome: IdempotencyOutcome) => void;
  /**
   * Where idemkit logs. Logs carry hashed keys and strategy names, never payloads.
   * @default silent
   */
  logger?: IdempotencyLogger;
  /**
   * How keys appear in log lines. Keys are raw field values (conversation ids, but also emails or
   * phone numbers), so by default logs carry a short hash (`#` + 16 characters of SHA-256) that
   * still tells keys apart; `'raw'` logs the key itself. Hooks always receive the raw key.
   * @default 'hash'
   */
  logKeys?: 'hash' | 'raw';
}
