import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyStoreError, type ClaimRequest } from '@idemkit/core';
import { DynamoDBStore } from '../src/index.js';
import { loseReplies, throttle, writeOf } from './faults.js';
import { recordRequests, useTable } from './helpers.js';

// Issue 11 item 3: a claimMany is one conditional write per item, so one of them can fail
// (throttling, network) after others landed. The store's answer: a failed batch leaves nothing
// claimed — it sends no further item, releases every claim it made (fenced by their tokens, and
// found by their nonce when the reply was lost) and throws — so the redelivered batch runs.

const table = useTable('batch-failures');
let observer: DynamoDBStore;

beforeAll(() => {
  observer = new DynamoDBStore({ client: table.client, tableName: table.tableName });
});

const newClient = (maxAttempts: number) => table.newClient({ maxAttempts });
const claimOf = (key: string, overrides: Partial<ClaimRequest> = {}): ClaimRequest => ({ key, leaseMs: 60_000, retentionMs: 600_000, ...overrides });
const keys = (count: number) => Array.from({ length: count }, (_, i) => `batch-fail:${randomUUID()}:${i}`);
const claimsOf = writeOf;

async function heldKeys(batch: readonly string[]): Promise<string[]> {
  const records = await Promise.all(batch.map((key) => observer.get(key)));
  return batch.filter((_, i) => records[i] !== undefined);
}

describe('claimMany when one request fails', () => {
  it('a throttled item fails the batch, the items that landed are released, and the redelivery acquires them all', async () => {
    const batch = keys(5);
    const client = newClient(2);
    const faults = throttle(client, claimsOf(batch[2]!));
    const store = new DynamoDBStore({ client, tableName: table.tableName, concurrency: 5 });
    const error = await store.claimMany(batch.map((key) => claimOf(key))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect((error as IdempotencyStoreError).retryable).toBe(true);
    expect((error as Error).message).toMatch(/throttled \(ThrottlingException\)/);
    expect(faults.throttled()).toBe(2);
    expect(await heldKeys(batch)).toEqual([]);
    const redelivery = await observer.claimMany(batch.map((key) => claimOf(key)));
    expect(redelivery.map((outcome) => outcome.acquired)).toEqual([true, true, true, true, true]);
  });

  it('sends no item after the failure', async () => {
    const batch = keys(4);
    const client = newClient(1);
    const requests = recordRequests(client);
    throttle(client, claimsOf(batch[1]!));
    const store = new DynamoDBStore({ client, tableName: table.tableName, concurrency: 1 });
    await expect(store.claimMany(batch.map((key) => claimOf(key)))).rejects.toBeInstanceOf(IdempotencyStoreError);
    const claimed = requests.sent.filter((request) => request.command === 'UpdateItemCommand').map((request) => request.key);
    // batch[0] claimed then released, batch[1] throttled; batch[2] and batch[3] never sent.
    expect(claimed).toEqual([batch[0], batch[1], batch[0]]);
    expect(await heldKeys(batch)).toEqual([]);
  });

  it('a claim that landed but whose reply was lost (the SDK gave up) is found by its nonce and released', async () => {
    const batch = keys(3);
    const client = newClient(1);
    const faults = loseReplies(client, claimsOf(batch[1]!));
    const store = new DynamoDBStore({ client, tableName: table.tableName });
    await expect(store.claimMany(batch.map((key) => claimOf(key)))).rejects.toBeInstanceOf(IdempotencyStoreError);
    expect(faults.lost()).toBe(1);
    expect(await heldKeys(batch)).toEqual([]);
  });

  it('a throttled transaction (an item with several identities) releases the other items and claims none of its own', async () => {
    const [plain, id, state] = keys(3) as [string, string, string];
    const client = newClient(1);
    throttle(client, (sent) => sent.command === 'TransactWriteItemsCommand');
    const store = new DynamoDBStore({ client, tableName: table.tableName });
    await expect(store.claimMany([claimOf(plain), claimOf(id, { also: [{ key: state }] })])).rejects.toBeInstanceOf(IdempotencyStoreError);
    expect(await heldKeys([plain, id, state])).toEqual([]);
  });

  it('releases only its own claims: a claim someone else holds stays', async () => {
    const [mine, theirs] = keys(2) as [string, string];
    const held = await observer.claim(claimOf(theirs));
    const client = newClient(1);
    throttle(client, writeOf(mine));
    const store = new DynamoDBStore({ client, tableName: table.tableName });
    await expect(store.claimMany([claimOf(theirs), claimOf(mine)])).rejects.toBeInstanceOf(IdempotencyStoreError);
    expect(await observer.get(theirs)).toMatchObject({ status: 'in_progress', fencingToken: held.record.fencingToken });
  });
});
