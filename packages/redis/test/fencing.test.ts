import { afterAll, describe, expect, it } from 'vitest';
import { manualClock } from '@idemkit/core/testing';
import { close, standaloneClient, storeHandle, uniqueKey } from './support/clients.js';

const claimOf = (key: string) => ({ key, leaseMs: 10_000, retentionMs: 60_000 });

describe('fencing tokens on the server', () => {
  const clock = manualClock();
  const { store, close: closeStore } = storeHandle(standaloneClient(), clock.now);
  const admin = standaloneClient();
  afterAll(async () => {
    await closeStore();
    await close(admin);
  });

  it('a fresh key starts at the clock floor, now × 1000', async () => {
    const { record } = await store.claim(claimOf(uniqueKey('floor')));
    expect(record.fencingToken).toBe(clock.now() * 1000);
    expect(Number.isSafeInteger(record.fencingToken)).toBe(true);
  });

  it('the counter carries the token on when the server has deleted the record, at the same instant', async () => {
    const key = uniqueKey('record-gone');
    const first = (await store.claim(claimOf(key))).record.fencingToken;
    await admin.del(store.redisKeys(key).record); // as if the server's TTL had run out
    const second = (await store.claim(claimOf(key))).record.fencingToken;
    expect(second).toBe(first + 1);
  });

  it('the clock floor carries it on when the counter is gone too', async () => {
    const key = uniqueKey('all-gone');
    let previous = 0;
    for (let i = 0; i < 5; i++) {
      const token = (await store.claim(claimOf(key))).record.fencingToken;
      expect(await store.release(key, token)).toBe(true);
      previous = token;
    }
    await admin.del(store.redisKeys(key).fence); // as if fenceGraceMs had passed
    clock.advance(1);
    expect((await store.claim(claimOf(key))).record.fencingToken).toBeGreaterThan(previous);
  });

  it('a consumer whose clock runs behind still gets a higher token while the counter lives', async () => {
    const ahead = manualClock(clock.now() + 5_000);
    const skewed = storeHandle(standaloneClient(), ahead.now);
    try {
      const key = uniqueKey('skew');
      const fast = (await skewed.store.claim(claimOf(key))).record.fencingToken;
      expect(await skewed.store.release(key, fast)).toBe(true);
      const slow = (await store.claim(claimOf(key))).record.fencingToken;
      expect(slow).toBeGreaterThan(fast);
    } finally {
      await skewed.close();
    }
  });
});
