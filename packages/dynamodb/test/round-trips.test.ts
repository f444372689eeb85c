import { randomUUID } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeVersion, LeaseLostError } from '@idemkit/core';
import { manualClock } from '@idemkit/core/testing';
import { DynamoDBStore } from '../src/index.js';
import { recordRequests, useTable } from './helpers.js';

// The bar: a claim, a duplicate and a completion are each exactly one request, and the
// decision path never reads. Counted on the wire by SDK middleware, after the retry loop.

const table = useTable('round-trips');
const { client } = table;
const requests = recordRequests(client);
let store: DynamoDBStore;

beforeAll(() => {
  store = new DynamoDBStore({ client, tableName: table.tableName });
});
beforeEach(() => requests.reset());

const claimRequest = (key: string) => ({ key, leaseMs: 10_000, retentionMs: 60_000 });
const commands = () => requests.sent.map((request) => request.command);

describe('one request per decision', () => {
  it('a claim is one UpdateItem', async () => {
    const outcome = await store.claim(claimRequest(`rt:${randomUUID()}`));
    expect(outcome.acquired).toBe(true);
    expect(commands()).toEqual(['UpdateItemCommand']);
  });

  it('a duplicate of an in-progress claim is one conditional write that returns the holder, no read', async () => {
    const key = `rt:${randomUUID()}`;
    const first = await store.claim({ ...claimRequest(key), fingerprint: 'fp-holder' });
    requests.reset();
    const duplicate = await store.claim(claimRequest(key));
    expect(commands()).toEqual(['UpdateItemCommand']);
    expect(duplicate).toMatchObject({
      acquired: false,
      record: { status: 'in_progress', fingerprint: 'fp-holder', fencingToken: first.record.fencingToken },
    });
  });

  it('a completion is one UpdateItem, and the duplicate after it is one conditional write with the result', async () => {
    const key = `rt:${randomUUID()}`;
    const { record } = await store.claim(claimRequest(key));
    requests.reset();
    await store.complete({ key, fencingToken: record.fencingToken, result: '{"sent":true}', retentionMs: 60_000 });
    expect(commands()).toEqual(['UpdateItemCommand']);
    requests.reset();
    const duplicate = await store.claim(claimRequest(key));
    expect(commands()).toEqual(['UpdateItemCommand']);
    expect(duplicate.record).toMatchObject({ status: 'completed', result: '{"sent":true}' });
  });

  it('a refused completion is one UpdateItem and the error carries the current record', async () => {
    const key = `rt:${randomUUID()}`;
    const { record } = await store.claim(claimRequest(key));
    await store.complete({ key, fencingToken: record.fencingToken, result: '1', retentionMs: 60_000 });
    requests.reset();
    const error = await store
      .complete({ key, fencingToken: record.fencingToken, result: '2', retentionMs: 60_000 })
      .catch((caught: unknown) => caught);
    expect(commands()).toEqual(['UpdateItemCommand']);
    expect(error).toBeInstanceOf(LeaseLostError);
    expect((error as LeaseLostError).current).toMatchObject({ status: 'completed', result: '1' });
  });

  it('a release is one UpdateItem, refused or not', async () => {
    const key = `rt:${randomUUID()}`;
    const { record } = await store.claim(claimRequest(key));
    requests.reset();
    expect(await store.release(key, record.fencingToken + 1)).toBe(false);
    expect(await store.release(key, record.fencingToken)).toBe(true);
    expect(commands()).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
  });

  it('a windowed claim, a duplicate inside its window and a new occurrence beside it are one UpdateItem each', async () => {
    const key = `rt:${randomUUID()}`;
    const at = 1_700_000_000_000;
    const first = await store.claim({ ...claimRequest(key), window: { at, windowMs: 500 } });
    const duplicate = await store.claim({ ...claimRequest(key), window: { at: at + 499, windowMs: 500 } });
    const next = await store.claim({ ...claimRequest(key), window: { at: at + 10_000, windowMs: 500 } });
    expect([first.acquired, duplicate.acquired, next.acquired]).toEqual([true, false, true]);
    expect(commands()).toEqual(['UpdateItemCommand', 'UpdateItemCommand', 'UpdateItemCommand']);
    requests.reset();
    await store.complete({ key, fencingToken: next.record.fencingToken, result: '1', retentionMs: 60_000 });
    expect(commands()).toEqual(['UpdateItemCommand']);
  });

  it('taking over a lapsed claim of the same bucket, or the owner retrying its own, is one UpdateItem', async () => {
    const clock = manualClock();
    const timed = new DynamoDBStore({ client, tableName: table.tableName, clock: clock.now });
    const key = `rt:${randomUUID()}`;
    const window = { at: 1_700_000_000_100, windowMs: 500 };
    await timed.claim({ ...claimRequest(key), window, leaseMs: 1_000 });
    clock.advance(1_000);
    requests.reset();
    const taken = await timed.claim({ ...claimRequest(key), window, owner: 'req-1' });
    clock.advance(1);
    const retried = await timed.claim({ ...claimRequest(key), window, owner: 'req-1' });
    expect([taken.acquired, retried.acquired]).toEqual([true, true]);
    expect(commands()).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
  });

  it('an unwindowed claim is blind only on a new key: taking over a lapsed claim, or the owner retrying its own, takes two', async () => {
    const clock = manualClock();
    const timed = new DynamoDBStore({ client, tableName: table.tableName, clock: clock.now });
    const key = `rt:${randomUUID()}`;
    const first = await timed.claim({ ...claimRequest(key), leaseMs: 1_000 });
    clock.advance(1_000);
    requests.reset();
    const taken = await timed.claim({ ...claimRequest(key), owner: 'req-1' });
    expect(commands()).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
    clock.advance(1);
    requests.reset();
    const retried = await timed.claim({ ...claimRequest(key), owner: 'req-1' });
    expect(commands()).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
    expect([taken.acquired, retried.acquired]).toEqual([true, true]);
    expect(first.record.fencingToken < taken.record.fencingToken && taken.record.fencingToken < retried.record.fencingToken).toBe(true);
    // The completion of an unwindowed claim is still one request.
    requests.reset();
    await timed.complete({ key, fencingToken: retried.record.fencingToken, result: '1', retentionMs: 60_000 });
    expect(commands()).toEqual(['UpdateItemCommand']);
  });

  it('a lapsed claim in the neighbouring bucket takes two: the blind write fails, the exact one replaces it', async () => {
    const clock = manualClock();
    const timed = new DynamoDBStore({ client, tableName: table.tableName, clock: clock.now });
    const key = `rt:${randomUUID()}`;
    await timed.claim({ ...claimRequest(key), window: { at: 1_700_000_000_499, windowMs: 500 }, leaseMs: 1_000 });
    clock.advance(1_000);
    requests.reset();
    const taken = await timed.claim({ ...claimRequest(key), window: { at: 1_700_000_000_510, windowMs: 500 } });
    expect(taken.acquired).toBe(true);
    expect(commands()).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
  });

  it('a claim with several identities is one TransactWriteItems, acquired or refused, and so are its lease extension and completion', async () => {
    const [id, state] = [`rt:${randomUUID()}`, `rt:${randomUUID()}`];
    const also = [{ key: state, window: { at: 1_700_000_000_000, windowMs: 500 } }];
    const outcome = await store.claim({ ...claimRequest(id), also });
    const refused = await store.claim({ ...claimRequest(`rt:${randomUUID()}`), also });
    expect([outcome.acquired, refused.acquired]).toEqual([true, false]);
    expect(refused.record.key).toBe(state);
    expect(commands()).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    requests.reset();
    if (!outcome.acquired) return;
    await store.extendLease({ key: id, fencingToken: outcome.fencingToken, leaseMs: 1_000, also: outcome.also });
    await store.complete({ key: id, fencingToken: outcome.fencingToken, result: '1', retentionMs: 60_000, also: outcome.also });
    expect(commands()).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
  });

  it("completing another process's windowed claim takes two: the store does not know its slot", async () => {
    const key = `rt:${randomUUID()}`;
    const other = new DynamoDBStore({ client, tableName: table.tableName });
    const { record } = await other.claim({ ...claimRequest(key), window: { at: 1_700_000_000_000, windowMs: 500 } });
    requests.reset();
    await store.complete({ key, fencingToken: record.fencingToken, result: '1', retentionMs: 60_000 });
    expect(commands()).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
    expect((await store.get(key))?.status).toBe('completed');
  });

  it('a lease extension is one UpdateItem', async () => {
    const key = `rt:${randomUUID()}`;
    const { record } = await store.claim({ ...claimRequest(key), window: { at: 1_700_000_000_000, windowMs: 500 } });
    requests.reset();
    await store.extendLease({ key, fencingToken: record.fencingToken, leaseMs: 20_000 });
    expect(commands()).toEqual(['UpdateItemCommand']);
  });

  it('a version claim, its duplicate and its completion are one UpdateItem each', async () => {
    const entity = `rt:${randomUUID()}`;
    const claim = { entity, version: encodeVersion(5), leaseMs: 10_000, retentionMs: 60_000 };
    const outcome = await store.claimVersion(claim);
    if (outcome.status !== 'acquired') throw new Error('expected acquired');
    await store.completeVersion(entity, outcome.fencingToken, 60_000);
    expect((await store.claimVersion(claim)).status).toBe('duplicate');
    expect(commands()).toEqual(['UpdateItemCommand', 'UpdateItemCommand', 'UpdateItemCommand']);
  });

  it('get is one strongly consistent GetItem', async () => {
    const consistent: unknown[] = [];
    const spy = table.newClient();
    spy.middlewareStack.add(
      (next) => async (args) => {
        consistent.push((args.input as { ConsistentRead?: boolean }).ConsistentRead);
        return next(args);
      },
      { step: 'initialize', name: 'consistentReadSpy' },
    );
    const reader = new DynamoDBStore({ client: spy, tableName: table.tableName });
    expect(await reader.get(`rt:${randomUUID()}`)).toBeUndefined();
    expect(consistent).toEqual([true]);
  });
});
