import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyResultTooLargeError } from '@idemkit/core';
import { DynamoDBStore } from '../src/index.js';
import { recordRequests, useTable } from './helpers.js';

// DynamoDB Local enforces the real 400 KB item limit (names + values, UTF-8), so these tests
// check the store's arithmetic against the server, not against itself.

const layout = { partitionKey: 'pk', sortKey: { name: 'sk', value: 'idem' } };
const table = useTable('sizes', layout);
const { client } = table;
const requests = recordRequests(client);
let store: DynamoDBStore;

beforeAll(() => {
  store = new DynamoDBStore({ client, tableName: table.tableName, ...layout });
});

async function claimed(key: string, fingerprint?: string): Promise<number> {
  const outcome = await store.claim({ key, leaseMs: 10_000, retentionMs: 60_000, fingerprint, window: { at: Date.now(), windowMs: 500 } });
  if (!outcome.acquired) throw new Error('expected to acquire');
  return outcome.fencingToken;
}

/** A JSON string literal of exactly `bytes` UTF-8 bytes. */
const jsonOfBytes = (bytes: number, filler = 'r') => JSON.stringify(filler.repeat(bytes - 2));

describe('results near the 400 KB item limit', () => {
  it('exposes maxResultBytes: under 400 KB, and enough for 395 KB whatever the key', () => {
    expect(store.maxResultBytes).toBeLessThan(400 * 1024);
    expect(store.maxResultBytes).toBeGreaterThan(395 * 1024);
  });

  it('a result of maxResultBytes fits with the longest key DynamoDB accepts and the largest fingerprint allowed for', async () => {
    const key = `${randomUUID()}:`.padEnd(2048, 'k');
    // 256 bytes: the room complete() keeps for a fingerprint it cannot see (64 for SHA-256 hex).
    const token = await claimed(key, 'f'.repeat(256));
    const result = jsonOfBytes(store.maxResultBytes);
    await store.complete({ key, fencingToken: token, result, retentionMs: 60_000 });
    expect((await store.get(key))?.result).toBe(result);
  });

  it('one byte more is refused before any request, with a clear error', async () => {
    const key = `${randomUUID()}:`.padEnd(2048, 'k');
    const token = await claimed(key);
    requests.reset();
    const bytes = store.maxResultBytes + 1;
    const error = await store
      .complete({ key, fencingToken: token, result: jsonOfBytes(bytes), retentionMs: 60_000 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyResultTooLargeError);
    expect(error).toMatchObject({ key, bytes, maxBytes: store.maxResultBytes });
    expect(requests.sent).toEqual([]);
    expect(await store.get(key)).toMatchObject({ status: 'in_progress', fencingToken: token });
  });

  it('counts UTF-8 bytes, not characters', async () => {
    const key = `size:${randomUUID()}`;
    const token = await claimed(key);
    // '€' is 3 bytes: this result has a third as many characters as the limit allows bytes.
    const characters = Math.floor(store.maxResultBytes / 3) + 1000;
    const error = await store
      .complete({ key, fencingToken: token, result: JSON.stringify('€'.repeat(characters)), retentionMs: 60_000 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyResultTooLargeError);
    expect((error as IdempotencyResultTooLargeError).bytes).toBe(characters * 3 + 2);
  });

  it('a short key leaves room for more than maxResultBytes', async () => {
    const key = `size:${randomUUID()}`;
    const token = await claimed(key);
    const result = jsonOfBytes(store.maxResultBytes + 1_500);
    await store.complete({ key, fencingToken: token, result, retentionMs: 60_000 });
    expect((await store.get(key))?.result).toBe(result);
  });

  it('when DynamoDB itself finds the item too large (an outsized fingerprint), the error is the same', async () => {
    const key = `size:${randomUUID()}`;
    const token = await claimed(key, 'f'.repeat(8_000));
    requests.reset();
    const error = await store
      .complete({ key, fencingToken: token, result: jsonOfBytes(store.maxResultBytes), retentionMs: 60_000 })
      .catch((caught: unknown) => caught);
    expect(requests.sent.map((request) => request.command)).toEqual(['UpdateItemCommand']);
    expect(error).toBeInstanceOf(IdempotencyResultTooLargeError);
    const { bytes, maxBytes } = error as IdempotencyResultTooLargeError;
    expect(maxBytes).toBeLessThan(bytes);
    expect(await store.get(key)).toMatchObject({ status: 'in_progress', fencingToken: token });
  });
});
