import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { manualClock } from '@idemkit/core/testing';
import type { RedisStore } from '../src/index.js';
import { CLAIM, COMPLETE, RELEASE } from '../src/scripts.js';
import {
  clusterClient,
  clusterNodeClients,
  close,
  standaloneClient,
  storeHandle,
  uniqueKey,
} from './support/clients.js';
import { monitorServers, names, type CommandLog } from './support/monitor.js';

// Counts, with MONITOR, the commands the server receives per store call. The script-reload
// tests live here too: SCRIPT FLUSH in a parallel file would make the counts flaky.

const LEASE = 10_000;
const RETENTION = 60_000;
const claimOf = (key: string) => ({ key, leaseMs: LEASE, retentionMs: RETENTION });

interface Setup {
  store: RedisStore;
  admins: Redis[];
  log: CommandLog;
  closeAll(): Promise<void>;
}

async function setUp(kind: 'standalone' | 'cluster'): Promise<Setup> {
  const handle = storeHandle(kind === 'standalone' ? standaloneClient() : clusterClient(), manualClock().now);
  const admins = kind === 'standalone' ? [standaloneClient()] : clusterNodeClients();
  // Load every script on every node, so the counts below see the steady state (one EVALSHA).
  await Promise.all(admins.flatMap((admin) => [CLAIM, COMPLETE, RELEASE].map((script) => admin.script('LOAD', script.lua))));
  const log = await monitorServers(admins);
  return {
    store: handle.store,
    admins,
    log,
    async closeAll() {
      await log.stop();
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

    it('a claim, a duplicate claim and a completion are one command each', async () => {
      const key = uniqueKey('one-trip');
      let token = 0;
      const claimed = await s.log.during([key], async () => {
        const outcome = await s.store.claim(claimOf(key));
        expect(outcome.acquired).toBe(true);
        token = outcome.record.fencingToken;
      });
      expect(names(claimed)).toEqual(['evalsha']);

      const duplicate = await s.log.during([key], async () => {
        const outcome = await s.store.claim(claimOf(key));
        expect(outcome).toMatchObject({ acquired: false, record: { status: 'in_progress', fencingToken: token } });
      });
      expect(names(duplicate)).toEqual(['evalsha']);

      const completed = await s.log.during([key], () =>
        s.store.complete({ key, fencingToken: token, result: '"done"', retentionMs: RETENTION }),
      );
      expect(names(completed)).toEqual(['evalsha']);

      const completedDuplicate = await s.log.during([key], async () => {
        const outcome = await s.store.claim(claimOf(key));
        expect(outcome).toMatchObject({ acquired: false, record: { status: 'completed', result: '"done"' } });
      });
      expect(names(completedDuplicate)).toEqual(['evalsha']);
    });

    it('release and get are one command each', async () => {
      const key = uniqueKey('release-get');
      const { record } = await s.store.claim(claimOf(key));
      expect(names(await s.log.during([key], () => s.store.get(key)))).toEqual(['hgetall']);
      const released = await s.log.during([key], async () => {
        expect(await s.store.release(key, record.fencingToken)).toBe(true);
      });
      expect(names(released)).toEqual(['evalsha']);
    });

    it('after SCRIPT FLUSH on every node, the next claim reloads the script and succeeds', async () => {
      const keys = Array.from({ length: 10 }, (_, i) => uniqueKey(`flush-${i}`));
      await Promise.all(s.admins.map((admin) => admin.script('FLUSH')));
      const outcomes = await s.store.claimMany(keys.map(claimOf));
      expect(outcomes.every((outcome) => outcome.acquired)).toBe(true);
      // Each node the batch reached answered NOSCRIPT once and got the script by EVAL.
      const key = uniqueKey('after-flush');
      await Promise.all(s.admins.map((admin) => admin.script('FLUSH')));
      const reloaded = await s.log.during([key], async () => {
        expect((await s.store.claim(claimOf(key))).acquired).toBe(true);
      });
      expect(names(reloaded)).toEqual(['evalsha', 'eval']);
      // Loaded again: the following call is back to one EVALSHA.
      const again = await s.log.during([key], async () => {
        expect((await s.store.claim(claimOf(key))).acquired).toBe(false);
      });
      expect(names(again)).toEqual(['evalsha']);
    });
  });
}

describe('batches (standalone)', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp('standalone');
  });
  afterAll(() => s?.closeAll());

  it('claimMany and completeMany of an SQS batch of 10 are one command each', async () => {
    const keys = Array.from({ length: 10 }, (_, i) => uniqueKey(`sqs-${i}`));
    let tokens: number[] = [];
    const claimed = await s.log.during(keys, async () => {
      const outcomes = await s.store.claimMany(keys.map(claimOf));
      expect(outcomes.every((outcome) => outcome.acquired)).toBe(true);
      tokens = outcomes.map((outcome) => outcome.record.fencingToken);
    });
    expect(names(claimed)).toEqual(['evalsha']);
    for (const key of keys) expect(claimed[0]!.some((arg) => arg.includes(key))).toBe(true);

    const completed = await s.log.during(keys, async () => {
      const outcomes = await s.store.completeMany(
        keys.map((key, i) => ({ key, fencingToken: tokens[i]!, result: `${i}`, retentionMs: RETENTION })),
      );
      expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    });
    expect(names(completed)).toEqual(['evalsha']);
  });
});
