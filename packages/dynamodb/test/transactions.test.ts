import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IdempotencyStoreError, type ClaimRequest } from '@idemkit/core';
import { DynamoDBStore } from '../src/index.js';
import { useTable } from './helpers.js';

// Cancellation reasons DynamoDB Local does not produce (it serialises transactions): a
// TransactionConflict is retried, a throttled action is a retryable store error. Injected as
// middleware that answers the first transaction itself instead of sending it.

const table = useTable('transactions');

/** A store whose first `times` transactions are cancelled with `codes` (one per action) without reaching DynamoDB. */
function cancelling(codes: string[], times = 1) {
  const client = table.newClient();
  let cancelled = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'TransactWriteItemsCommand' || cancelled >= times) return next(args);
      cancelled += 1;
      throw Object.assign(new Error(`Transaction cancelled [${codes.join(', ')}]`), {
        name: 'TransactionCanceledException',
        CancellationReasons: codes.map((Code) => ({ Code })),
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    },
    { step: 'deserialize', name: 'cancelTransactions', priority: 'low' },
  );
  return { store: new DynamoDBStore({ client, tableName: table.tableName }), cancelled: () => cancelled };
}

const anyOf = (): ClaimRequest => ({ key: `tx:${randomUUID()}`, leaseMs: 10_000, retentionMs: 60_000, also: [{ key: `tx:${randomUUID()}` }] });

describe('cancelled transactions', () => {
  it('a TransactionConflict is retried, and the claim then acquires', async () => {
    const { store, cancelled } = cancelling(['TransactionConflict', 'None'], 2);
    const outcome = await store.claim(anyOf());
    expect(cancelled()).toBe(2);
    expect(outcome.acquired).toBe(true);
  });

  it('a throttled action is a retryable store error naming the table', async () => {
    const { store } = cancelling(['None', 'ThrottlingError']);
    const error = await store.claim(anyOf()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).toContain(`a transaction on table "${table.tableName}" was throttled (ThrottlingError)`);
  });

  it('a conflict on every round gives up with a retryable store error', async () => {
    const { store } = cancelling(['TransactionConflict', 'TransactionConflict'], 100);
    const error = await store.claim(anyOf()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error).toMatchObject({ retryable: true });
  });
});
