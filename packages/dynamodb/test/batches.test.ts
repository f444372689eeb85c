import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { LeaseLostError } from '@idemkit/core';
import { manualClock } from '@idemkit/core/testing';
import { DynamoDBStore } from '../src/index.js';
import { gate as gateFirst, keyOf, writeOf, type SentCommand } from './faults.js';
import { recordRequests, useTable } from './helpers.js';

const table = useTable('batches');
const { client } = table;
const requests = recordRequests(client);

beforeEach(() => requests.reset());

const storeWith = (concurrency?: number) => new DynamoDBStore({ client, tableName: table.tableName, concurrency });
const claimRequest = (key: string) => ({ key, leaseMs: 10_000, retentionMs: 60_000 });
const keys = (count: number) => Array.from({ length: count }, (_, i) => `batch:${randomUUID()}:${i}`);

describe('claimMany and completeMany', () => {
  it('send one conditional write per record, in parallel up to the concurrency', async () => {
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

  it('items sharing a key are claimed in order: while the first is held, no later one is sent', async () => {
    const [a, b, c, d, e] = keys(5) as [string, string, string, string, string];
    const gated = table.newClient();
    const gate = gateFirst(gated, writeOf(a));
    const store = new DynamoDBStore({ client: gated, tableName: table.tableName, concurrency: 10 });
    const batch = [a, b, c, a, d, e, a];
    const claiming = store.claimMany(batch.map(claimRequest));
    // The first claim of `a` waits before it is sent; every other key's claim gets its reply meanwhile.
    await gate.held;
    await gate.settled((sent) => keyOf(sent) !== a, 4);
    expect(gate.sent.filter((sent) => keyOf(sent) === a)).toHaveLength(1);
    gate.open();
    const outcomes = await claiming;
    expect(outcomes.map((outcome) => outcome.acquired)).toEqual([true, true, true, false, true, true, false]);
    for (const repeat of [outcomes[3]!, outcomes[6]!]) {
      expect(repeat.record).toMatchObject({ key: a, status: 'in_progress', fencingToken: outcomes[0]!.record.fencingToken });
    }
  });

  it('a batch is judged at one instant: a repeat claimed after the first claim’s lease has passed still sees it', async () => {
    // Found by the fault harness under load: chained claims took a fresh clock each, so a slow
    // batch's repeat took its own first claim over and the batch acquired the key twice.
    const [a, b] = keys(2) as [string, string];
    const clock = manualClock();
    const gated = table.newClient();
    const gate = gateFirst(gated, writeOf(a));
    const store = new DynamoDBStore({ client: gated, tableName: table.tableName, clock: clock.now });
    const claiming = store.claimMany([{ ...claimRequest(a), leaseMs: 1_000 }, claimRequest(b), { ...claimRequest(a), leaseMs: 1_000 }]);
    await gate.held;
    clock.advance(5_000);
    gate.open();
    const outcomes = await claiming;
    expect(outcomes.map((outcome) => outcome.acquired)).toEqual([true, true, false]);
    expect(outcomes[2]!.record.fencingToken).toBe(outcomes[0]!.record.fencingToken);
  });

  it('items sharing only another identity (anyOf) are claimed in order too', async () => {
    const [id1, id2, state, other] = keys(4) as [string, string, string, string];
    const gated = table.newClient();
    const isFirst = (sent: SentCommand) => sent.command === 'TransactWriteItemsCommand' && JSON.stringify(sent.input).includes(id1);
    const gate = gateFirst(gated, isFirst);
    const store = new DynamoDBStore({ client: gated, tableName: table.tableName, concurrency: 10 });
    const claiming = store.claimMany([
      { ...claimRequest(id1), also: [{ key: state }] },
      claimRequest(other),
      { ...claimRequest(id2), also: [{ key: state }] },
    ]);
    await gate.held;
    await gate.settled((sent) => keyOf(sent) === other, 1);
    expect(gate.sent.filter((sent) => sent.command === 'TransactWriteItemsCommand')).toHaveLength(1);
    gate.open();
    const outcomes = await claiming;
    expect(outcomes.map((outcome) => outcome.acquired)).toEqual([true, true, false]);
    expect(outcomes[2]!.record.key).toBe(state);
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
