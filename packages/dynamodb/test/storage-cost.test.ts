import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { manualClock } from '@idemkit/core/testing';
import { DynamoDBStore } from '../src/index.js';
import { itemBytes } from '../src/item-size.js';
import { useTable } from './helpers.js';

// The storage cost per occurrence quoted in docs/store-dynamodb.md, measured on the items as
// DynamoDB Local stores them, by DynamoDB's item-size rules (item-limits.test.ts holds those rules
// against DynamoDB Local to the byte). Shapes as the engine writes them: namespaced keys, a
// SHA-256 base64url fingerprint (43 characters), a Lambda request id as owner (36). The clock is
// frozen ahead of real time: DynamoDB Local runs TTL on real time and would delete items in the past.

const table = useTable('storage-cost');
const { client } = table;

const bytesOf = async (key: string) =>
  itemBytes((await client.send(new GetItemCommand({ TableName: table.tableName, Key: { id: { S: key } }, ConsistentRead: true }))).Item!);
const common = { leaseMs: 60_000, retentionMs: 3_600_000, fingerprint: 'F'.repeat(43), owner: '8c2f0a4e-1b7d-4c39-9e0a-5d6b7f8e9a01' };
const eventKey = 'idemkit:eventId:0f8fad5b-d9cb-469f-a165-70867728950e';
const stateKey = 'idemkit:stateWindow:7b1c3a5e-2d4f-4e6a-8b9c-0d1e2f3a4b5c:agent-42:connected';

describe('storage cost per occurrence (docs/store-dynamodb.md)', () => {
  it('unwindowed key (eventId): one item per key', async () => {
    const clock = manualClock(1_900_000_123_457);
    const store = new DynamoDBStore({ client, tableName: table.tableName, clock: clock.now });
    const { record } = await store.claim({ key: eventKey, ...common });
    const inProgress = await bytesOf(eventKey);
    clock.advance(42);
    await store.complete({ key: eventKey, fencingToken: record.fencingToken, result: '{"ok":true}', retentionMs: 3_600_000 });
    const completed = await bytesOf(eventKey);
    expect({ inProgress, completed, keyBytes: eventKey.length }).toEqual({ inProgress: 217, completed: 231, keyBytes: 52 });
  });

  it('windowed key (stateWindow): the first occurrence, and each further one', async () => {
    const clock = manualClock(1_900_000_123_457);
    const store = new DynamoDBStore({ client, tableName: table.tableName, clock: clock.now });
    const sizes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { record } = await store.claim({ key: stateKey, ...common, window: { at: clock.now() - 17, windowMs: 500 } });
      clock.advance(42);
      await store.complete({ key: stateKey, fencingToken: record.fencingToken, retentionMs: 3_600_000 });
      sizes.push(await bytesOf(stateKey));
      clock.advance(61_001);
    }
    expect({ first: sizes[0], further: [sizes[1]! - sizes[0]!, sizes[2]! - sizes[1]!], keyBytes: stateKey.length }).toEqual({
      first: 278,
      // Timestamps cost 1 byte per pair of significant digits: the figures move by a few bytes.
      further: [157, 160],
      keyBytes: 75,
    });
  });
});
