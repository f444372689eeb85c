import { randomUUID } from 'node:crypto';
import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '@idemkit/core/testing';
import { DynamoDBStore } from '../src/index.js';
import { createTestTable, localClient } from './helpers.js';

// DynamoDB TTL deletes expired items up to days late (DynamoDB Local never does): a record
// past expiresAt must count as absent while its item is still there, and fencing tokens must
// keep rising through releases and through TTL's deletion.

const layout = { partitionKey: 'pk', sortKey: { name: 'sk', value: 'idem' }, ttlAttribute: 'ttl_s' };
let table: Awaited<ReturnType<typeof createTestTable>>;
const client = localClient();

beforeAll(async () => {
  table = await createTestTable(layout, 'expiry');
});
afterAll(async () => {
  client.destroy();
  await table?.drop();
});

const storeAt = (clock = manualClock()) => ({ clock, store: new DynamoDBStore({ client, tableName: table.tableName, clock: clock.now, ...layout }) });
const claimRequest = (key: string) => ({ key, leaseMs: 10_000, retentionMs: 60_000 });
const rawItem = async (key: string) =>
  (await client.send(new GetItemCommand({ TableName: table.tableName, Key: { pk: { S: key }, sk: { S: 'idem' } }, ConsistentRead: true }))).Item;

describe('records past expiresAt', () => {
  it('an item left behind past expiresAt, which TTL has not deleted, is claimable', async () => {
    const { store } = storeAt();
    const key = `expiry:${randomUUID()}`;
    const expiresAt = Date.now() - 3_600_000;
    // What a run an hour ago left: completed, retention over, TTL not run yet. DynamoDB Local
    // runs TTL itself, so the TTL attribute lies ahead to keep the leftover in place, as AWS's
    // days-late TTL would; only expiresAt, which the store checks, says the record is over.
    await client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: {
          pk: { S: key },
          sk: { S: 'idem' },
          status: { S: 'completed' },
          fencingToken: { N: '41' },
          leaseExpiresAt: { N: String(expiresAt - 50_000) },
          expiresAt: { N: String(expiresAt) },
          claimedAt: { N: String(expiresAt - 60_000) },
          ttl_s: { N: String(Math.ceil(Date.now() / 1000) + 86_400) },
          result: { S: '"stale result"' },
          fingerprint: { S: 'old-fp' },
        },
      }),
    );
    expect(await rawItem(key)).toBeDefined();
    expect(await store.get(key)).toBeUndefined();

    const outcome = await store.claim(claimRequest(key));
    expect(outcome.acquired).toBe(true);
    // The claim went through the old item: it continued its token and dropped its result.
    expect(outcome.record.fencingToken).toBe(42);
    expect(outcome.record.result).toBeUndefined();
    expect(outcome.record.fingerprint).toBeUndefined();
    expect(outcome.record.status).toBe('in_progress');
  });

  it('writes the TTL attribute in epoch seconds, rounded up from expiresAt', async () => {
    const { store, clock } = storeAt(manualClock(1_800_000_000_123));
    const key = `expiry:${randomUUID()}`;
    const { record } = await store.claim(claimRequest(key));
    expect((await rawItem(key))?.ttl_s?.N).toBe(String(Math.ceil((clock.now() + 60_000) / 1000)));
    clock.advance(1_000);
    await store.complete({ key, fencingToken: record.fencingToken, result: '1', retentionMs: 86_400_000 });
    const item = await rawItem(key);
    expect(item?.ttl_s?.N).toBe('1800086402');
    expect(item?.expiresAt?.N).toBe('1800086401123');
  });
});

describe('fencing tokens and tombstones', () => {
  it('a release leaves a tombstone with a TTL that reads as absent, and the next claim continues its token', async () => {
    const { store } = storeAt();
    const key = `expiry:${randomUUID()}`;
    const { record } = await store.claim(claimRequest(key));
    expect(await store.release(key, record.fencingToken)).toBe(true);
    const tombstone = await rawItem(key);
    expect(tombstone).toMatchObject({
      status: { S: 'released' },
      fencingToken: { N: String(record.fencingToken) },
      ttl_s: { N: String(Math.ceil(record.expiresAt / 1000)) },
    });
    expect(await store.get(key)).toBeUndefined();
    expect(await store.release(key, record.fencingToken)).toBe(false);
    const next = await store.claim(claimRequest(key));
    expect(next.acquired && next.fencingToken).toBe(record.fencingToken + 1);
  });

  it('tokens keep rising after TTL deleted the item', async () => {
    const { store, clock } = storeAt();
    const key = `expiry:${randomUUID()}`;
    let token = 0;
    for (let i = 0; i < 5; i++) {
      const outcome = await store.claim(claimRequest(key));
      expect(outcome.acquired && outcome.fencingToken).toBeGreaterThan(token);
      token = outcome.record.fencingToken;
      await store.release(key, token);
    }
    const { record } = await store.claim(claimRequest(key));
    await store.complete({ key, fencingToken: record.fencingToken, result: '1', retentionMs: 60_000 });
    // TTL runs some time after expiresAt and deletes the item.
    clock.advance(60_000);
    await client.send(new DeleteItemCommand({ TableName: table.tableName, Key: { pk: { S: key }, sk: { S: 'idem' } } }));
    const after = await store.claim(claimRequest(key));
    expect(after.acquired && after.fencingToken).toBeGreaterThan(record.fencingToken);
  });
});
