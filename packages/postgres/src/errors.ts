import { IdempotencyError, IdempotencyStoreError } from '@idemkit/core';

/** The store name errors carry: `[idemkit] [postgres] …`. */
export const STORE_NAME = 'postgres';

/** Where a failure happened, for the message. */
export interface FailureContext {
  /** The store operation, e.g. `claim`. */
  operation: string;
  /** The quoted, qualified table, e.g. `"public"."idemkit_records"`. */
  table: string;
}

// SQLSTATE classes where the same delivery can succeed later: connection exceptions (08),
// transaction rollbacks such as deadlocks and serialization failures (40), insufficient
// resources (53), lock not available (55), operator intervention such as statement timeouts
// and shutdowns (57), system errors (58), and an aborted surrounding transaction (25).
const RETRYABLE_CLASSES = new Set(['08', '25', '40', '53', '55', '57', '58']);

// Driver and socket failures carry a Node error code instead of a SQLSTATE.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * Wraps whatever `pg` threw into an {@link IdempotencyStoreError} with the original as `cause`,
 * a message that says what to do, and `retryable` set from the SQLSTATE.
 */
export function toStoreError(error: unknown, context: FailureContext): IdempotencyError {
  if (error instanceof IdempotencyError) return error;
  const code = errorCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  const during = `during ${context.operation}`;

  if (code === '42P01' || code === '3F000' || code === '42883') {
    return new IdempotencyStoreError(
      STORE_NAME,
      `table ${context.table} (or its sequence, versions table or claim function) does not exist — call store.migrate() once, ` +
        `or run the DDL in @idemkit/postgres/sql/schema.sql (schemaSql() for other names) ${during}: ${detail}`,
      { cause: error, retryable: false },
    );
  }
  if (code === '42703' || code === '42P10') {
    return new IdempotencyStoreError(
      STORE_NAME,
      `table ${context.table} does not have the shape this release needs — it was made by another release or not by ` +
        `migrate(); call store.migrate(), or compare it with @idemkit/postgres/sql/schema.sql ${during}: ${detail}`,
      { cause: error, retryable: false },
    );
  }
  if (code === '0A000') {
    return new IdempotencyStoreError(
      STORE_NAME,
      `${context.operation} needs READ COMMITTED (the default isolation level); run it outside REPEATABLE READ and SERIALIZABLE transactions: ${detail}`,
      { cause: error, retryable: false },
    );
  }
  if (code === '57014') {
    return new IdempotencyStoreError(
      STORE_NAME,
      `statement timed out or was cancelled ${during} (57014); retry the delivery: ${detail}`,
      { cause: error, retryable: true },
    );
  }
  if (code === undefined || NETWORK_CODES.has(code)) {
    return new IdempotencyStoreError(STORE_NAME, `cannot reach PostgreSQL ${during}: ${detail}`, {
      cause: error,
      retryable: true,
    });
  }
  const sqlState = /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  return new IdempotencyStoreError(STORE_NAME, `${context.operation} failed (${code}): ${detail}`, {
    cause: error,
    retryable: sqlState === undefined || RETRYABLE_CLASSES.has(sqlState.slice(0, 2)),
  });
}

/** The SQLSTATE (`pg` errors) or Node error code, looking into an `AggregateError` from a multi-address connect. */
function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.length > 0) return code;
  const inner = (error as { errors?: unknown }).errors;
  if (Array.isArray(inner)) return inner.map(errorCode).find((found) => found !== undefined);
  return undefined;
}
