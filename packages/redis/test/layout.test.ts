import { afterAll, describe, expect, it } from 'vitest';
import { manualClock } from '@idemkit/core/testing';
import { encodeKey } from '../src/keys.js';
import { close, runPrefix, standaloneClient, storeHandle, uniqueKey } from './support/clients.js';

const HOUR = 3_600_000;

describe('key layout and server-side expiry', () => {
  const clock = manualClock();
  const { store, close: closeStore } = storeHandle(standaloneClient(), clock.now);
  const admin = standaloneClient();
  afterAll(async () => {
    await closeStore();
    await close(admin);
  });

  it('puts a key in <prefix>:{<key>}:record and <prefix>:{<key>}:fence, escaping %, { and }', () => {
    expect(store.redisKeys('orders:evt 1')).toEqual({
      record: `${runPrefix()}:{orders:evt 1}:record`,
      fence: `${runPrefix()}:{orders:evt 1}:fence`,
    });
    expect(store.redisKeys('a{b}').record).toBe(`${runPrefix()}:{a%7Bb%7D}:record`);
    // Escaping is injective: the escaped form of one key is never another key's.
    const keys = ['a{b', 'a%7Bb', 'a%257Bb', '}', '%7D', '{}', '%'];
    expect(new Set(keys.map(encodeKey)).size).toBe(keys.length);
    for (const key of keys) expect(encodeKey(key)).not.toMatch(/[{}]/);
  });

  it('stores the record as a hash of its own fields and the last token beside it', async () => {
    const key = uniqueKey('fields');
    const { record } = await store.claim({
      key,
      leaseMs: 10_000,
      retentionMs: 60_000,
      fingerprint: 'fp',
      window: { at: 1_700_000_000_123, windowMs: 500 },
    });
    const now = clock.now();
    expect(await admin.hgetall(store.redisKeys(key).record)).toEqual({
      status: 'in_progress',
      fencingToken: String(record.fencingToken),
      leaseExpiresAt: String(now + 10_000),
      expiresAt: String(now + 60_000),
      claimedAt: String(now),
      fingerprint: 'fp',
      windowAnchor: '1700000000123',
    });
    expect(await admin.get(store.redisKeys(key).fence)).toBe(String(record.fencingToken));
  });

  it('expires the record with the server too, and keeps the counter an hour longer', async () => {
    const key = uniqueKey('ttl');
    const { record } = await store.claim({ key, leaseMs: 10_000, retentionMs: 60_000 });
    const keys = store.redisKeys(key);
    const claimedTtl = await admin.pttl(keys.record);
    expect(claimedTtl).toBeGreaterThan(50_000);
    expect(claimedTtl).toBeLessThanOrEqual(60_000);
    const fenceTtl = await admin.pttl(keys.fence);
    expect(fenceTtl).toBeGreaterThan(60_000 + HOUR - 10_000);
    expect(fenceTtl).toBeLessThanOrEqual(60_000 + HOUR);

    // Retention restarts at completion: a short one shortens the record, never the counter…
    await store.complete({ key, fencingToken: record.fencingToken, result: '1', retentionMs: 5_000 });
    const completedTtl = await admin.pttl(keys.record);
    expect(completedTtl).toBeGreaterThan(0);
    expect(completedTtl).toBeLessThanOrEqual(5_000);
    expect(await admin.pttl(keys.fence)).toBeGreaterThan(60_000 + HOUR - 10_000);
  });

  it('a long retention at completion lengthens the counter to outlive the record', async () => {
    const key = uniqueKey('long-retention');
    const { record } = await store.claim({ key, leaseMs: 1_000, retentionMs: 1_000 });
    const week = 7 * 24 * HOUR;
    await store.complete({ key, fencingToken: record.fencingToken, retentionMs: week });
    expect(await admin.pttl(store.redisKeys(key).record)).toBeGreaterThan(week - 10_000);
    expect(await admin.pttl(store.redisKeys(key).fence)).toBeGreaterThan(week + HOUR - 10_000);
  });

  it('a claim takes an expiresAt from max(retentionMs, leaseMs) and a server TTL of at least 1 ms', async () => {
    const key = uniqueKey('lease-longer');
    const { record } = await store.claim({ key, leaseMs: 20_000, retentionMs: 1 });
    expect(record.expiresAt).toBe(clock.now() + 20_000);
    expect(await admin.pttl(store.redisKeys(key).record)).toBeGreaterThan(10_000);
  });
});
