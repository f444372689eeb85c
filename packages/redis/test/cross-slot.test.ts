import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseLostError, type ClaimOutcome, type IdentityToken } from '@idemkit/core';
import { createBarrier, manualClock, type ManualClock } from '@idemkit/core/testing';
import type { RedisStore } from '../src/index.js';
import { clusterClient, storeHandle, uniqueKey } from './support/clients.js';
import { keysOnDistinctSlots } from './support/slots.js';

// anyOf claims whose identities live in several Cluster slots: claimed slot by slot in ascending
// slot order, released again when a later slot refuses, completed after every slot is prepared.

const LEASE = 10_000;
const RETENTION = 60_000;
const claimOf = (key: string, also: string[] = [], leaseMs = LEASE) => ({
  key,
  leaseMs,
  retentionMs: RETENTION,
  also: also.map((other) => ({ key: other })),
});

function tokensOf(outcome: ClaimOutcome): { fencingToken: number; also: IdentityToken[] } {
  if (!outcome.acquired) throw new Error(`expected the claim to acquire, got ${outcome.record.status} on ${outcome.record.key}`);
  return { fencingToken: outcome.fencingToken, also: outcome.also ?? [] };
}

describe('anyOf across Cluster slots', () => {
  const clock: ManualClock = manualClock();
  let store: RedisStore;
  let closeStore: () => Promise<void>;
  beforeAll(() => {
    ({ store, close: closeStore } = storeHandle(clusterClient(), clock.now));
  });
  afterAll(() => closeStore?.());

  it('acquires every identity, tokens in request order whatever the slot order', async () => {
    const [low, mid, high] = keysOnDistinctSlots(3);
    const outcome = await store.claim(claimOf(high!, [low!, mid!]));
    const { fencingToken, also } = tokensOf(outcome);
    expect(also.map((identity) => identity.key)).toEqual([low, mid]);
    expect(await store.get(high!)).toMatchObject({ status: 'in_progress', fencingToken });
    for (const identity of also) expect(await store.get(identity.key)).toMatchObject({ status: 'in_progress', fencingToken: identity.fencingToken });
  });

  it('a later slot that refuses makes the earlier slots release what they claimed', async () => {
    const [low, high] = keysOnDistinctSlots(2);
    const holder = tokensOf(await store.claim(claimOf(high!)));
    const refused = await store.claim(claimOf(low!, [high!]));
    expect(refused).toMatchObject({ acquired: false, record: { key: high, status: 'in_progress', fencingToken: holder.fencingToken } });
    expect(await store.get(low!)).toBeUndefined();
    expect((await store.claim(claimOf(low!))).acquired).toBe(true);
  });

  it('a completed identity on a slot not reached yet answers before the running one that refused first', async () => {
    const [low, high] = keysOnDistinctSlots(2);
    await store.claim(claimOf(low!));
    const done = tokensOf(await store.claim(claimOf(high!)));
    await store.complete({ key: high!, fencingToken: done.fencingToken, result: '"d"', retentionMs: RETENTION });
    const outcome = await store.claim(claimOf(low!, [high!]));
    expect(outcome).toMatchObject({ acquired: false, record: { key: high, status: 'completed', result: '"d"' } });
  });

  it('of two completed identities the first in request order answers, even on a later slot', async () => {
    const [low, high] = keysOnDistinctSlots(2);
    for (const key of [low!, high!]) {
      const { fencingToken } = tokensOf(await store.claim(claimOf(key)));
      await store.complete({ key, fencingToken, result: JSON.stringify(key), retentionMs: RETENTION });
    }
    const outcome = await store.claim(claimOf(high!, [low!]));
    expect(outcome).toMatchObject({ acquired: false, record: { key: high, status: 'completed', result: JSON.stringify(high) } });
  });

  it('complete finishes what an earlier attempt left: identities already completed with their token count as done', async () => {
    const [id, state] = keysOnDistinctSlots(2);
    const claim = tokensOf(await store.claim(claimOf(id!, [state!])));
    // As if an earlier attempt had completed the state's slot and lost its reply for the id's.
    await store.complete({ key: state!, fencingToken: claim.also[0]!.fencingToken, result: '"r"', retentionMs: RETENTION });
    await store.complete({ key: id!, ...claim, result: '"r"', retentionMs: RETENTION });
    for (const key of [id!, state!]) expect(await store.get(key)).toMatchObject({ status: 'completed', result: '"r"' });
    // Every identity done already: refused like a second completion, naming the own completed record.
    const again = await store.complete({ key: id!, ...claim, result: '"r"', retentionMs: RETENTION }).catch((error: unknown) => error);
    expect(again).toBeInstanceOf(LeaseLostError);
    expect((again as LeaseLostError).current).toMatchObject({ key: id, status: 'completed', fencingToken: claim.fencingToken });
  });

  it('extendLease checks every slot before extending any: one lapsed and taken over extends none', async () => {
    const [id, state] = keysOnDistinctSlots(2);
    const claim = tokensOf(await store.claim({ ...claimOf(id!, [], 1_000), also: [{ key: state! }] }));
    await store.extendLease({ key: id!, ...claim, leaseMs: 3_000 });
    expect((await store.get(state!))?.leaseExpiresAt).toBe(clock.now() + 3_000);
    // Only the id's lease is kept running; the state's lapses and is taken over.
    await store.extendLease({ key: id!, fencingToken: claim.fencingToken, leaseMs: 10_000 });
    clock.advance(3_000);
    const other = tokensOf(await store.claim(claimOf(state!)));
    const error = await store.extendLease({ key: id!, ...claim, leaseMs: 20_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LeaseLostError);
    expect(error).toMatchObject({ key: state, fencingToken: claim.also[0]!.fencingToken });
    expect((await store.get(id!))?.leaseExpiresAt).toBe(clock.now() + 7_000);
    expect(await store.get(state!)).toMatchObject({ fencingToken: other.fencingToken });
  });

  it('release frees every slot at once', async () => {
    const [a, b, c] = keysOnDistinctSlots(3);
    const claim = tokensOf(await store.claim(claimOf(b!, [c!, a!])));
    expect(await store.release(b!, claim.fencingToken, claim.also)).toBe(true);
    for (const key of [a!, b!, c!]) expect(await store.get(key)).toBeUndefined();
  });
});

describe('anyOf across Cluster slots, concurrently', () => {
  const CLAIMERS = 24;
  let handles: { store: RedisStore; close: () => Promise<void> }[] = [];
  beforeAll(() => {
    const clock = manualClock();
    handles = Array.from({ length: CLAIMERS }, () => storeHandle(clusterClient(), clock.now));
  });
  afterAll(() => Promise.all(handles.map((handle) => handle.close())));

  it('claimers whose identity sets overlap pairwise, in every order: exactly one acquires, the others leave nothing', async () => {
    for (let round = 0; round < 5; round++) {
      const [x, y, z] = keysOnDistinctSlots(3, `triangle-${round}`);
      // Each claimer has its own id plus two of x, y, z: any two claimers share an identity.
      const pairs = [[x!, y!], [y!, z!], [z!, x!], [y!, x!], [z!, y!], [x!, z!]];
      const ids = handles.map((_, i) => uniqueKey(`id-${i}`));
      const barrier = createBarrier(handles.length);
      const outcomes = await Promise.all(
        handles.map(async ({ store }, i) => {
          await barrier.wait();
          const [first, second] = pairs[i % pairs.length]!;
          return store.claim(claimOf(i % 2 === 0 ? ids[i]! : first!, i % 2 === 0 ? [first!, second!] : [ids[i]!, second!]));
        }),
      );
      expect(outcomes.filter((outcome) => outcome.acquired)).toHaveLength(1);
      const leftovers = await Promise.all(ids.map((id, i) => (outcomes[i]!.acquired ? undefined : handles[0]!.store.get(id))));
      expect(leftovers.filter((record) => record !== undefined)).toEqual([]);
    }
  });
});
