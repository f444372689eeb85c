import { KeyExtractionError } from '@idemkit/core';

/**
 * Adds the likely cause to a key error of {@link makeIdempotent}: an SQS batch handed to the
 * EventBridge wrapper has none of the event's fields, so every key path is "missing"; the fix is
 * `makeIdempotentSqs`, not the strategy. Anything else is returned as it is.
 */
export function withBatchHint(error: unknown, event: unknown): unknown {
  if (!(error instanceof KeyExtractionError) || !isSqsBatch(event)) return error;
  const hinted = new KeyExtractionError(
    error.path,
    `${problemOf(error)}: this event is an SQS batch (Records from "aws:sqs"), not an EventBridge event; ` +
      'wrap the handler with makeIdempotentSqs, which keys each record by the event in its body',
    error.eventId,
  );
  hinted.cause = error;
  return hinted;
}

function isSqsBatch(event: unknown): boolean {
  const records = (event as { Records?: unknown } | null)?.Records;
  return Array.isArray(records) && records.some((record) => (record as { eventSource?: unknown } | null)?.eventSource === 'aws:sqs');
}

// The message reads `[idemkit] cannot build a key: "<path>" <problem>[ (event id …)]`.
function problemOf(error: KeyExtractionError): string {
  const prefix = `[idemkit] cannot build a key: "${error.path}" `;
  const problem = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : 'cannot be read';
  return problem.replace(/ \(event id [^)]*\)$/, '');
}
