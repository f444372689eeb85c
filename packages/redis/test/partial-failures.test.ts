import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import { IdempotencyStoreError, type ClaimRequest } from '@idemkit/core';
import { manualClock } from '@idemkit/core/testing';
import { ForeignValueError, PartialClaimError, type RedisStore } from '../src/index.js';
import { clusterClient, close, storeHandle, uniqueKey } from './support/clients.js';
import { FaultyProxy } from './support/faulty-proxy.js';
import { keysOnDistinctSlots, slotOfKey } from './support/slots.js';

// A batch whose per-slot calls reach several Cluster nodes, one of which fails: cut off by a
// proxy (no reply at all), or refusing the call (a script error). What landed on the other nodes
// is released again, and the error says exactly what was left.

const claimOf = (key: string, owner?: string): ClaimRequest => ({ key, leaseMs: 10_000, retentionMs: 60_000, ...(owner ? { owner } : {}) });

/** Each Cluster node's port, by slot range (CLUSTER SLOTS). */
async function nodeOfSlot(admin: Cluster): Promise<(slot: number) => number> {
  const ranges = await admin.cluster('SLOTS');
  return (slot) => ranges.find(([start, end]) => slot >= start && slot <= end)![2]![1];
}

describe('partial failures of Cluster batches', () => {
  const clock = manualClock();
  let proxy: FaultyProxy;
  let cutPort: number;
  let portOf: (key: string) => number;
  let proxied: { store: RedisStore; close: () => Promise<void> };
  let direct: { store: RedisStore; close: () => Promise<void> };
  let admin: Cluster;
  beforeAll(async () => {
    admin = clusterClient();
    const nodeOf = await nodeOfSlot(admin);
    portOf = (key) => nodeOf(slotOfKey(key));
    // The node serving the highest slots: a claim across slots reaches it last.
    cutPort = nodeOf(16_383);
    proxy = await FaultyProxy.start({ host: '127.0.0.1', port: cutPort });
    // The store under test reaches one node through the proxy; the other two directly.
    const natMap = { [`127.0.0.1:${cutPort}`]: { host: '127.0.0.1', port: proxy.port } };
    // retryDelayOnFailover 0: ioredis would otherwise re-send a command that met a closed connection
    // a moment later; here what was sent into the stall never reached the node, and stays lost.
    proxied = storeHandle(clusterClient({ natMap, retryDelayOnFailover: 0 }), clock.now, { operationTimeoutMs: 1_500 });
    direct = storeHandle(clusterClient(), clock.now);
    await proxied.store.claimMany(keysOnDistinctSlots(30, 'warm').map((key) => claimOf(key)));
  });
  afterAll(async () => {
    await Promise.all([proxied?.close(), direct?.close(), admin && close(admin as unknown as Redis)]);
    await proxy?.close();
  });

  /**
   * Ends the stall, waits until the client has seen its connection to that node close, then until
   * it has put the node back in its pool. Between the two, ioredis routes that node's slots to
   * another node, and with a `natMap` it follows the MOVED reply to the node's unmapped address,
   * which its pool does not hold: a loaded machine could exhaust the redirections before the slot
   * refresh ends, failing the next test's command for a reason of the client's, not the store's.
   */
  const resume = async () => {
    const client = proxied.store['client'] as unknown as Cluster;
    const node = client.nodes('all').find((candidate) => candidate.options.port === proxy.port);
    const ended = node === undefined || node.status === 'end' ? Promise.resolve() : new Promise((resolve) => node.once('end', resolve));
    proxy.resume();
    await ended;
    await new Promise<void>((resolve, reject) => client.refreshSlotsCache((error) => (error ? reject(error) : resolve())));
    expect(client.nodes('master').map((candidate) => candidate.options.port)).toContain(proxy.port);
  };

  /** A batch of keys, four on each node, with the indexes of those on the node behind the proxy. */
  const spreadBatch = (label: string) => {
    const perNode = new Map<number, string[]>();
    for (const key of keysOnDistinctSlots(200, label)) {
      const keys = perNode.get(portOf(key)) ?? [];
      if (keys.length < 4) perNode.set(portOf(key), [...keys, key]);
    }
    const keys = [...perNode.values()].flat().sort((a, b) => slotOfKey(a) - slotOfKey(b));
    const onCutNode = keys.flatMap((key, i) => (portOf(key) === cutPort ? [i] : []));
    expect(onCutNode).toHaveLength(4);
    expect(keys).toHaveLength(12);
    return { keys, onCutNode, elsewhere: keys.flatMap((_, i) => (onCutNode.includes(i) ? [] : [i])) };
  };

  it('a node cut off: the claims that landed elsewhere are released, the error lists them and the unanswered ones', async () => {
    const { keys, onCutNode, elsewhere } = spreadBatch('cut');
    proxy.stall();
    let error: unknown;
    try {
      error = await proxied.store.claimMany(keys.map((key, i) => claimOf(key, `req-1:${i}`))).catch((caught: unknown) => caught);
    } finally {
      await resume();
    }
    expect(error).toBeInstanceOf(PartialClaimError);
    expect(error).toMatchObject({ retryable: true, released: elsewhere, stillClaimed: [], unknown: onCutNode });
    expect((error as Error).cause).toBeInstanceOf(IdempotencyStoreError);
    // Nothing is left claimed: every key is free for the redelivery at once.
    for (const key of keys) expect(await direct.store.get(key)).toBeUndefined();
    const retry = await proxied.store.claimMany(keys.map((key, i) => claimOf(key, `req-1:${i}`)));
    expect(retry.map((outcome) => outcome.acquired)).toEqual(keys.map(() => true));
  });

  it('a call that fails with a script error on one slot: the others are released, nothing listed as unknown', async () => {
    const { keys, onCutNode } = spreadBatch('foreign');
    const foreign = onCutNode[0]!;
    await admin.set(direct.store.redisKey(keys[foreign]!), 'not ours');
    const error = await direct.store.claimMany(keys.map((key) => claimOf(key))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PartialClaimError);
    expect((error as Error).cause).toBeInstanceOf(ForeignValueError);
    // Every key has a slot of its own, so every other item went in a call of its own: landed, then released.
    expect(error).toMatchObject({ retryable: false, unknown: [], stillClaimed: [], released: keys.flatMap((_, i) => (i === foreign ? [] : [i])) });
    for (const [i, key] of keys.entries()) if (i !== foreign) expect(await direct.store.get(key)).toBeUndefined();
  });

  it('a claim across slots whose later slot is cut off releases the earlier slots and fails', async () => {
    const keys = keysOnDistinctSlots(40, 'spread');
    const low = keys.find((key) => portOf(key) !== cutPort)!;
    const high = keys.filter((key) => portOf(key) === cutPort).at(-1)!;
    expect(slotOfKey(high)).toBeGreaterThan(slotOfKey(low));
    proxy.stall();
    let error: unknown;
    try {
      error = await proxied.store.claim({ ...claimOf(low), also: [{ key: high }] }).catch((caught: unknown) => caught);
    } finally {
      await resume();
    }
    expect(error).toBeInstanceOf(PartialClaimError);
    expect(error).toMatchObject({ released: [], unknown: [0] });
    expect(await direct.store.get(low)).toBeUndefined();
    expect((await proxied.store.claim({ ...claimOf(low), also: [{ key: high }] })).acquired).toBe(true);
  });

  it('completeMany with a node cut off fails only that node’s items, and their retry completes them', async () => {
    const { keys, onCutNode } = spreadBatch('complete');
    const claims = await proxied.store.claimMany(keys.map((key) => claimOf(key)));
    const completions = keys.map((key, i) => ({ key, fencingToken: claims[i]!.record.fencingToken, result: `${i}`, retentionMs: 60_000 }));
    proxy.stall();
    let outcomes;
    try {
      outcomes = await proxied.store.completeMany(completions);
    } finally {
      await resume();
    }
    expect(outcomes.flatMap((outcome, i) => (outcome.ok ? [] : [i]))).toEqual(onCutNode);
    for (const i of onCutNode) expect(outcomes[i]).toMatchObject({ ok: false, error: { retryable: true } });
    const retried = await proxied.store.completeMany(onCutNode.map((i) => completions[i]!));
    expect(retried.map((outcome) => (outcome.ok ? 'ok' : String(outcome.error)))).toEqual(onCutNode.map(() => 'ok'));
    for (const [i, key] of keys.entries()) expect(await direct.store.get(key)).toMatchObject({ status: 'completed', result: `${i}` });
  });
});
