import type { Clock } from '../clock.js';

/** Where a key stands. Absent keys have no record at all. */
export type RecordStatus = 'in_progress' | 'completed';

/** What a store keeps for one key. All times are epoch milliseconds. */
export interface IdempotencyRecord {
  /** The full, namespaced key. */
  key: string;
  status: RecordStatus;
  /** Strictly increases each time the key is (re)acquired; guards writes made under the claim. */
  fencingToken: number;
  /** Until when an `in_progress` claim is protected; after it, the key can be claimed again. */
  leaseExpiresAt: number;
  /** Retention: after this instant the record counts as absent, deleted or not. */
  expiresAt: number;
  /** Fingerprint of the payload that made the claim, for mismatch detection. */
  fingerprint?: string;
  /** The handler's result as JSON text, once completed (absent when not stored). */
  result?: string;
  /** Event time the window is measured from, for windowed keys. */
  windowAnchor?: number;
  /** When the current claim was acquired. */
  claimedAt: number;
}

/** A sliding time window carried by a claim: duplicates are events closer than `windowMs` to the anchor. */
export interface ClaimWindow {
  /** The event's own time, epoch ms. */
  at: number;
  windowMs: number;
}

/** Everything a store needs to claim one key. */
export interface ClaimRequest {
  key: string;
  /** How long the claim protects the key while the handler runs. */
  leaseMs: number;
  /** How long the record lives from now; completion resets it. Must be ≥ `leaseMs`. */
  retentionMs: number;
  fingerprint?: string;
  window?: ClaimWindow;
}

/** The result of a claim: either we own the key now, or someone else's record explains why not. */
export type ClaimOutcome =
  | { acquired: true; fencingToken: number; record: IdempotencyRecord }
  | { acquired: false; record: IdempotencyRecord };

/** Everything a store needs to mark a claim completed. */
export interface CompleteRequest {
  key: string;
  fencingToken: number;
  /** JSON text of the result, or undefined to keep no result. */
  result?: string;
  /** How long the completed record lives from now. */
  retentionMs: number;
}

/** Per-item outcome of {@link IdempotencyStore.completeMany}. */
export type CompleteOutcome = { ok: true } | { ok: false; error: Error };

/**
 * The store contract every adapter implements; idemkit's conformance suite
 * (`@idemkit/core/testing`) checks it against the real server.
 *
 * Every method is atomic on the server. Times come from the store's injectable clock.
 */
export interface IdempotencyStore {
  /** Short store name used in errors and logs, e.g. `redis`. */
  readonly name: string;
  /** Largest result (bytes of JSON text) this store accepts, if it has a limit. */
  readonly maxResultBytes?: number;
  /**
   * True when every operation runs inside the caller's own transaction (Postgres transaction
   * mode). The engine then fails the call when a completion cannot be recorded: the failed
   * statement has aborted the transaction, and a `COMMIT` would silently roll the effect back.
   * @default false
   */
  readonly transactional?: boolean;

  /**
   * Atomically claims a key. Exactly one of any number of concurrent claimers acquires;
   * the others get the existing record, read in the same atomic step.
   *
   * A key is acquirable when it has no record, its record is past `expiresAt`, its
   * `in_progress` lease has lapsed, or it is `completed` and the request's window is
   * `windowMs` or more from the record's anchor.
   */
  claim(request: ClaimRequest): Promise<ClaimOutcome>;

  /**
   * Claims a batch, in as few round trips as the server allows. Outcomes are in request order;
   * a key repeated in one batch is acquired at most once, by the first occurrence the claim
   * rules admit; its other occurrences see that claim.
   */
  claimMany(requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]>;

  /**
   * Marks the claim completed and stores the result, only while `fencingToken` is current.
   * @throws {@link LeaseLostError} when the token is stale or the claim is gone.
   */
  complete(request: CompleteRequest): Promise<void>;

  /** Completes a batch; a stale token fails its own item only. */
  completeMany(requests: readonly CompleteRequest[]): Promise<CompleteOutcome[]>;

  /**
   * Deletes the claim only while `fencingToken` is current, so the next delivery can run.
   * @returns whether the claim was released (false: the token was stale, nothing changed).
   */
  release(key: string, fencingToken: number): Promise<boolean>;

  /** Reads the live record for a key (strongly consistent); expired records read as undefined. */
  get(key: string): Promise<IdempotencyRecord | undefined>;
}

/** Options every built-in store accepts. */
export interface StoreOptions {
  /**
   * Clock for leases, retention and fencing; inject a manual clock in tests.
   * @default Date.now
   */
  clock?: Clock;
}
