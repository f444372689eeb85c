import { IdempotencyResultEncodingError, IdempotencyResultTooLargeError } from '../errors.js';

/** What to do with a result the store cannot hold (too large, or not encodable as JSON). */
export type OversizePolicy = 'error' | 'skip';

/** A result made ready for the store, and why it had to be dropped, if it was. */
export interface EncodedResult {
  text: string | undefined;
  /** Why the result is not stored although the handler returned one. */
  oversize?: IdempotencyResultTooLargeError | IdempotencyResultEncodingError;
}

/**
 * Encodes a handler's result as JSON text, enforcing the store's size limit without ever
 * truncating. Never throws: the handler has already run, so a result that cannot be encoded
 * must still let the claim complete.
 */
export function encodeResult(
  key: string,
  result: unknown,
  policy: { store: boolean; maxBytes: number | undefined },
): EncodedResult {
  if (!policy.store || result === undefined) return { text: undefined };
  let text: string | undefined;
  try {
    text = JSON.stringify(result);
  } catch (error) {
    // BigInt, a circular object, or nesting deeper than the stack: the effect happened regardless.
    return { text: undefined, oversize: new IdempotencyResultEncodingError(key, { cause: error }) };
  }
  if (text === undefined) return { text: undefined };
  // A UTF-16 code unit is at most 3 bytes of UTF-8: most results cannot reach the limit, and are not counted.
  if (policy.maxBytes === undefined || text.length * 3 <= policy.maxBytes) return { text };
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > policy.maxBytes) {
    return { text: undefined, oversize: new IdempotencyResultTooLargeError(key, bytes, policy.maxBytes) };
  }
  return { text };
}

/** Decodes a stored result; a record without one decodes to undefined. */
export function decodeResult(text: string | undefined): unknown {
  return text === undefined || text === '' ? undefined : JSON.parse(text);
}
