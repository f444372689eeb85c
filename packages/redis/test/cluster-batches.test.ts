import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { manualClock } from '@idemkit/core/testing';
import type { RedisStore } from '../src/index.js';
import { occurrenceKeyOf, versionKeyOf } from '../src/keys.js';
import { slotOfHashTag } from '../src/slot.js';
import { clusterClient, close, runPrefix, storeHandle, uniqueKey } from './support/clients.js';
import { names, recordCommands, type CommandLog } from './support/command-log.js';
import { keysOnOneSlot, slotOfKey } from './support/slots.js';

const RETENTION = 60_000;
const claimOf = (key: string) => ({ key, leaseMs: 10_000, retentionMs: RETENTION });

describe('batches on a Cluster', () => {
  let store: RedisStore;
  let client: Cluster;
  let log: CommandLog;
  beforeAll(async () => {
    client = clusterClient();
    store = storeHandle(client, manualClock().now).store;
    await store.claim(claimOf(uniqueKey('warm'))); // connected, and at least one node has the script
    log = recordCommands(client);
  });
  afterAll(() => close(client));

  it('our slot function agrees with CLUSTER KEYSLOT for tricky keys and entities', async () => {
    const tricky = ['}x{', '{user1}:a', 'a}b{c', '%7B', 'ünï cødé 🎧', 'a:b:c', ' ', 'k'.repeat(270), '{}', '}'];
    for (const key of tricky) {
      const occurrences = occurrenceKeyOf(runPrefix(), key);
      const versions = versionKeyOf(runPrefix(), key);
      expect(await client.cluster('KEYSLOT', occurrences.key)).toBe(slotOfHashTag(occurrences.hashTag));
      expect(await client.cluster('KEYSLOT', versions.key)).toBe(slotOfHashTag(versions.hashTag));
    }
  });

  it('claimMany sends one script call per slot: two keys of one slot share a call', async () => {
    const [a, b] = keysOnOneSlot(2);
    const others = Array.from({ length: 8 }, (_, i) => uniqueKey(`other-${i}`));
    const keys = [a!, b!, ...others];
    const slots = new Set(keys.map(slotOfKey));
    const commands = await log.during(async () => {
      const outcomes = await store.claimMany(keys.map(claimOf));
      expect(outcomes.map((outcome) => outcome.acquired)).toEqual(keys.map(() => true));
      expect(outcomes.map((outcome) => outcome.record.key)).toEqual(keys);
    });
    // A node that never saw the script answers NOSCRIPT once and gets an EVAL: count calls by slot.
    const calls = commands.filter((args) => args[0]?.toLowerCase() === 'evalsha');
    expect(calls).toHaveLength(slots.size);
    expect(calls.filter((args) => args.some((arg) => arg.includes(a!)) && args.some((arg) => arg.includes(b!)))).toHaveLength(1);
  });

  it('completeMany groups the same way and no CROSSSLOT error reaches the caller', async () => {
    const keys = ['}x{', '{user1}:a', '{user2}:a', 'ünï 🎧', 'plain'].map((label) => uniqueKey(label));
    const outcomes = await store.claimMany(keys.map(claimOf));
    const completions = await store.completeMany(
      keys.map((key, i) => ({ key, fencingToken: outcomes[i]!.record.fencingToken, result: `${i}`, retentionMs: RETENTION })),
    );
    expect(completions).toEqual(keys.map(() => ({ ok: true })));
    for (const [i, key] of keys.entries()) expect((await store.get(key))?.result).toBe(`${i}`);
  });

  it('a key repeated in a batch is acquired by its first occurrence only', async () => {
    const [a, b] = keysOnOneSlot(2);
    const outcomes = await store.claimMany([a!, b!, a!, b!].map(claimOf));
    expect(outcomes.map((outcome) => outcome.acquired)).toEqual([true, true, false, false]);
    expect(outcomes[2]!.record.fencingToken).toBe(outcomes[0]!.record.fencingToken);
    expect(outcomes[3]!.record.fencingToken).toBe(outcomes[1]!.record.fencingToken);
  });

  it('a batch mixing one-slot and spread anyOf items judges a later item against an earlier one', async () => {
    const [state, id1, id2, lone] = [uniqueKey('state'), uniqueKey('id1'), uniqueKey('id2'), uniqueKey('lone')];
    const window = (at: number) => ({ at, windowMs: 500 });
    const calls = await log.during(async () => {
      const outcomes = await store.claimMany([
        { ...claimOf(id1), also: [{ key: state, window: window(1_000) }] },
        claimOf(lone),
        { ...claimOf(id2), also: [{ key: state, window: window(1_100) }] },
      ]);
      expect(outcomes.map((outcome) => outcome.acquired)).toEqual([true, true, false]);
      expect(outcomes[2]!.record).toMatchObject({ key: state, status: 'in_progress' });
    });
    expect(names(calls).every((name) => name === 'evalsha')).toBe(true);
    expect(await store.get(id2)).toBeUndefined();
  });
});
