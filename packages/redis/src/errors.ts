import { IdempotencyError, IdempotencyStoreError } from '@idemkit/core';

/** The store name carried by every error this package raises. */
export const STORE_NAME = 'redis';

// Server replies that mean "try again shortly": failover, loading, resharding, busy scripts, memory.
const TRANSIENT_REPLIES = /^(READONLY|LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|OOM|NOREPLICAS)\b/;

/**
 * Turns whatever an operation threw into an idemkit error: idemkit errors pass through,
 * Redis replies and connection failures become {@link IdempotencyStoreError} with the cause attached.
 */
export function toStoreError(operation: string, error: unknown): IdempotencyError {
  if (error instanceof IdempotencyError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const isReply = error instanceof Error && error.name === 'ReplyError';
  // A reply other than a transient one (a script error, WRONGTYPE, NOPERM) fails the same way again.
  const retryable = !isReply || TRANSIENT_REPLIES.test(message);
  return new IdempotencyStoreError(STORE_NAME, `${operation} failed: ${message}`, { cause: error, retryable });
}

/** Thrown when a reply does not have the shape the scripts return. */
export function unexpectedReply(operation: string, reply: unknown): IdempotencyStoreError {
  return new IdempotencyStoreError(STORE_NAME, `${operation} got an unexpected reply: ${JSON.stringify(reply)}`, {
    retryable: false,
  });
}

/**
 * Runs `work` with a deadline. Past it, the call rejects with a retryable store error while the
 * command may still be queued in ioredis; it is not cancelled, so a late claim can still land —
 * its lease then expires like a crashed handler's.
 */
export async function withDeadline<T>(
  operation: string,
  timeoutMs: number,
  describeClient: () => string,
  work: () => Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const cause = new Error(`no reply within ${timeoutMs} ms (${describeClient()})`);
      cause.name = 'TimeoutError';
      reject(cause);
    }, timeoutMs);
  });
  try {
    return await Promise.race([work(), deadline]);
  } catch (error) {
    throw toStoreError(operation, error);
  } finally {
    clearTimeout(timer);
  }
}
