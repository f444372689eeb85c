import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LeaseLostError } from '@idemkit/core';
import { DynamoDBStore } from '../src/index.js';
import { createTestTable, localClient, recordRequests } from './helpers.js';

let table: Awaited<ReturnType<typeof createTestTable>>;
const client = localClient();
const requests = recordRequests(client);

beforeAll(async () => {
  table = await createTestTable({}, 'batches');
});
afterAll(async () => {
  client.destroy();
  await table?.drop();
});
beforeEach(() => requests.reset());

const storeWith = (concurrency?: number) => new DynamoDBStore({ client, tableName: table.tableName, concurrency });
const claimRequest = (key: string) => ({ key, leaseMs: 10_000, retentionMs: 60_000 });
const keys = (count: number) => Array.from({ length: count }, (_, i) => `batch:${randomUUID()}:${i}`);

describe('claimMany and completeMany', () => {
  it('send one conditional UpdateItem per record, in parallel up to the concurrency', async () => {
    const store = storeWith(3);
    const batch = keys(10);
    const outcomes = await store.claimMany(batch.map(claimRequest));
    expect(outcomes.map((outcome) => outcome.record.key)).toEqual(batch);
    expect(requests.sent).toHaveLength(10);
    expect(requests.sent.every((request) => request.command === 'UpdateItemCommand')).toBe(true);
    expect(requests.maxInFlight()).toBe(3);

    requests.reset();
    const completions = await store.completeMany(
      outcomes.map((outcome, i) => ({ key: batch[i]!, fencingToken: outcome.record.fencingToken, result: `${i}`, retentionMs: 60_000 })),
    );
    expect(completions).toEqual(Array.from({ length: 10 }, () => ({ ok: true })));
    expect(requests.sent).toHaveLength(10);
    expect(requests.maxInFlight()).toBe(3);
  });

  it('default to 10 in flight: an SQS batch goes out at once', async () => {
    await storeWith().claimMany(keys(25).map(claimRequest));
    expect(requests.sent).toHaveLength(25);
    expect(requests.maxInFlight()).toBe(10);
  });

  it('a key repeated in a batch is acquired by its first occurrence; the others see its claim', async () => {
    const [a, b] = keys(2) as [string, string];
    const outcomes = await storeWith(10).claimMany([a, b, a, a].map(claimRequest));
    expect(outcomes.map((outcome) => outcome.acquired)).toEqual([true, true, false, false]);
    for (const repeat of [outcomes[2]!, outcomes[3]!]) {
      expect(repeat.record).toMatchObject({ key: a, status: 'in_progress', fencingToken: outcomes[0]!.record.fencingToken });
    }
  });

  it('completeMany reports a stale token and a completed key per item', async () => {
    const store = storeWith(4);
    const [fresh, done] = keys(2) as [string, string];
    const [freshClaim, doneClaim] = await store.claimMany([fresh, done].map(claimRequest));
    await store.complete({ key: done, fencingToken: doneClaim!.record.fencingToken, result: '"d"', retentionMs: 60_000 });
    const completions = await store.completeMany([
      { key: fresh, fencingToken: freshClaim!.record.fencingToken, result: '"f"', retentionMs: 60_000 },
      { key: done, fencingToken: doneClaim!.record.fencingToken, result: '"again"', retentionMs: 60_000 },
      { key: fresh, fencingToken: freshClaim!.record.fencingToken, result: '"twice"', retentionMs: 60_000 },
    ]);
    expect(completions[0]).toEqual({ ok: true });
    expect(completions[1]!.ok === false && completions[1]!.error).toBeInstanceOf(LeaseLostError);
    expect(completions[2]!.ok === false && completions[2]!.error).toBeInstanceOf(LeaseLostError);
    expect((await store.get(fresh))?.result).toBe('"f"');
    expect((await store.get(done))?.result).toBe('"d"');
  });
});
