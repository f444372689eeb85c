import type { GenesysEvent } from '../lib/events.js';
import type { StorageFigure } from '../lib/storage.js';
import type { RoundTripCounter } from '../lib/round-trips.js';

/** The three servers compared. */
export type StoreKind = 'redis' | 'dynamodb' | 'postgres';

/**
 * Who handles the events: `idemkit` (the reference the ratios are computed against),
 * `Powertools`, `raw` (the bare store commands), or a labelled variant such as `idemkit, unprepared`.
 */
export type ContenderName = string;

/** The SQS record fields a consumer reads. */
export interface SqsRecordLike {
  messageId: string;
  body: string;
}

/** One way of making the same handler idempotent on one store. */
export interface Contender {
  readonly name: ContenderName;
  readonly store: StoreKind;
  /** The handler's own runs, so a scenario can check that each key ran once. */
  readonly workload: Workload;
  /** Round trips this contender's clients made to the store. */
  readonly roundTrips: RoundTripCounter;
  /** One EventBridge event through the wrapped handler; rejects when the key is in progress elsewhere. */
  handle(event: GenesysEvent): Promise<unknown>;
  /** One SQS batch whose bodies are EventBridge events; resolves with the message ids that failed. */
  handleBatch(records: readonly SqsRecordLike[]): Promise<string[]>;
}

/** A store's contenders, the server they share, and how to clean up after them. */
export interface StoreBench {
  readonly store: StoreKind;
  /** e.g. `Redis 7.0.15`. */
  readonly server: string;
  readonly contenders: Contender[];
  /** idemkit `localCache: true` and Powertools `useLocalCache: true`, measured on completed duplicates only. */
  readonly cacheContenders?: Contender[];
  /** Storage per completed key of what the contenders wrote (call after the scenarios, before `close`). */
  storage?(): Promise<StorageFigure[]>;
  /** Runs once before the scenarios: brings a freshly started server to its steady state. */
  warmUp?(): Promise<void>;
  /** Runs before each scenario: brings the store to the state a long-running one is in. */
  beforeScenario?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The business logic every contender wraps, identical for all so only the idempotency layer
 * differs. It records its runs per event id; `delayMs` stands for real work (the hot-key scenario).
 */
export class Workload {
  delayMs = 0;
  readonly runs = new Map<string, number>();

  async run(event: GenesysEvent): Promise<{ ok: true; id: string }> {
    this.runs.set(event.id, (this.runs.get(event.id) ?? 0) + 1);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return { ok: true, id: event.id };
  }
}

/** Same settings for every contender: keyed by the envelope id, kept an hour, a 60 s lease. */
export const RETENTION_SECONDS = 3600;
export const LEASE_MS = 60_000;
