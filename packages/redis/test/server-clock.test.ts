import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { Redis } from 'ioredis';
import { systemClock } from '@idemkit/core';
import { clusterClient, close, standaloneClient, storeHandle, uniqueKey } from './support/clients.js';
import { keysOnDistinctSlots } from './support/slots.js';

// clock: 'server' decides leases, retention and the token floor by the Redis node's TIME, read
// inside each script: consumers whose own clocks disagree still agree on every lease.

const HOUR = 3_600_000;
const claimOf = (key: string, leaseMs = 10_000) => ({ key, leaseMs, retentionMs: 60_000 });

/** The server's clock, epoch ms. */
async function serverNow(admin: Redis): Promise<number> {
  const [seconds, micros] = await admin.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

describe("clock: 'server'", () => {
  const admin = standaloneClient();
  const serverClocked = storeHandle(standaloneClient(), systemClock, { clock: 'server' });
  const callerClocked = storeHandle(standaloneClient(), systemClock);
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    await Promise.all([serverClocked.close(), callerClocked.close(), close(admin)]);
  });

  it('a consumer whose clock runs an hour ahead does not take over a running lease (a caller-clocked one does)', async () => {
    const key = uniqueKey('skew');
    const held = await serverClocked.store.claim(claimOf(key));
    expect(held.acquired).toBe(true);
    // Every Date.now() in this process now reads an hour ahead: a consumer with a skewed clock.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + HOUR });
    const skewed = await serverClocked.store.claim(claimOf(key));
    expect(skewed).toMatchObject({ acquired: false, record: { status: 'in_progress', fencingToken: held.record.fencingToken } });
    // The same skew on the caller's clock sees the lease long past, and takes the claim over.
    const callerSkewed = await callerClocked.store.claim(claimOf(key));
    expect(callerSkewed.acquired).toBe(true);
  });

  it('records carry the server’s times, and tokens its floor, whatever the caller’s clock says', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() - HOUR });
    const key = uniqueKey('times');
    const before = await serverNow(admin);
    const outcome = await serverClocked.store.claim(claimOf(key));
    const after = await serverNow(admin);
    expect(outcome.acquired).toBe(true);
    const { record } = outcome;
    expect(record.claimedAt).toBeGreaterThanOrEqual(before);
    expect(record.claimedAt).toBeLessThanOrEqual(after);
    expect(record.leaseExpiresAt).toBe(record.claimedAt + 10_000);
    expect(record.fencingToken).toBeGreaterThanOrEqual(record.claimedAt * 1000);
    expect(await serverClocked.store.get(key)).toMatchObject({ claimedAt: record.claimedAt, fencingToken: record.fencingToken });
    await serverClocked.store.complete({ key, fencingToken: record.fencingToken, result: '1', retentionMs: 60_000 });
    const completed = await serverClocked.store.get(key);
    expect(completed!.expiresAt).toBeGreaterThanOrEqual(after + 60_000);
  });

  it('a lease lapses when the server’s clock passes it, and the key is then taken over with a higher token', async () => {
    const key = uniqueKey('lapse');
    const first = await serverClocked.store.claim(claimOf(key, 1));
    expect(first.acquired).toBe(true);
    // Wait for the server's clock, not for time: poll TIME until it has passed the lease.
    while ((await serverNow(admin)) < first.record.leaseExpiresAt) await admin.ping();
    const second = await serverClocked.store.claim(claimOf(key));
    expect(second.acquired).toBe(true);
    expect(second.record.fencingToken).toBeGreaterThan(first.record.fencingToken);
  });

  it('the ordering guard runs on the server’s clock too', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + HOUR });
    const entity = uniqueKey('entity');
    const outcome = await serverClocked.store.claimVersion({ entity, version: 'n01', leaseMs: 10_000, retentionMs: 60_000 });
    expect(outcome.status).toBe('acquired');
    const now = await serverNow(admin);
    expect(outcome.record.pending!.claimedAt).toBeLessThanOrEqual(now);
    expect(outcome.record.pending!.claimedAt).toBeGreaterThan(now - HOUR / 2);
    expect((await serverClocked.store.claimVersion({ entity, version: 'n02', leaseMs: 10_000, retentionMs: 60_000 })).status).toBe('in_progress');
  });

  it('on a Cluster, an anyOf claim across slots reads each node’s clock', async () => {
    const handle = storeHandle(clusterClient(), systemClock, { clock: 'server' });
    try {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + HOUR });
      const [a, b, c] = keysOnDistinctSlots(3, 'server-clock');
      const outcome = await handle.store.claim({ ...claimOf(a!), also: [{ key: b! }, { key: c! }] });
      expect(outcome.acquired).toBe(true);
      const now = await serverNow(admin);
      for (const key of [a!, b!, c!]) {
        const record = await handle.store.get(key);
        expect(Math.abs(record!.claimedAt - now)).toBeLessThan(HOUR / 2);
      }
      expect((await handle.store.claim(claimOf(b!))).acquired).toBe(false);
    } finally {
      await handle.close();
    }
  });
});
