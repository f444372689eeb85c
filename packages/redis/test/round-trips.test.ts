import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Redis } from 'ioredis';
import { encodeVersion, type ClaimOutcome } from '@idemkit/core';
import { manualClock } from '@idemkit/core/testing';
import type { RedisClient, RedisStore } from '../src/index.js';
import { CLAIM_SCRIPT, COMPARE_AND_SET_SCRIPT, STORE_SCRIPTS, WRITE_SCRIPT } from '../src/scripts.js';
import { clusterClient, clusterNodeClients, close, standaloneClient, storeHandle, uniqueKey } from './support/clients.js';
import { recordCommands, names, type CommandLog } from './support/command-log.js';
import { keysOnDistinctSlots, keysOnOneSlot } from './support/slots.js';

// Counts, at the client, the commands each store call sends: every command goes through the
// client's sendCommand, so nothing on the shared server can disturb the count. The script-reload
// test lives here too, and flushes only the private Cluster's nodes, never the shared server.

const LEASE = 10_000;
const RETENTION = 60_000;
const claimOf = (key: string) => ({ key, leaseMs: LEASE, retentionMs: RETENTION });

interface Setup {
  store: RedisStore;
  client: RedisClient;
  admins: Redis[];
  log: CommandLog;
  closeAll(): Promise<void>;
}

async function setUp(kind: 'standalone' | 'cluster'): Promise<Setup> {
  const client = kind === 'standalone' ? standaloneClient() : clusterClient();
  const handle = storeHandle(client, manualClock().now);
  const admins = kind === 'standalone' ? [standaloneClient()] : clusterNodeClients();
  // Load the script on every node, so the counts below see the steady state (one EVALSHA), and let
  // the client finish connecting: a command queued before the client is ready is sent twice.
  await Promise.all(admins.flatMap((admin) => STORE_SCRIPTS.map((script) => admin.script('LOAD', script.lua))));
  await handle.store.get(uniqueKey('warm-up'));
  return {
    store: handle.store,
    client,
    admins,
    log: recordCommands(client),
    async closeAll() {
      await Promise.all([handle.close(), ...admins.map(close)]);
    },
  };
}

for (const kind of ['standalone', 'cluster'] as const) {
  describe(`round trips (${kind})`, () => {
    let s: Setup;
    beforeAll(async () => {
      s = await setUp(kind);
    });
    afterAll(() => s?.closeAll());

    it('a claim, a duplicate claim and a completion are one command each: SET NX GET, then a compare-and-set', async () => {
      const key = uniqueKey('one-trip');
      let token = 0;
      const claimed = await s.log.during(async () => {
        const outcome = await s.store.claim(claimOf(key));
        expect(outcome.acquired).toBe(true);
        token = outcome.record.fencingToken;
      });
      expect(names(claimed)).toEqual(['set']);

      const duplicate = await s.log.during(async () => {
        const outcome = await s.store.claim(claimOf(key));
        expect(outcome).toMatchObject({ acquired: false, record: { status: 'in_progress', fencingToken: token } });
      });
      expect(names(duplicate)).toEqual(['set']);

      const completed = await s.log.during(() => s.store.complete({ key, fencingToken: token, result: '"done"', retentionMs: RETENTION }));
      expect(completed.map((args) => [args[0]!.toLowerCase(), args[1]])).toEqual([['evalsha', COMPARE_AND_SET_SCRIPT.sha]]);

      const completedDuplicate = await s.log.during(async () => {
        const outcome = await s.store.claim(claimOf(key));
        expect(outcome).toMatchObject({ acquired: false, record: { status: 'completed', result: '"done"' } });
      });
      expect(names(completedDuplicate)).toEqual(['set']);
    });

    it('a claim the value it meets would let acquire (released, lapsed, the owner’s own) is judged again by the script', async () => {
      const key = uniqueKey('reclaim');
      const first = await s.store.claim(claimOf(key));
      if (!first.acquired) throw new Error('expected the claim to acquire');
      await s.store.release(key, first.fencingToken);
      let second: ClaimOutcome | undefined;
      const reclaimed = await s.log.during(async () => {
        second = await s.store.claim(claimOf(key));
      });
      expect(second).toMatchObject({ acquired: true });
      expect(second!.record.fencingToken).toBeGreaterThan(first.fencingToken);
      expect(reclaimed.map((args) => (args[0]!.toLowerCase() === 'set' ? 'set' : args[1]))).toEqual(['set', CLAIM_SCRIPT.sha]);
      // Claimed by the script, so completed by the script (nothing remembered to compare with).
      const completed = await s.log.during(() => s.store.complete({ key, fencingToken: second!.record.fencingToken, retentionMs: RETENTION }));
      expect(completed.map((args) => args[1])).toEqual([WRITE_SCRIPT.sha]);
    });

    it('a completion after the claim’s lease was extended goes through the script', async () => {
      const key = uniqueKey('extended');
      const outcome = await s.store.claim(claimOf(key));
      if (!outcome.acquired) throw new Error('expected the claim to acquire');
      await s.store.extendLease({ key, fencingToken: outcome.fencingToken, leaseMs: LEASE });
      const completed = await s.log.during(() => s.store.complete({ key, fencingToken: outcome.fencingToken, retentionMs: RETENTION }));
      expect(completed.map((args) => args[1])).toEqual([WRITE_SCRIPT.sha]);
      expect(await s.store.get(key)).toMatchObject({ status: 'completed', fencingToken: outcome.fencingToken });
    });

    it('release, get, extendLease and every ordering-guard call are one command each', async () => {
      const key = uniqueKey('release-get');
      const { record } = await s.store.claim(claimOf(key));
      expect(names(await s.log.during(() => s.store.get(key)))).toEqual(['evalsha']);
      expect(names(await s.log.during(() => s.store.extendLease({ key, fencingToken: record.fencingToken, leaseMs: LEASE })))).toEqual(['evalsha']);
      const released = await s.log.during(async () => {
        expect(await s.store.release(key, record.fencingToken)).toBe(true);
      });
      expect(names(released)).toEqual(['evalsha']);

      const entity = uniqueKey('entity');
      let token = 0;
      const claimed = await s.log.during(async () => {
        const outcome = await s.store.claimVersion({ entity, version: encodeVersion(1), leaseMs: LEASE, retentionMs: RETENTION });
        if (outcome.status === 'acquired') token = outcome.fencingToken;
      });
      expect(names(claimed)).toEqual(['evalsha']);
      expect(names(await s.log.during(() => s.store.completeVersion(entity, token, RETENTION)))).toEqual(['evalsha']);
      expect(names(await s.log.during(() => s.store.getVersion(entity)))).toEqual(['evalsha']);
    });

    it('an anyOf claim and its completion are one command each when its identities share a slot', async () => {
      const [id, state, hash] = keysOnOneSlot(3);
      let outcome = await s.store.claim(claimOf(uniqueKey('first')));
      const claimed = await s.log.during(async () => {
        outcome = await s.store.claim({ ...claimOf(id!), also: [{ key: state! }, { key: hash! }] });
      });
      expect(names(claimed)).toEqual(['evalsha']);
      if (!outcome.acquired) throw new Error('expected the claim to acquire');
      const { fencingToken, also } = outcome;
      const completed = await s.log.during(() => s.store.complete({ key: id!, fencingToken, also, retentionMs: RETENTION }));
      expect(names(completed)).toEqual(['evalsha']);
    });
  });
}

describe('round trips across Cluster slots', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp('cluster');
  });
  afterAll(() => s?.closeAll());

  it('an anyOf claim over three slots takes one call per slot, in turn; its completion two rounds of calls at once', async () => {
    const [id, hash, state] = keysOnDistinctSlots(3);
    let tokens = { fencingToken: 0, also: [] as { key: string; fencingToken: number }[] };
    const claimed = await s.log.during(async () => {
      const outcome = await s.store.claim({ ...claimOf(id!), also: [{ key: hash! }, { key: state! }] });
      if (!outcome.acquired) throw new Error('expected the claim to acquire');
      tokens = { fencingToken: outcome.fencingToken, also: outcome.also! };
    });
    expect(names(claimed)).toEqual(['evalsha', 'evalsha', 'evalsha']);
    // prepare on every slot, then complete on every slot.
    const completed = await s.log.during(() => s.store.complete({ key: id!, ...tokens, retentionMs: RETENTION }));
    expect(names(completed)).toEqual(Array(6).fill('evalsha'));
    // EVALSHA sha numkeys keys… op …
    expect(completed.map((args) => args[3 + Number(args[2])])).toEqual([
      ...Array(3).fill('prepare'),
      ...Array(3).fill('complete'),
    ]);
    // A duplicate refused on the lowest slot by the first identity is answered at once.
    const duplicate = await s.log.during(async () => {
      expect((await s.store.claim({ ...claimOf(id!), also: [{ key: hash! }, { key: state! }] })).acquired).toBe(false);
    });
    expect(names(duplicate).length).toBeLessThanOrEqual(3);
  });

  it('after SCRIPT FLUSH on every node, the next claim reloads the script and succeeds', async () => {
    const keys = Array.from({ length: 10 }, (_, i) => uniqueKey(`flush-${i}`));
    await Promise.all(s.admins.map((admin) => admin.script('FLUSH')));
    const outcomes = await s.store.claimMany(keys.map(claimOf));
    expect(outcomes.every((outcome) => outcome.acquired)).toBe(true);
    // Each node the batch reached answered NOSCRIPT once and got the script by EVAL.
    const key = uniqueKey('after-flush');
    await Promise.all(s.admins.map((admin) => admin.script('FLUSH')));
    // (claimMany: a single claim of a fresh key is a plain SET, no script.)
    const reloaded = await s.log.during(async () => {
      expect((await s.store.claimMany([claimOf(key)]))[0]!.acquired).toBe(true);
    });
    expect(names(reloaded)).toEqual(['evalsha', 'eval']);
    // Loaded again: the following call is back to one EVALSHA.
    const again = await s.log.during(async () => {
      expect((await s.store.claimMany([claimOf(key)]))[0]!.acquired).toBe(false);
    });
    expect(names(again)).toEqual(['evalsha']);
  });
});

describe('batches (standalone)', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp('standalone');
  });
  afterAll(() => s?.closeAll());

  it('claimMany of an SQS batch of 10 is one pipeline of native claims, completeMany one pipeline of compare-and-sets', async () => {
    const keys = Array.from({ length: 10 }, (_, i) => uniqueKey(`sqs-${i}`));
    let tokens: number[] = [];
    const pipelines = vi.spyOn(s.client as Redis, 'pipeline');
    const claimed = await s.log.during(async () => {
      const outcomes = await s.store.claimMany(keys.map(claimOf));
      expect(outcomes.every((outcome) => outcome.acquired)).toBe(true);
      tokens = outcomes.map((outcome) => outcome.record.fencingToken);
    });
    expect(pipelines).toHaveBeenCalledTimes(1);
    expect(names(claimed)).toEqual(Array(10).fill('set'));
    pipelines.mockClear();
    keys.forEach((key, i) => expect(claimed[i]!.some((arg) => arg.includes(key))).toBe(true));

    const completed = await s.log.during(async () => {
      const outcomes = await s.store.completeMany(keys.map((key, i) => ({ key, fencingToken: tokens[i]!, result: `${i}`, retentionMs: RETENTION })));
      expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    });
    expect(pipelines).toHaveBeenCalledTimes(1);
    pipelines.mockRestore();
    expect(names(completed)).toEqual(Array(10).fill('evalsha'));
    expect(completed.every((args) => args[1] === COMPARE_AND_SET_SCRIPT.sha)).toBe(true);
    for (const [i, key] of keys.entries()) expect(await s.store.get(key)).toMatchObject({ status: 'completed', result: `${i}`, fencingToken: tokens[i] });
  });

  it('a batch of 600 is one pipeline, in order, so a key repeated in it is acquired once', async () => {
    const keys = Array.from({ length: 600 }, (_, i) => uniqueKey(`big-${i}`));
    keys[300] = keys[0]!;
    const calls = await s.log.during(async () => {
      const outcomes = await s.store.claimMany(keys.map(claimOf));
      expect(outcomes.filter((outcome) => !outcome.acquired)).toHaveLength(1);
      expect(outcomes[300]).toMatchObject({ acquired: false, record: { fencingToken: outcomes[0]!.record.fencingToken } });
    });
    expect(names(calls)).toEqual(Array(600).fill('set'));
  });

  it('a batch that needs the script sends only those items to it (in calls of at most 256), after the pipeline', async () => {
    const keys = Array.from({ length: 600 }, (_, i) => uniqueKey(`mixed-${i}`));
    // Every request an anyOf claim: the pipeline takes single identities only.
    const calls = await s.log.during(async () => {
      const outcomes = await s.store.claimMany(keys.map((key, i) => (i % 2 === 0 ? claimOf(key) : { ...claimOf(key), also: [{ key: `${key}:also` }] })));
      expect(outcomes.every((outcome) => outcome.acquired)).toBe(true);
    });
    expect(names(calls)).toEqual([...Array(300).fill('set'), 'evalsha', 'evalsha']);
  });
});
