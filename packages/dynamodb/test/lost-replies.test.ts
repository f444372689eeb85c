import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeVersion, type ClaimRequest } from '@idemkit/core';
import { DynamoDBStore } from '../src/index.js';
import { loseReplies, writeOf, type SentCommand } from './faults.js';
import { useTable } from './helpers.js';

// Issue 11 item 2: the AWS SDK retries a request whose reply was lost (a connection reset after
// DynamoDB applied it). The retried claim meets the claim it made itself; it must recognise it
// (each call's writes carry a nonce) instead of answering "in progress, someone else's".

const table = useTable('lost-replies');
let observer: DynamoDBStore;

beforeAll(() => {
  observer = new DynamoDBStore({ client: table.client, tableName: table.tableName });
});

/** A store whose client loses the reply of the first request `match` selects. */
function losingStore(match: (sent: SentCommand) => boolean) {
  const client = table.newClient();
  const faults = loseReplies(client, match);
  return { store: new DynamoDBStore({ client, tableName: table.tableName }), faults };
}

const claimOf = (key: string, overrides: Partial<ClaimRequest> = {}): ClaimRequest => ({ key, leaseMs: 60_000, retentionMs: 600_000, ...overrides });
const updateOf = writeOf;

describe('a claim whose reply was lost, retried by the SDK', () => {
  for (const [label, window] of [
    ['unwindowed', undefined],
    ['windowed', { at: 1_700_000_000_250, windowMs: 500 }],
  ] as const) {
    it(`${label}: the retry acquires with the claim that landed, and nothing else is held`, async () => {
      const key = `lost:${randomUUID()}`;
      const { store, faults } = losingStore(updateOf(key));
      const outcome = await store.claim(claimOf(key, window === undefined ? {} : { window }));
      expect(faults.lost()).toBe(1);
      expect(outcome.acquired).toBe(true);
      // The landed claim is the one acquired: same token, the only occurrence of the key.
      expect(await observer.get(key)).toMatchObject({ status: 'in_progress', fencingToken: outcome.record.fencingToken });
      // Anyone else is still refused by it: the nonce tells only this call's retry apart.
      const other = await observer.claim(claimOf(key, window === undefined ? {} : { window }));
      expect(other).toMatchObject({ acquired: false, record: { fencingToken: outcome.record.fencingToken } });
      await store.complete({ key, fencingToken: outcome.record.fencingToken, result: '"ran once"', retentionMs: 600_000 });
      expect(await observer.get(key)).toMatchObject({ status: 'completed', result: '"ran once"' });
    });
  }

  it('several identities (one transaction): the retry acquires every identity it landed', async () => {
    const [id, state] = [`lost:${randomUUID()}`, `lost:${randomUUID()}`];
    const { store, faults } = losingStore((sent) => sent.command === 'TransactWriteItemsCommand');
    const outcome = await store.claim(claimOf(id, { also: [{ key: state, window: { at: 1_700_000_000_000, windowMs: 500 } }] }));
    expect(faults.lost()).toBe(1);
    expect(outcome.acquired).toBe(true);
    if (!outcome.acquired) return;
    expect(await observer.get(id)).toMatchObject({ status: 'in_progress', fencingToken: outcome.fencingToken });
    expect(await observer.get(state)).toMatchObject({ status: 'in_progress', fencingToken: outcome.also![0]!.fencingToken });
    await store.complete({ key: id, fencingToken: outcome.fencingToken, result: '1', retentionMs: 600_000, also: outcome.also });
    expect((await observer.get(state))?.status).toBe('completed');
  });

  it('a completion whose reply was lost: the retry recognises it landed instead of reporting the lease lost', async () => {
    const key = `lost:${randomUUID()}`;
    let claimed = false;
    const { store, faults } = losingStore((sent) => claimed && updateOf(key)(sent));
    const outcome = await store.claim(claimOf(key));
    claimed = true;
    await store.complete({ key, fencingToken: outcome.record.fencingToken, result: '"done"', retentionMs: 600_000 });
    expect(faults.lost()).toBe(1);
    expect(await observer.get(key)).toMatchObject({ status: 'completed', result: '"done"' });
    // A second completion is a different call: still refused.
    await expect(store.complete({ key, fencingToken: outcome.record.fencingToken, result: '"again"', retentionMs: 600_000 })).rejects.toMatchObject({
      code: 'LEASE_LOST',
    });
  });

  it('a version claim and its completion whose replies were lost', async () => {
    const entity = `lost:${randomUUID()}`;
    const { store, faults } = losingStore((sent) => sent.command === 'UpdateItemCommand');
    const claim = { entity, version: encodeVersion(7), leaseMs: 60_000, retentionMs: 600_000 };
    const outcome = await store.claimVersion(claim);
    expect(faults.lost()).toBe(1);
    expect(outcome.status).toBe('acquired');
    expect((await observer.claimVersion(claim)).status).toBe('in_progress');
    if (outcome.status !== 'acquired') return;
    const completing = losingStore((sent) => sent.command === 'UpdateItemCommand');
    await completing.store.completeVersion(entity, outcome.fencingToken, 600_000);
    expect(completing.faults.lost()).toBe(1);
    expect(await observer.getVersion(entity)).toMatchObject({ applied: encodeVersion(7) });
  });
});
