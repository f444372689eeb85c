import { randomUUID } from 'node:crypto';
import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { manualClock } from '@idemkit/core/testing';
import { DynamoDBStore } from '../src/index.js';
import { useTable } from './helpers.js';

// DynamoDB TTL deletes expired items up to days late: an occurrence
// past expiresAt must count as absent while its item is still there, and fencing tokens must
// keep rising through releases and through TTL's deletion.

const layout = { partitionKey: 'pk', sortKey: { name: 'sk', value: 'idem' }, ttlAttribute: 'ttl_s' };
const table = useTable('expiry', layout);
const { client } = table;

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
          fence: { N: '41' },
          ttl_s: { N: String(Math.ceil(Date.now() / 1000) + 86_400) },
          '@u': {
            M: {
              s: { S: 'c' },
              t: { N: '41' },
              l: { N: String(expiresAt - 50_000) },
              e: { N: String(expiresAt) },
              c: { N: String(expiresAt - 60_000) },
              r: { S: '"stale result"' },
              f: { S: 'old-fp' },
              n: { S: 'nonce' },
            },
          },
        },
      }),
    );
    expect(await rawItem(key)).toBeDefined();
    expect(await store.get(key)).toBeUndefined();

    const outcome = await store.claim(claimRequest(key));
    expect(outcome.acquired).toBe(true);
    // The claim went through the old item: its token is above the old one, and nothing of it stayed.
    expect(outcome.record.fencingToken).toBeGreaterThan(41);
    expect(Object.keys((await rawItem(key))!['@u']!.M!).sort()).toEqual(['c', 'e', 'l', 'n', 's', 't']);
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
    expect(item?.['@u']?.M?.e?.N).toBe('1800086401123');
  });
});

describe('fencing tokens', () => {
  it('a release deletes the occurrence but keeps the item and its counter, so the next claim continues it', async () => {
    const { store } = storeAt();
    const key = `expiry:${randomUUID()}`;
    const { record } = await store.claim(claimRequest(key));
    expect(await store.release(key, record.fencingToken)).toBe(true);
    // The release moved the counter too (every write does); the TTL still covers the claim.
    expect(await rawItem(key)).toEqual({
      pk: { S: key },
      sk: { S: 'idem' },
      fence: { N: String(record.fencingToken + 1) },
      ttl_s: { N: String(Math.ceil(record.expiresAt / 1000)) },
    });
    expect(await store.get(key)).toBeUndefined();
    expect(await store.release(key, record.fencingToken)).toBe(false);
    // Same instant: the proposal (now × 1000) is not above the counter, so the claim takes counter + 1.
    const next = await store.claim(claimRequest(key));
    expect(next.acquired && next.fencingToken).toBe(record.fencingToken + 2);
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
