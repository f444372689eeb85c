import type { Clock } from '../clock.js';
import type { IdempotencyRecord, IdempotencyStore, IdentityToken } from '../store/types.js';
import type { OrderingOptions } from '../ordering/options.js';
import type { DedupKeyStrategy } from '../strategies/types.js';
import type { StrategyConfig } from '../strategies/index.js';
import type { IdempotencyLogger } from './logger.js';
import type { OversizePolicy } from './result-codec.js';
import type { LocalCacheOptions } from './local-cache.js';

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

/** What the engine tells `onInProgress` about a delivery whose key is in progress elsewhere. */
export interface InProgressInfo<TEvent = unknown> {
  /** The key of the identity whose claim is running (for `anyOf` strategies, the one met). */
  key: string;
  /** Name of the strategy that made the key. */
  strategy: string;
  /** The running claim: its `claimedAt`, `leaseExpiresAt` and `owner`. */
  record: IdempotencyRecord;
  event: TEvent;
  /** How long this delivery waited for the claim to complete (0 without `inProgress.wait`). */
  waitedMs: number;
}

/** What the engine tells `onFirstRun` about a delivery that is about to run the handler. */
export interface FirstRunInfo<TEvent = unknown> {
  /** Always `'executed'`: the handler is about to run under a new claim. */
  kind: 'executed';
  /** The full key (the primary identity's, for `anyOf` strategies). */
  key: string;
  /** The fencing token the handler runs under. */
  fencingToken: number;
  /** The other identities held with it (`anyOf` strategies). */
  also?: IdentityToken[];
  /** Name of the strategy that made the key. */
  strategy: string;
  event: TEvent;
}

/**
 * How a duplicate that meets a running claim waits for it to complete before it answers.
 * It re-claims the key (one atomic round trip each time) after `pollMs`, then after twice as long
 * each time, up to 8 × `pollMs` between two polls, until the claim completes (the stored result is
 * returned, as to any completed duplicate), the claim is released or lapses (this delivery
 * acquires the key and runs the handler itself), or `maxMs` has passed (the delivery is answered
 * as in progress: `onInProgress`, else {@link IdempotencyInProgressError}).
 */
export interface InProgressWait {
  /**
   * Longest wait. Also bounded by the call's `remainingMs` (the Lambda's remaining time, passed by
   * the `@idemkit/eventbridge` wrappers) less one second to answer in. In a batch, the items share it.
   */
  maxMs: number;
  /**
   * First interval between two polls; later ones double, up to 8 × `pollMs`.
   * @default 100
   */
  pollMs?: number;
}

/** A heartbeat for a running handler's claim: `true` (every third of the lease) or an interval. */
export type HeartbeatOption = boolean | { everyMs: number };

/**
 * Waits `ms`; may resolve or reject early once `signal` aborts. The engine's polls and heartbeats
 * sleep through it: inject one driven by a manual clock so tests need no real time.
 */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

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
   * Called just before the handler runs under a new claim (`kind: 'executed'`), with its key and
   * fencing token; duplicates never get here (`onDuplicate` hears of those), and `onOutcome` still
   * hears once how the delivery ended. With `ordering`, the guard may yet skip the handler as stale.
   * Like every hook, an error it throws is logged and never fails the delivery.
   */
  onFirstRun?: (run: FirstRunInfo<TEvent>) => void;
  /** What a duplicate does when it meets a claim that is still running elsewhere. */
  inProgress?: {
    /**
     * Wait for the running claim to complete, then answer with its stored result.
     * @default no waiting: answer at once
     */
    wait?: InProgressWait;
  };
  /**
   * Decides the answer for a delivery whose key is in progress elsewhere (after waiting, when
   * `inProgress.wait` is set): return the value the call returns (a success: for an SQS record,
   * the message is deleted), or throw to fail the delivery so it is retried. Answering with a value
   * tells the source the event was handled although the running delivery may still fail; it is
   * then that delivery's own retry that must run it.
   * @default throws {@link IdempotencyInProgressError} (retryable)
   */
  onInProgress?: (inProgress: InProgressInfo<TEvent>) => TResult | Promise<TResult>;
  /**
   * Extends the claim's lease (every identity, `store.extendLease`) while the handler runs, so a
   * handler slower than its lease keeps its claim. Each beat moves the lease to now + the call's
   * lease, only while this claim still holds it (the fencing token): a lapsed claim is never
   * revived; the heartbeat then stops and logs a warning. It stops when the handler ends, however
   * it ends. Its timers never keep the process alive.
   * `true` beats every third of the call's lease; `{ everyMs }` sets the interval (a call whose
   * lease is not longer than `everyMs` beats every third of its lease instead).
   * @default false
   */
  heartbeat?: HeartbeatOption;
  /**
   * The engine's clock: wait deadlines and the lease times in {@link currentClaim}. Give it the
   * store's manual clock in tests.
   * @default Date.now
   */
  clock?: Clock;
  /**
   * How the engine sleeps between polls of `inProgress.wait` and between heartbeats.
   * @default real timers (a heartbeat's timer is unref'd; a waiting duplicate's is not, since the caller awaits it)
   */
  sleep?: Sleep;
  /**
   * Where idemkit logs. Logs carry hashed keys and strategy names, never payloads.
   * @default silent
   */
  logger?: IdempotencyLogger;
  /**
   * Remember completed keys in this process (bounded, least recently used first), so a warm Lambda
   * answers a repeat of an event it has already completed — or already seen answered as a duplicate —
   * with zero round trips. Only completed occurrences are kept, never past their retention, and
   * windows are judged by the store's rule. Off by default: with it on, a record deleted from the
   * store by hand is still a duplicate in warm instances until its retention passes.
   * @default false
   */
  localCache?: boolean | LocalCacheOptions;
  /**
   * How keys appear in log lines. Keys are raw field values (conversation ids, but also emails or
   * phone numbers), so by default logs carry a short hash (`#` + 16 characters of SHA-256) that
   * still tells keys apart; `'raw'` logs the key itself. Hooks always receive the raw key.
   * @default 'hash'
   */
  logKeys?: 'hash' | 'raw';
}
