import { IdempotencyResultTooLargeError } from '../errors.js';

/** What to do with a result the store cannot hold. */
export type OversizePolicy = 'error' | 'skip';

/** A result made ready for the store, and whether it had to be dropped for size. */
export interface EncodedResult {
  text: string | undefined;
  oversize?: IdempotencyResultTooLargeError;
}

/** Encodes a handler's result as JSON text, enforcing the store's size limit without ever truncating. */
export function encodeResult(
  key: string,
  result: unknown,
  policy: { store: boolean; maxBytes: number | undefined },
): EncodedResult {
  if (!policy.store || result === undefined) return { text: undefined };
  const text = JSON.stringify(result);
  if (text === undefined) return { text: undefined };
  const bytes = Buffer.byteLength(text, 'utf8');
  if (policy.maxBytes !== undefined && bytes > policy.maxBytes) {
    return { text: undefined, oversize: new IdempotencyResultTooLargeError(key, bytes, policy.maxBytes) };
  }
  return { text };
}

/** Decodes a stored result; a record without one decodes to undefined. */
export function decodeResult(text: string | undefined): unknown {
  return text === undefined || text === '' ? undefined : JSON.parse(text);
}
