import { sha256Base64url } from './internal/hash.js';
import type { IdempotencyRecord } from './store/types.js';

/**
 * How a key appears in error messages: a short hash (`#` + 16 characters of SHA-256), since keys
 * are raw field values (emails, phone numbers) and error messages end up in logs. The raw key stays
 * on the error's `key` property for code that needs it. The same form idemkit's log lines use.
 */
export function keyInMessage(key: string): string {
  return `#${sha256Base64url(key).slice(0, 16)}`;
}

/** Stable, machine-readable error codes; one per error class. */
export type IdempotencyErrorCode =
  | 'IDEMPOTENCY_ERROR'
  | 'CONFIG_ERROR'
  | 'KEY_EXTRACTION_ERROR'
  | 'IN_PROGRESS'
  | 'KEY_CONFLICT'
  | 'LEASE_LOST'
  | 'STORE_ERROR'
  | 'RESULT_TOO_LARGE'
  | 'RESULT_UNENCODABLE';

/** Options every idemkit error accepts. */
export interface IdempotencyErrorOptions {
  /** The underlying error, kept for logs and debuggers. */
  cause?: unknown;
}

/**
 * Root of idemkit's error hierarchy: catch this to handle every idemkit failure.
 * Each subclass sets a stable {@link IdempotencyError.code} and a `name`.
 */
export class IdempotencyError extends Error {
  /** Stable code to branch on; does not change between versions. */
  readonly code: IdempotencyErrorCode = 'IDEMPOTENCY_ERROR';
  /** Whether retrying the same delivery later can succeed. */
  readonly retryable: boolean = false;

  constructor(message: string, options: IdempotencyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IdempotencyError';
  }
}

/** Configuration is invalid; {@link ConfigError.field} names the offending field. */
export class ConfigError extends IdempotencyError {
  override readonly code = 'CONFIG_ERROR';

  constructor(
    /** Dotted path of the bad field in the configuration, e.g. `of[1].windowMs`. */
    readonly field: string,
    problem: string,
    options: IdempotencyErrorOptions = {},
  ) {
    super(`[idemkit] invalid config at "${field}": ${problem}`, options);
    this.name = 'ConfigError';
  }
}

/** An event lacks the field a strategy keys on, or the field has the wrong type. */
export class KeyExtractionError extends IdempotencyError {
  override readonly code = 'KEY_EXTRACTION_ERROR';
  /** The event field that could not be read (the same as {@link KeyExtractionError.path}), so key and config errors both name theirs in `field`. */
  readonly field: string;

  constructor(
    /** The event path that could not be read, e.g. `detail.conversationId`. */
    readonly path: string,
    problem: string,
    /** The EventBridge envelope id of the event, when it has one. */
    readonly eventId?: string,
  ) {
    super(
      `[idemkit] cannot build a key: "${path}" ${problem}` +
        (eventId === undefined ? '' : ` (event id ${eventId})`),
    );
    this.field = path;
    this.name = 'KeyExtractionError';
  }
}

/** Another delivery holds a live claim on this key; retry later. */
export class IdempotencyInProgressError extends IdempotencyError {
  override readonly code = 'IN_PROGRESS';
  override readonly retryable = true;

  constructor(
    readonly key: string,
    /** The record that holds the claim. */
    readonly record: IdempotencyRecord,
  ) {
    super(`[idemkit] key ${keyInMessage(key)} is being processed by another delivery; retry later`);
    this.name = 'IdempotencyInProgressError';
  }
}

/** Same key, different payload fingerprint, with `payloadMismatch: 'error'`. */
export class IdempotencyKeyConflictError extends IdempotencyError {
  override readonly code = 'KEY_CONFLICT';

  constructor(
    readonly key: string,
    readonly storedFingerprint: string | undefined,
    readonly fingerprint: string | undefined,
  ) {
    super(
      `[idemkit] key ${keyInMessage(key)} was already used for a different payload ` +
        `(stored fingerprint ${storedFingerprint ?? 'none'}, this one ${fingerprint ?? 'none'})`,
    );
    this.name = 'IdempotencyKeyConflictError';
  }
}

/** The fencing token is no longer current: the claim lapsed and was taken over, or was released. */
export class LeaseLostError extends IdempotencyError {
  override readonly code = 'LEASE_LOST';

  constructor(
    readonly key: string,
    readonly fencingToken: number,
    /** The record that now holds the key, if any. */
    readonly current?: IdempotencyRecord,
  ) {
    super(
      `[idemkit] fencing token ${fencingToken} for key ${keyInMessage(key)} is no longer current` +
        (current === undefined ? ' (the claim is gone)' : ` (current token ${current.fencingToken})`),
    );
    this.name = 'LeaseLostError';
  }
}

/** The store failed or could not be reached. */
export class IdempotencyStoreError extends IdempotencyError {
  override readonly code = 'STORE_ERROR';
  override readonly retryable: boolean;

  constructor(
    /** Which store failed, e.g. `redis`. */
    readonly store: string,
    message: string,
    options: IdempotencyErrorOptions & { retryable?: boolean } = {},
  ) {
    super(`[idemkit] [${store}] ${message}`, options);
    this.name = 'IdempotencyStoreError';
    this.retryable = options.retryable ?? true;
  }
}

/** A result's JSON is larger than the store accepts, with `onOversizeResult: 'error'`. */
export class IdempotencyResultTooLargeError extends IdempotencyError {
  override readonly code = 'RESULT_TOO_LARGE';

  constructor(
    readonly key: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(
      `[idemkit] result for key ${keyInMessage(key)} is ${bytes} bytes; the store accepts ${maxBytes}. ` +
        `Return less, or set onOversizeResult: 'skip' to keep the claim without the result`,
    );
    this.name = 'IdempotencyResultTooLargeError';
  }
}

/**
 * A handler's result could not be encoded as JSON (a BigInt, a circular object, nesting too deep),
 * with `onOversizeResult: 'error'`. The side effect ran and the claim was completed without a
 * stored result, so a redelivery is still a duplicate; duplicates return undefined.
 */
export class IdempotencyResultEncodingError extends IdempotencyError {
  override readonly code = 'RESULT_UNENCODABLE';

  constructor(
    readonly key: string,
    options: IdempotencyErrorOptions = {},
  ) {
    super(
      `[idemkit] the handler ran, but its result for key ${keyInMessage(key)} cannot be stored as JSON ` +
        `(${options.cause instanceof Error ? options.cause.message : String(options.cause)}); ` +
        `the claim was completed without it. Return plain JSON data, or set onOversizeResult: 'skip'`,
      options,
    );
    this.name = 'IdempotencyResultEncodingError';
  }
}
