import { IdempotencyError, IdempotencyStoreError } from '@idemkit/core';

/** The store name carried by every error this package raises. */
export const STORE_NAME = 'redis';

// Server replies that mean "try again shortly": failover, loading, resharding, busy scripts, memory.
const TRANSIENT_REPLIES = /^(READONLY|LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|OOM|NOREPLICAS)\b/;
// The script's refusal of a value it did not write: IDEMKIT_FOREIGN_VALUE "<redis key>" <why>.
const FOREIGN_VALUE = /^IDEMKIT_FOREIGN_VALUE ("(?:[^"\\]|\\.)*") ([^]*?)(?: script: \w+, on @user_script:\d+\.)?$/;

/**
 * A Redis key under the store's prefix holds something the store did not write (another type, or
 * a string that does not decode as an idemkit value). The call changed nothing; it fails the same
 * way until the key is removed or the prefix changed, so it is not retryable.
 */
export class ForeignValueError extends IdempotencyStoreError {
  constructor(
    operation: string,
    /** The Redis key that holds the foreign value. */
    readonly redisKey: string,
    reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      STORE_NAME,
      `${operation} failed: IDEMKIT_FOREIGN_VALUE ${JSON.stringify(redisKey)} ${reason}; ` +
        'another application may be writing under the same prefix',
      { ...options, retryable: false },
    );
    this.name = 'ForeignValueError';
  }
}

/**
 * A claim (or a batch of claims) that failed part-way: one of its script calls failed after others
 * had landed. Says exactly what it left, by request index (for `claim`, index 0): every claim that
 * certainly landed was released again, fenced by its token, unless listed in `stillClaimed`; requests
 * in no list hold nothing. Retryable unless what failed is not (a foreign value).
 */
export class PartialClaimError extends IdempotencyStoreError {
  constructor(
    operation: string,
    cause: unknown,
    /** Requests whose claims had landed and were released again. */
    readonly released: readonly number[],
    /** Requests whose claims had landed but could not be released: they hold until their lease ends. */
    readonly stillClaimed: readonly number[],
    /**
     * Requests whose call got no reply: the claim may have landed. If it did, it holds until its
     * lease ends, or until a retried claim with the same `owner` takes it over.
     */
    readonly unknown: readonly number[],
  ) {
    super(
      STORE_NAME,
      `${operation} failed part-way: ${describeCause(cause)}; ` +
        `${released.length} request(s) released again, ${stillClaimed.length} still claimed until their lease ends, ` +
        `${unknown.length} with no reply (a claim that landed holds until its lease ends or its owner retries)`,
      // As retryable as what failed: a foreign value fails the retry the same way.
      { cause, retryable: !(cause instanceof IdempotencyStoreError) || cause.retryable },
    );
    this.name = 'PartialClaimError';
  }
}

/**
 * A completion, lease extension or release whose identities live in several Cluster slots, done on
 * some slots and not on others. Identities are named by index: 0 is the request's `key`, `i` is
 * `also[i − 1]`. Retrying the same call finishes it: a completion already recorded with the same
 * token counts as done.
 */
export class PartialWriteError extends IdempotencyStoreError {
  constructor(
    operation: string,
    cause: unknown,
    /** Identities the call did record. */
    readonly done: readonly number[],
    /** Identities it did not (or got no reply for). */
    readonly notDone: readonly number[],
  ) {
    super(
      STORE_NAME,
      `${operation} failed part-way across Cluster slots: ${describeCause(cause)}; ` +
        `identities [${done.join(', ')}] done, [${notDone.join(', ')}] not done (retry the same call to finish it)`,
      { cause, retryable: true },
    );
    this.name = 'PartialWriteError';
  }
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * Turns whatever an operation threw into an idemkit error: idemkit errors pass through, the
 * script's foreign-value refusal becomes {@link ForeignValueError}, other Redis replies and
 * connection failures become {@link IdempotencyStoreError} with the cause attached.
 */
export function toStoreError(operation: string, error: unknown): IdempotencyError {
  if (error instanceof IdempotencyError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const foreign = FOREIGN_VALUE.exec(message);
  if (foreign !== null) return new ForeignValueError(operation, JSON.parse(foreign[1]!) as string, foreign[2]!, { cause: error });
  const isReply = error instanceof Error && error.name === 'ReplyError';
  // A reply other than a transient one (a script error, NOPERM) fails the same way again.
  const retryable = !isReply || TRANSIENT_REPLIES.test(message);
  return new IdempotencyStoreError(STORE_NAME, `${operation} failed: ${message}`, { cause: error, retryable });
}

/** Thrown when a reply does not have the shape the script returns. */
export function unexpectedReply(operation: string, reply: unknown): IdempotencyStoreError {
  return new IdempotencyStoreError(STORE_NAME, `${operation} got an unexpected reply: ${JSON.stringify(reply)}`, {
    retryable: false,
  });
}
