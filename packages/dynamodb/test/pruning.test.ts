import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { manualClock } from '@idemkit/core/testing';
import { DynamoDBStore } from '../src/index.js';
import { recordRequests, useTable } from './helpers.js';

// A windowed key keeps every occurrence until its retention passes, each in its own slot of the
// key's item. Expired slots are pruned by the next claim once the oldest is a lifetime past its
// expiry (the item's `prune` deadline), so a busy key's item stays bounded and pays one exact
// write (one extra round trip) per retention period.

const table = useTable('pruning');
const { client } = table;
const requests = recordRequests(client);

const slotsOf = async (key: string) => {
  const { Item } = await client.send(new GetItemCommand({ TableName: table.tableName, Key: { id: { S: key } }, ConsistentRead: true }));
  return Object.keys(Item ?? {}).filter((name) => name.startsWith('@'));
};

describe('pruning expired occurrences', () => {
  it('a key with a new occurrence every 300 ms and a 1 s retention never holds more than its live occurrences and one lifetime of expired ones', async () => {
    const clock = manualClock();
    const store = new DynamoDBStore({ client, tableName: table.tableName, clock: clock.now });
    const key = `prune:${randomUUID()}`;
    const occurrences = 40;
    let most = 0;
    requests.reset();
    for (let i = 0; i < occurrences; i++) {
      const outcome = await store.claim({ key, leaseMs: 500, retentionMs: 1_000, window: { at: clock.now(), windowMs: 100 } });
      expect(outcome.acquired).toBe(true);
      await store.complete({ key, fencingToken: outcome.record.fencingToken, result: `${i}`, retentionMs: 1_000 });
      most = Math.max(most, (await slotsOf(key)).length);
      clock.advance(300);
    }
    // 4 live (1 s / 300 ms) plus at most one lifetime (1 s) of expired ones: without pruning, 40.
    expect(most).toBeLessThanOrEqual(8);
    // One UpdateItem per claim and per completion, plus about one exact write per retention period.
    const writes = requests.sent.filter((request) => request.command === 'UpdateItemCommand').length;
    expect(writes).toBeLessThanOrEqual(2 * occurrences + Math.ceil((occurrences * 300) / 1_000) + 1);
    expect(writes).toBeGreaterThan(2 * occurrences);
  });

  it('the claim after the prune deadline removes every expired occurrence and keeps the live ones', async () => {
    const clock = manualClock();
    const store = new DynamoDBStore({ client, tableName: table.tableName, clock: clock.now });
    const key = `prune:${randomUUID()}`;
    const claimAt = async (at: number, retentionMs: number) => {
      const outcome = await store.claim({ key, leaseMs: 500, retentionMs, window: { at, windowMs: 100 } });
      await store.complete({ key, fencingToken: outcome.record.fencingToken, result: '1', retentionMs });
    };
    await claimAt(1_000, 1_000);
    await claimAt(2_000, 1_000);
    await claimAt(3_000, 60_000);
    expect(await slotsOf(key)).toHaveLength(3);
    // Both short ones have expired, but their prune deadline (one lifetime later) has not passed.
    clock.advance(1_500);
    await claimAt(4_000, 60_000);
    expect((await slotsOf(key)).sort()).toEqual(['@10', '@20', '@30', '@40']);
    // Past it, the next claim — a late redelivery of the first, now expired — prunes and keeps the live ones.
    clock.advance(600);
    expect((await store.claim({ key, leaseMs: 500, retentionMs: 60_000, window: { at: 1_050, windowMs: 100 } })).acquired).toBe(true);
    expect((await slotsOf(key)).sort()).toEqual(['@10', '@30', '@40']);
  });
});
