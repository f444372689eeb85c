import type { Clock } from '../clock.js';

/** Where a key stands. Absent keys have no record at all. */
export type RecordStatus = 'in_progress' | 'completed';

/**
 * What a store keeps for one occurrence of a key. All times are epoch milliseconds.
 *
 * An unwindowed key has at most one live occurrence. A windowed key (a claim carrying
 * {@link ClaimWindow}) remembers every occurrence it accepted until that occurrence's
 * retention passes: its *occurrence history*. Each occurrence has its own fencing token,
 * which is how `complete`, `release` and `extendLease` name it.
 */
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
  /** The event time of this occurrence, for windowed keys: windows are measured from it. */
  windowAnchor?: number;
  /** When the current claim was acquired. */
  claimedAt: number;
  /**
   * Who made the claim (e.g. the Lambda request id): a retried claim from the same owner, whose
   * first attempt landed but whose reply was lost, takes its own in-progress claim over.
   */
  owner?: string;
}

/**
 * A sliding time window carried by a claim: the claim is a duplicate of every remembered occurrence
 * of its key whose time is closer than `windowMs` to `at`, earlier or later.
 */
export interface ClaimWindow {
  /** The event's own time, epoch ms. */
  at: number;
  windowMs: number;
}

/** One more identity of a delivery (see {@link ClaimRequest.also}). */
export interface IdentityClaim {
  key: string;
  window?: ClaimWindow;
}

/** One identity of an acquired claim and the fencing token it got for that identity's key. */
export interface IdentityToken {
  key: string;
  fencingToken: number;
}

/** Everything a store needs to claim one key (and, for `anyOf` strategies, its other identities). */
export interface ClaimRequest {
  key: string;
  /** How long the claim protects the key while the handler runs. */
  leaseMs: number;
  /** How long the record lives from now; completion resets it. Must be ≥ `leaseMs`. */
  retentionMs: number;
  fingerprint?: string;
  window?: ClaimWindow;
  /**
   * Further identities of the same delivery (an `anyOf` strategy): the claim is refused when
   * *any* identity meets a remembered occurrence, and otherwise acquires *all* of them together —
   * never some of them. Keys are distinct from `key` and from each other.
   */
  also?: IdentityClaim[];
  /** Who claims (e.g. the Lambda request id); stored on the record, see {@link IdempotencyRecord.owner}. */
  owner?: string;
}

/**
 * The result of a claim: either we own the key (and every identity in `also`) now, or someone
 * else's record explains why not. A refusal's `record.key` names the identity that was met.
 */
export type ClaimOutcome =
  | {
      acquired: true;
      fencingToken: number;
      record: IdempotencyRecord;
      /** The tokens of `request.also`'s identities, in request order (absent when there were none). */
      also?: IdentityToken[];
    }
  | { acquired: false; record: IdempotencyRecord };

/** Everything a store needs to mark a claim completed. */
export interface CompleteRequest {
  key: string;
  fencingToken: number;
  /** JSON text of the result, or undefined to keep no result. */
  result?: string;
  /** How long the completed record lives from now. */
  retentionMs: number;
  /** The claim's other identities, completed together with `key`: all of them or none. */
  also?: IdentityToken[];
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
   * An identity (the request's `key` with its `window`, and each of `also`) *meets* a live
   * occurrence of its key when the occurrence is unwindowed, the identity is unwindowed, or
   * `|window.at − occurrence.windowAnchor| < window.windowMs`. A met occurrence blocks the claim
   * when it is `completed`, or `in_progress` with its lease not yet passed and an owner other than
   * the request's. The claim is refused with the blocking record (a completed one before an
   * in-progress one, the first identity in request order first); otherwise it acquires every
   * identity, dropping the met occurrences that no longer block (lapsed or the owner's own) and
   * adding one new occurrence per identity. The rules are written once in core's `claim-rules.ts`.
   */
  claim(request: ClaimRequest): Promise<ClaimOutcome>;

  /**
   * Claims a batch, in as few round trips as the server allows. Outcomes are in request order;
   * a key repeated in one batch is acquired at most once, by the first occurrence the claim
   * rules admit; its other occurrences see that claim.
   */
  claimMany(requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]>;

  /**
   * Marks the occurrence claimed with `fencingToken` (and each of `also`'s) completed and stores
   * the result, only while every token still names an `in_progress` occurrence; otherwise nothing
   * changes. Retention restarts from now.
   * @throws {@link LeaseLostError} naming (in `key`) the first identity whose claim is gone.
   */
  complete(request: CompleteRequest): Promise<void>;

  /** Completes a batch; a stale token fails its own item only. */
  completeMany(requests: readonly CompleteRequest[]): Promise<CompleteOutcome[]>;

  /**
   * Deletes the in-progress occurrence claimed with `fencingToken` (and each of `also`'s whose
   * token still names one), so the next delivery can run. Never deletes a completed occurrence.
   * @returns whether `key`'s occurrence was released (false: the token was stale).
   */
  release(key: string, fencingToken: number, also?: readonly IdentityToken[]): Promise<boolean>;

  /**
   * Moves the lease of the in-progress occurrence claimed with `fencingToken` (and each of
   * `also`'s) to `now + leaseMs`, and its retention to at least that: a heartbeat for a handler
   * that runs longer than its lease. All or nothing, and only while every lease is still running:
   * a lapsed claim is never revived.
   * @throws {@link LeaseLostError} naming the first identity whose claim is gone or has lapsed.
   */
  extendLease(request: ExtendLeaseRequest): Promise<void>;

  /**
   * Reads a live occurrence of a key (strongly consistent); expired ones read as undefined.
   * With `fencingToken`, the occurrence claimed with that token; without, the most recently
   * claimed one.
   */
  get(key: string, fencingToken?: number): Promise<IdempotencyRecord | undefined>;
}

/** Everything a store needs to extend a running claim's lease. */
export interface ExtendLeaseRequest {
  key: string;
  fencingToken: number;
  /** The new lease, counted from now. */
  leaseMs: number;
  also?: IdentityToken[];
}

/** Options every built-in store accepts. */
export interface StoreOptions {
  /**
   * Clock for leases, retention and fencing; inject a manual clock in tests.
   * @default Date.now
   */
  clock?: Clock;
}

/**
 * What an ordering store keeps for one entity: the newest version applied, and the claim of a
 * newer version while its handler runs. Versions are the order-preserving text of
 * {@link encodeVersion}: compare them as bytes (`COLLATE "C"`, Lua `<`, DynamoDB string order).
 */
export interface VersionRecord {
  /** The full, namespaced entity key. */
  entity: string;
  /** The newest version applied (absent until one completes). */
  applied?: string;
  /** The version whose handler is running now, if any. */
  pending?: PendingVersion;
  /** Strictly increases each time a version of this entity is claimed. */
  fencingToken: number;
  /** Retention: after this instant the record counts as absent. Completion resets it. */
  expiresAt: number;
}

/** A claimed version whose handler is running. */
export interface PendingVersion {
  version: string;
  fencingToken: number;
  leaseExpiresAt: number;
  claimedAt: number;
  owner?: string;
}

/** Everything a store needs to claim one version of an entity. */
export interface VersionClaimRequest {
  entity: string;
  /** Encoded with {@link encodeVersion}. */
  version: string;
  leaseMs: number;
  retentionMs: number;
  owner?: string;
}

/**
 * The result of a version claim:
 * - `acquired`: the version is newer than the applied one and nothing else runs: apply it;
 * - `duplicate`: it equals the applied version;
 * - `stale`: it is older than the applied version;
 * - `in_progress`: another version of the entity (or this one) is running: retry later.
 */
export type VersionClaimOutcome =
  | { status: 'acquired'; fencingToken: number; record: VersionRecord }
  | { status: 'duplicate' | 'stale' | 'in_progress'; record: VersionRecord };

/**
 * The ordering guard's store contract (`ordered()`): apply only versions newer than the last
 * applied one per entity. Every built-in store implements it next to {@link IdempotencyStore};
 * each operation is atomic on the server, with the same fencing and lease rules as claims.
 */
export interface VersionStore {
  readonly name: string;
  /**
   * Atomically: stale or duplicate against `applied`; `in_progress` while another pending version's
   * lease runs (unless the request's owner made it); otherwise the request's version becomes pending
   * with a new fencing token. A lapsed pending version is simply replaced.
   */
  claimVersion(request: VersionClaimRequest): Promise<VersionClaimOutcome>;
  /**
   * Makes the pending version claimed with `fencingToken` the applied one, only while that token
   * is pending (versions therefore never move backwards). Retention restarts from now.
   * @throws {@link LeaseLostError} when the token is no longer pending.
   */
  completeVersion(entity: string, fencingToken: number, retentionMs: number): Promise<void>;
  /**
   * Drops the pending version claimed with `fencingToken` (its handler failed): `applied` stays.
   * @returns whether it was dropped.
   */
  releaseVersion(entity: string, fencingToken: number): Promise<boolean>;
  /** Reads the live version record of an entity (strongly consistent). */
  getVersion(entity: string): Promise<VersionRecord | undefined>;
}
