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

  it('the counter stays in the key when every occurrence is gone: the next token at the same instant is one more', async () => {
    const key = uniqueKey('released');
    const first = (await store.claim(claimOf(key))).record.fencingToken;
    expect(await store.release(key, first)).toBe(true);
    expect(await admin.exists(store.redisKey(key))).toBe(1);
    expect((await store.claim(claimOf(key))).record.fencingToken).toBe(first + 1);
  });

  it('the clock floor carries it on when the whole key is gone', async () => {
    const key = uniqueKey('all-gone');
    let previous = 0;
    for (let i = 0; i < 5; i++) {
      const token = (await store.claim(claimOf(key))).record.fencingToken;
      expect(await store.release(key, token)).toBe(true);
      previous = token;
    }
    await admin.del(store.redisKey(key)); // as if fenceGraceMs had passed after its last retention
    clock.advance(1);
    expect((await store.claim(claimOf(key))).record.fencingToken).toBeGreaterThan(previous);
  });

  it('a consumer whose clock runs behind still gets a higher token while the key lives', async () => {
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

  it('versions of an entity share the rule: one more at the same instant, after release and after expiry', async () => {
    const entity = uniqueKey('entity');
    const claim = async () => {
      const outcome = await store.claimVersion({ entity, version: 'n01', leaseMs: 1_000, retentionMs: 1_000 });
      if (outcome.status !== 'acquired') throw new Error(`expected acquired, got ${outcome.status}`);
      return outcome.fencingToken;
    };
    const first = await claim();
    expect(await store.releaseVersion(entity, first)).toBe(true);
    const second = await claim();
    expect(second).toBe(first + 1);
    clock.advance(1_000);
    expect(await store.getVersion(entity)).toBeUndefined();
    expect(await claim()).toBeGreaterThan(second);
  });
});
