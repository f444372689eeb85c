import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LeaseLostError } from '@idemkit/core';
import { DynamoDBStore } from '../src/index.js';
import { createTestTable, localClient, recordRequests } from './helpers.js';

// The bar: a claim, a duplicate and a completion are each exactly one request, and the
// decision path never reads. Counted on the wire by SDK middleware, after the retry loop.

let table: Awaited<ReturnType<typeof createTestTable>>;
const client = localClient();
const requests = recordRequests(client);
let store: DynamoDBStore;

beforeAll(async () => {
  table = await createTestTable({}, 'round-trips');
  store = new DynamoDBStore({ client, tableName: table.tableName });
});
afterAll(async () => {
  client.destroy();
  await table?.drop();
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

  it('a duplicate of an in-progress claim is one UpdateItem that returns the holder, no read', async () => {
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

  it('a completion is one UpdateItem, and the duplicate after it is one UpdateItem with the result', async () => {
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

  it('get is one strongly consistent GetItem', async () => {
    const consistent: unknown[] = [];
    const spy = localClient();
    spy.middlewareStack.add(
      (next) => async (args) => {
        consistent.push((args.input as { ConsistentRead?: boolean }).ConsistentRead);
        return next(args);
      },
      { step: 'initialize', name: 'consistentReadSpy' },
    );
    const reader = new DynamoDBStore({ client: spy, tableName: table.tableName });
    expect(await reader.get(`rt:${randomUUID()}`)).toBeUndefined();
    spy.destroy();
    expect(consistent).toEqual([true]);
  });
});
