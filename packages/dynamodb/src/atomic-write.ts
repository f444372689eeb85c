import { TransactWriteItemsCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyStoreError } from '@idemkit/core';
import { isConditionalCheckFailed, isItemTooLarge, transactionReasons } from './errors.js';
import type { ConditionalUpdate } from './expressions.js';
import type { Item } from './marshal.js';

/** How one update of an atomic write fared when the write as a whole did not apply. */
export type UpdateVerdict =
  /** Its condition held; the write failed for another update's sake. */
  | { kind: 'passed' }
  /** Its condition failed; `item` is the item as it was (absent: there was none). */
  | { kind: 'failed'; item: Item | undefined }
  /** Another transaction touched the item at the same moment (TransactionConflict): unknown. */
  | { kind: 'conflict' };

/** Applied, or not applied with a verdict per update (in the order given). */
export type WriteResult = { applied: true } | { applied: false; verdicts: UpdateVerdict[] };

/** Thrown (and caught by the store) when DynamoDB refuses an update because the item would pass 400 KB. */
export class ItemTooLargeError extends Error {
  override readonly name = 'ItemTooLargeError';
  constructor(readonly index: number, options?: ErrorOptions) {
    super('the item would exceed 400 KB', options);
  }
}

/**
 * Applies conditional updates of distinct items all together or not at all: one `UpdateItem` for
 * one update, one `TransactWriteItems` for more. Either way a failed condition returns the item as
 * it was (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), in the same round trip.
 * @throws the SDK's error for anything but a failed condition or a transaction conflict.
 */
export async function writeAtomically(client: DynamoDBClient, updates: readonly ConditionalUpdate[]): Promise<WriteResult> {
  if (updates.length === 1) {
    try {
      await client.send(new UpdateItemCommand({ ...updates[0]!, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
      return { applied: true };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { applied: false, verdicts: [{ kind: 'failed', item: error.Item }] };
      if (isItemTooLarge(error)) throw new ItemTooLargeError(0, { cause: error });
      throw error;
    }
  }
  try {
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: updates.map((update) => ({ Update: { ...update, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } })),
      }),
    );
    return { applied: true };
  } catch (error) {
    const reasons = transactionReasons(error);
    if (reasons === undefined) throw error;
    const verdicts = reasons.map((reason, index): UpdateVerdict => {
      switch (reason.Code) {
        case 'None':
          return { kind: 'passed' };
        case 'ConditionalCheckFailed':
          return { kind: 'failed', item: reason.Item };
        case 'TransactionConflict':
          return { kind: 'conflict' };
        default:
          if (reason.Code === 'ValidationError' && /size/i.test(reason.Message ?? '')) throw new ItemTooLargeError(index, { cause: error });
          throw cancelled(error, updates[index]!.TableName, reason.Code ?? 'unknown', reason.Message);
      }
    });
    return { applied: false, verdicts };
  }
}

const THROTTLED_REASONS = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

/** A transaction cancelled for a reason that is a store failure, not an answer (throttling, validation). */
function cancelled(error: unknown, tableName: string, code: string, message: string | undefined): IdempotencyStoreError {
  const throttled = THROTTLED_REASONS.has(code);
  return new IdempotencyStoreError(
    'dynamodb',
    throttled
      ? `a transaction on table "${tableName}" was throttled (${code}); retry later or raise the table's capacity`
      : `a transaction on table "${tableName}" was cancelled: ${code}${message === undefined ? '' : `: ${message}`}`,
    { cause: error, retryable: throttled },
  );
}
