import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import { manualClock } from '@idemkit/core/testing';
import type { RedisStore } from '../src/index.js';
import { keysFor } from '../src/keys.js';
import { slotOfHashTag } from '../src/slot.js';
import { clusterClient, clusterNodeClients, close, runPrefix, storeHandle, uniqueKey } from './support/clients.js';
import { monitorServers, type CommandLog } from './support/monitor.js';

const RETENTION = 60_000;
const claimOf = (key: string) => ({ key, leaseMs: 10_000, retentionMs: RETENTION });

/** Two different keys whose Redis keys land in the same Cluster slot (found by trying). */
function sameSlotPair(): [string, string] {
  const bySlot = new Map<number, string>();
  for (;;) {
    const key = uniqueKey('pair');
    const slot = slotOfHashTag(keysFor(runPrefix(), key).hashTag);
    const other = bySlot.get(slot);
    if (other !== undefined) return [other, key];
    bySlot.set(slot, key);
  }
}

describe('batches on a Cluster', () => {
  let store: RedisStore;
  let client: Cluster;
  let admins: Redis[];
  let log: CommandLog;
  beforeAll(async () => {
    client = clusterClient();
    store = storeHandle(client, manualClock().now).store;
    admins = clusterNodeClients();
    await store.claim(claimOf(uniqueKey('warm'))); // at least one node has the script
    log = await monitorServers(admins);
  });
  afterAll(async () => {
    await log?.stop();
    await Promise.all([close(client), ...admins.map(close)]);
  });

  it('our slot function agrees with CLUSTER KEYSLOT, and a key and its counter share a slot', async () => {
    const tricky = ['}x{', '{user1}:a', 'a}b{c', '%7B', 'ünï cødé 🎧', 'a:b:c', ' ', 'k'.repeat(270), '{}', '}'];
    for (const key of tricky) {
      const { record, fence, hashTag } = keysFor(runPrefix(), key);
      const [recordSlot, fenceSlot] = await Promise.all([client.cluster('KEYSLOT', record), client.cluster('KEYSLOT', fence)]);
      expect(recordSlot).toBe(slotOfHashTag(hashTag));
      expect(fenceSlot).toBe(recordSlot);
    }
  });

  it('claimMany sends one script call per slot: two keys of one slot share a call', async () => {
    const [a, b] = sameSlotPair();
    const others = Array.from({ length: 8 }, (_, i) => uniqueKey(`other-${i}`));
    const keys = [a, b, ...others];
    const slots = new Set(keys.map((key) => slotOfHashTag(keysFor(runPrefix(), key).hashTag)));
    const commands = await log.during(keys, async () => {
      const outcomes = await store.claimMany(keys.map(claimOf));
      expect(outcomes.map((outcome) => outcome.acquired)).toEqual(keys.map(() => true));
      expect(outcomes.map((outcome) => outcome.record.key)).toEqual(keys);
    });
    // A node that never saw the script answers NOSCRIPT once and gets an EVAL: count calls by slot.
    const calls = commands.filter((args) => args[0]?.toLowerCase() === 'evalsha');
    expect(calls).toHaveLength(slots.size);
    expect(calls.filter((args) => args.some((arg) => arg.includes(a)) && args.some((arg) => arg.includes(b)))).toHaveLength(1);
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
    const [a, b] = sameSlotPair();
    const outcomes = await store.claimMany([a, b, a, b].map(claimOf));
    expect(outcomes.map((outcome) => outcome.acquired)).toEqual([true, true, false, false]);
    expect(outcomes[2]!.record.fencingToken).toBe(outcomes[0]!.record.fencingToken);
    expect(outcomes[3]!.record.fencingToken).toBe(outcomes[1]!.record.fencingToken);
  });
});
