import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { IdempotencyResultTooLargeError, IdempotencyStoreError, type ClaimRequest } from '@idemkit/core';
import { manualClock } from '@idemkit/core/testing';
import { DynamoDBStore } from '../src/index.js';
import { itemBytes, MAX_ITEM_BYTES } from '../src/item-size.js';
import { useTable } from './helpers.js';

// A key's item holds every live occurrence with its stored result, within DynamoDB's 400 KB.
// These tests hold DynamoDB's item-size rules (item-size.ts) against
// DynamoDB Local's own accounting, and check what happens when the item is full.

const table = useTable('item-limits');
const { client } = table;

const rawItem = async (key: string) =>
  (await client.send(new GetItemCommand({ TableName: table.tableName, Key: { id: { S: key } }, ConsistentRead: true }))).Item!;
/** Keys of one length, so two of them make byte-identical items (nonces are fixed-length too). */
const sameLengthKey = () => `limit:${randomUUID()}`;
const windowed = (key: string, at: number): ClaimRequest => ({
  key,
  leaseMs: 10_000,
  retentionMs: 60_000,
  fingerprint: 'f'.repeat(43),
  owner: randomUUID(),
  window: { at, windowMs: 1_000 },
});

/**
 * A key with two completed occurrences: the first's result 250,000 bytes, the second's `second`
 * bytes. Made at one frozen instant, so two such items differ only in the key and nonces (both
 * fixed-length) and in the second result.
 */
async function twoOccurrences(store: DynamoDBStore, second: number) {
  const key = sameLengthKey();
  const first = (await store.claim(windowed(key, 1_000))).record.fencingToken;
  await store.complete({ key, fencingToken: first, result: 'a'.repeat(250_000), retentionMs: 60_000 });
  const token = (await store.claim(windowed(key, 5_000))).record.fencingToken;
  const completion = store.complete({ key, fencingToken: token, result: 'r'.repeat(second), retentionMs: 60_000 });
  return { key, token, completion: completion.then(() => undefined, (error: unknown) => error) };
}

/** The bytes left in a two-occurrence item whose second result is empty, by DynamoDB's rules. */
async function roomBeside(store: DynamoDBStore): Promise<number> {
  const twin = await twoOccurrences(store, 0);
  expect(await twin.completion).toBeUndefined();
  return MAX_ITEM_BYTES - itemBytes(await rawItem(twin.key));
}

describe('the 400 KB item limit', () => {
  it('item sizes follow DynamoDB to the byte: a result that fills the item to 409,600 bytes fits, one byte more does not', async () => {
    const clock = manualClock(1_800_000_000_000);
    const store = new DynamoDBStore({ client, tableName: table.tableName, clock: clock.now });
    const room = await roomBeside(store);
    const exact = await twoOccurrences(store, room);
    expect(await exact.completion).toBeUndefined();
    expect(itemBytes(await rawItem(exact.key))).toBe(MAX_ITEM_BYTES);

    const over = await twoOccurrences(store, room + 1);
    expect(await over.completion).toBeInstanceOf(IdempotencyResultTooLargeError);
    expect(await store.get(over.key, over.token)).toMatchObject({ status: 'in_progress' });
  });

  it("a windowed key's live occurrences share the 400 KB: a result that does not fit beside them is refused, and the claim can complete without it", async () => {
    const store = new DynamoDBStore({ client, tableName: table.tableName });
    const key = sameLengthKey();
    const first = (await store.claim(windowed(key, 1_000))).record.fencingToken;
    await store.complete({ key, fencingToken: first, result: JSON.stringify('a'.repeat(250_000)), retentionMs: 60_000 });
    const second = (await store.claim(windowed(key, 9_000))).record.fencingToken;
    const result = JSON.stringify('b'.repeat(200_000));
    expect(result.length).toBeLessThan(store.maxResultBytes);
    const error = await store.complete({ key, fencingToken: second, result, retentionMs: 60_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyResultTooLargeError);
    expect((error as IdempotencyResultTooLargeError).maxBytes).toBeLessThan(result.length);
    // What the engine does with onOversizeResult: 'skip': complete without the result.
    await store.complete({ key, fencingToken: second, retentionMs: 60_000 });
    expect(await store.get(key, second)).toMatchObject({ status: 'completed' });
    expect((await store.get(key, first))?.result).toHaveLength(250_002);
  });

  it('a claim on a full item prunes expired occurrences to make room, and says why when none has expired', async () => {
    const clock = manualClock(1_800_000_000_000);
    const store = new DynamoDBStore({ client, tableName: table.tableName, clock: clock.now });
    // Filled to 20 bytes short of the limit: too little for another occurrence.
    const { key, completion } = await twoOccurrences(store, (await roomBeside(store)) - 20);
    expect(await completion).toBeUndefined();

    const error = await store.claim(windowed(key, 50_000)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).toMatch(/no room for another occurrence/);

    clock.advance(60_000);
    const after = await store.claim(windowed(key, 50_000));
    expect(after.acquired).toBe(true);
    expect(Object.keys(await rawItem(key)).filter((name) => name.startsWith('@'))).toEqual(['@50']);
    expect(itemBytes(await rawItem(key))).toBeLessThan(1_000);
  });
});
