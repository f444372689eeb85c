import type { BatchItem } from '@idemkit/core';
import type { SqsBodyMode } from '../config.js';
import { MalformedRecordError } from '../errors.js';
import type { SqsRecordLike } from '../types.js';

/**
 * Turns one SQS record into a batch item: its body as an EventBridge event, or a `readError`
 * (a {@link MalformedRecordError}) when the body is not a JSON object. `auto` takes a body with
 * a `detail` member and a string `detail-type` as the envelope, anything else as its `detail`;
 * a detail is wrapped as `{ id: <messageId>, detail }` so `detail.*` paths read it.
 */
export function readRecord<TEvent>(record: SqsRecordLike | null | undefined, mode: SqsBodyMode): BatchItem<TEvent> {
  // SQS always sets both; a record without them (a hand-made event, a broken proxy) fails alone.
  if (typeof record !== 'object' || record === null) {
    return { id: '', readError: new MalformedRecordError('(none)', `is ${record === null ? 'null' : typeof record}, expected an SQS record`) };
  }
  const id = typeof record.messageId === 'string' ? record.messageId : '';
  if (id === '') return { id, readError: new MalformedRecordError('(none)', 'has no messageId') };
  if (typeof record.body !== 'string') {
    return { id, readError: new MalformedRecordError(id, record.body === undefined ? 'has no body' : `has a ${typeof record.body} body, expected JSON text`) };
  }
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch (error) {
    // The parser's message quotes the body, and payloads stay out of messages and logs.
    return { id, readError: new MalformedRecordError(id, `is not valid JSON (${record.body.length} characters)`, { cause: error }) };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const kind = body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`;
    return { id, readError: new MalformedRecordError(id, `is JSON ${kind}, expected an object`) };
  }
  const envelope = mode === 'envelope' || (mode === 'auto' && isEnvelope(body));
  const event = envelope ? body : { id, detail: body };
  return { id, event: event as TEvent };
}

function isEnvelope(body: object): boolean {
  return Object.hasOwn(body, 'detail') && typeof (body as Record<string, unknown>)['detail-type'] === 'string';
}

/** Whether the batch comes from a FIFO queue (its ARN ends in `.fifo`), which must keep order. */
export function isFifoBatch(records: readonly SqsRecordLike[]): boolean {
  return records.some((record) => record.eventSourceARN?.endsWith('.fifo') === true);
}
