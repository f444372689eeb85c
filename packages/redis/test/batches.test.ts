import { afterAll, describe, expect, it } from 'vitest';
import { manualClock } from '@idemkit/core/testing';
import { planCalls } from '../src/batches.js';
import { close, standaloneClient, storeHandle, uniqueKey } from './support/clients.js';
import { monitorServers } from './support/monitor.js';

describe('planCalls', () => {
  it('keeps one group on a standalone server, cut into chunks in request order', () => {
    expect(planCalls(5, undefined, 2)).toEqual([[[0, 1], [2, 3], [4]]]);
  });

  it('groups by slot, keeping request order inside each group', () => {
    expect(planCalls(5, [7, 3, 7, 3, 9], 10)).toEqual([[[0, 2]], [[1, 3]], [[4]]]);
  });
});

describe('large batches', () => {
  const { store, close: closeStore } = storeHandle(standaloneClient(), manualClock().now);
  const admin = standaloneClient();
  afterAll(async () => {
    await closeStore();
    await close(admin);
  });

  it('split into calls of at most 256 items, in order, so a key repeated across calls is still acquired once', async () => {
    const keys = Array.from({ length: 600 }, (_, i) => uniqueKey(`big-${i}`));
    keys[300] = keys[0]!;
    const log = await monitorServers([admin]);
    try {
      const calls = await log.during(keys, async () => {
        const outcomes = await store.claimMany(keys.map((key) => ({ key, leaseMs: 1_000, retentionMs: 1_000 })));
        expect(outcomes.filter((outcome) => !outcome.acquired)).toHaveLength(1);
        expect(outcomes[300]).toMatchObject({ acquired: false, record: { fencingToken: outcomes[0]!.record.fencingToken } });
      });
      expect(calls.filter((args) => args[0]?.toLowerCase() === 'evalsha')).toHaveLength(3);
    } finally {
      await log.stop();
    }
  });
});
