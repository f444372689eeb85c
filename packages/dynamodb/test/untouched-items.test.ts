import { randomUUID } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LeaseLostError } from '@idemkit/core';
import { manualClock } from '@idemkit/core/testing';
import { DynamoDBStore } from '../src/index.js';
import { recordRequests, useTable } from './helpers.js';

// A holder write for an unwindowed claim this store made is conditioned on the item's counter
// alone while the store knows the item untouched since its claim (the counter still the token).
// These tests check both sides: the cheap condition is used where it is safe, and every write
// another store object (another Lambda instance) made since is caught by it and judged from the
// returned item as the fields' condition would have been.

const table = useTable('untouched');
const { client } = table;
const requests = recordRequests(client);
const clock = manualClock(1_800_000_000_000);
let store: DynamoDBStore;
/** Another instance on the same table, with its own client and memory. */
let other: DynamoDBStore;

beforeAll(() => {
  store = new DynamoDBStore({ client, tableName: table.tableName, clock: clock.now });
  other = new DynamoDBStore({ client: table.newClient(), tableName: table.tableName, clock: clock.now });
});
beforeEach(() => requests.reset());

const claimOf = (key: string) => ({ key, leaseMs: 10_000, retentionMs: 60_000 });
const newKey = () => `untouched:${randomUUID()}`;
const PINNED = '#fence = :f';
/** The conditions of the requests sent since the last reset. */
const conditions = () => requests.sent.map((request) => request.condition);

describe('holder writes on an item untouched since this store claimed it', () => {
  it('a completion is one UpdateItem conditioned on the counter alone, and completes', async () => {
    const key = newKey();
    const { record } = await store.claim(claimOf(key));
    requests.reset();
    await store.complete({ key, fencingToken: record.fencingToken, result: '"sent"', retentionMs: 60_000 });
    expect(conditions()).toEqual([PINNED]);
    expect(await store.get(key)).toMatchObject({ status: 'completed', fencingToken: record.fencingToken, result: '"sent"' });
    // The counter moved: a new claim is refused by the completed occurrence, not mistaken for a free key.
    expect(await other.claim(claimOf(key))).toMatchObject({ acquired: false, record: { status: 'completed' } });
  });

  it('a release is one UpdateItem conditioned on the counter alone, and frees the key', async () => {
    const key = newKey();
    const { record } = await store.claim(claimOf(key));
    requests.reset();
    expect(await store.release(key, record.fencingToken)).toBe(true);
    expect(conditions()).toEqual([PINNED]);
    expect((await other.claim(claimOf(key))).acquired).toBe(true);
  });

  it('after its own lease extension, a completion is conditioned on the fields, still one request', async () => {
    const key = newKey();
    const { record } = await store.claim(claimOf(key));
    await store.extendLease({ key, fencingToken: record.fencingToken, leaseMs: 20_000 });
    requests.reset();
    await store.complete({ key, fencingToken: record.fencingToken, result: '1', retentionMs: 60_000 });
    expect(requests.sent).toHaveLength(1);
    expect(conditions()[0]).not.toBe(PINNED);
    expect((await store.get(key))?.status).toBe('completed');
  });

  it('a windowed claim is never pinned: a neighbouring window moves the counter while it holds', async () => {
    const key = newKey();
    const at = 1_800_000_000_000;
    const { record } = await store.claim({ ...claimOf(key), window: { at, windowMs: 500 } });
    // An occurrence one window later, claimed by another instance, writes the same item.
    expect((await other.claim({ ...claimOf(key), window: { at: at + 500, windowMs: 500 } })).acquired).toBe(true);
    requests.reset();
    await store.complete({ key, fencingToken: record.fencingToken, result: '1', retentionMs: 60_000 });
    expect(requests.sent).toHaveLength(1);
    expect(conditions()[0]).not.toBe(PINNED);
  });
});

describe('holder writes after another instance wrote the item', () => {
  it('its lease extension: the pinned completion fails, and is written from the returned item', async () => {
    const key = newKey();
    const { record } = await store.claim(claimOf(key));
    await other.extendLease({ key, fencingToken: record.fencingToken, leaseMs: 30_000 });
    requests.reset();
    await store.complete({ key, fencingToken: record.fencingToken, result: '"once"', retentionMs: 60_000 });
    // The second is the exact write, pinned on the revision the returned item showed.
    expect(conditions()).toEqual([PINNED, PINNED]);
    expect(await store.get(key)).toMatchObject({ status: 'completed', fencingToken: record.fencingToken, result: '"once"' });
  });

  it('its lease extension: the pinned release fails, and the release is sent again on the fields', async () => {
    const key = newKey();
    const { record } = await store.claim(claimOf(key));
    await other.extendLease({ key, fencingToken: record.fencingToken, leaseMs: 30_000 });
    requests.reset();
    expect(await store.release(key, record.fencingToken)).toBe(true);
    expect(requests.sent).toHaveLength(2);
    expect(await store.get(key)).toBeUndefined();
    expect((await other.claim(claimOf(key))).acquired).toBe(true);
  });

  it('its take-over of the lapsed claim: the completion is refused with the new holder, which keeps its claim', async () => {
    const key = newKey();
    const { record } = await store.claim(claimOf(key));
    clock.advance(10_000);
    const takeOver = await other.claim(claimOf(key));
    expect(takeOver.acquired).toBe(true);
    const error = await store.complete({ key, fencingToken: record.fencingToken, result: '"late"', retentionMs: 60_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LeaseLostError);
    expect((error as LeaseLostError).current).toMatchObject({ status: 'in_progress', fencingToken: takeOver.record.fencingToken });
    expect(await store.release(key, record.fencingToken)).toBe(false);
    expect(await store.get(key)).toMatchObject({ status: 'in_progress', fencingToken: takeOver.record.fencingToken });
    expect(await store.get(key)).not.toHaveProperty('result');
  });

  it('its release and a new claim of the key: the old holder cannot complete the new occurrence', async () => {
    const key = newKey();
    const { record } = await store.claim(claimOf(key));
    expect(await other.release(key, record.fencingToken)).toBe(true);
    const next = await other.claim(claimOf(key));
    expect(next.acquired).toBe(true);
    await expect(store.complete({ key, fencingToken: record.fencingToken, result: '1', retentionMs: 60_000 })).rejects.toBeInstanceOf(LeaseLostError);
    expect(await store.get(key)).toMatchObject({ status: 'in_progress', fencingToken: next.record.fencingToken });
  });
});
