import { afterAll, describe, expect, it } from 'vitest';
import { manualClock } from '@idemkit/core/testing';
import { encodeKey } from '../src/keys.js';
import { close, runPrefix, standaloneClient, storeHandle, uniqueKey } from './support/clients.js';
import { decodeValue } from './support/decode-value.js';

const HOUR = 3_600_000;

describe('key layout and server-side expiry', () => {
  const clock = manualClock();
  const { store, close: closeStore } = storeHandle(standaloneClient(), clock.now);
  const admin = standaloneClient();
  afterAll(async () => {
    await closeStore();
    await close(admin);
  });

  it('puts a key in <prefix>:{<key>} and an entity in <prefix>:{<entity>}:version, escaping %, { and }', () => {
    expect(store.redisKey('orders:evt 1')).toBe(`${runPrefix()}:{orders:evt 1}`);
    expect(store.versionKey('orders:evt 1')).toBe(`${runPrefix()}:{orders:evt 1}:version`);
    expect(store.redisKey('a{b}')).toBe(`${runPrefix()}:{a%7Bb%7D}`);
    // Escaping is injective: the escaped form of one key is never another key's.
    const keys = ['a{b', 'a%7Bb', 'a%257Bb', '}', '%7D', '{}', '%'];
    expect(new Set(keys.map(encodeKey)).size).toBe(keys.length);
    for (const key of keys) expect(encodeKey(key)).not.toMatch(/[{}]/);
  });

  it('keeps one string key per idemkit key: the fencing counter, then one entry per occurrence', async () => {
    const key = uniqueKey('fields');
    const { record } = await store.claim({
      key,
      leaseMs: 10_000,
      retentionMs: 60_000,
      fingerprint: 'fp',
      owner: 'req-1',
      window: { at: 1_700_000_000_123.5, windowMs: 500 },
    });
    const now = clock.now();
    // Nothing beside it: no separate fence key, no hash.
    expect(await admin.exists(`${store.redisKey(key)}:fence`, `${store.redisKey(key)}:record`)).toBe(0);
    expect(await admin.type(store.redisKey(key))).toBe('string');
    // The token and both expiries are stored relative to claimedAt: token − claimedAt × 1000, lease, retention.
    const token = String(record.fencingToken);
    expect(record.fencingToken).toBe(now * 1000);
    expect(await decodeValue(admin, store.redisKey(key))).toEqual([
      token,
      ['1', '0', '10000', '60000', String(now), '1700000000123.5', 'fp', 'req-1', 'false'],
    ]);
    clock.advance(5);
    await store.complete({ key, fencingToken: record.fencingToken, result: '"r"', retentionMs: 60_000 });
    expect(await decodeValue(admin, store.redisKey(key))).toEqual([
      token,
      ['2', '0', '10000', '60005', String(now), '1700000000123.5', 'fp', 'req-1', '"r"'],
    ]);
    expect((await store.get(key))?.windowAnchor).toBe(1_700_000_000_123.5);
  });

  it('drops occurrences past their retention whenever it writes the key', async () => {
    const key = uniqueKey('prune');
    const window = (at: number) => ({ at, windowMs: 500 });
    const old = await store.claim({ key, leaseMs: 1_000, retentionMs: 1_000, window: window(1_000) });
    await store.claim({ key, leaseMs: 10_000, retentionMs: 60_000, window: window(5_000) });
    expect(await decodeValue(admin, store.redisKey(key))).toHaveLength(3);
    clock.advance(1_000);
    await store.claim({ key, leaseMs: 10_000, retentionMs: 60_000, window: window(9_000) });
    const value = (await decodeValue(admin, store.redisKey(key))) as string[][];
    expect(value).toHaveLength(3);
    expect(await store.get(key, old.record.fencingToken)).toBeUndefined();
  });

  it('expires the key with its last occurrence plus the grace that keeps its counter', async () => {
    const key = uniqueKey('ttl');
    const { record } = await store.claim({ key, leaseMs: 10_000, retentionMs: 60_000 });
    const claimedTtl = await admin.pttl(store.redisKey(key));
    expect(claimedTtl).toBeGreaterThan(60_000 + HOUR - 10_000);
    expect(claimedTtl).toBeLessThanOrEqual(60_000 + HOUR);

    // Retention restarts at completion: a short one shortens the key's life, a long one lengthens it.
    await store.complete({ key, fencingToken: record.fencingToken, result: '1', retentionMs: 5_000 });
    const completedTtl = await admin.pttl(store.redisKey(key));
    expect(completedTtl).toBeGreaterThan(5_000 + HOUR - 10_000);
    expect(completedTtl).toBeLessThanOrEqual(5_000 + HOUR);

    const long = uniqueKey('long-retention');
    const claimed = await store.claim({ key: long, leaseMs: 1_000, retentionMs: 1_000 });
    const week = 7 * 24 * HOUR;
    await store.complete({ key: long, fencingToken: claimed.record.fencingToken, retentionMs: week });
    expect(await admin.pttl(store.redisKey(long))).toBeGreaterThan(week + HOUR - 10_000);
  });

  it('a released key keeps only its counter, for the grace', async () => {
    const key = uniqueKey('released');
    const { record } = await store.claim({ key, leaseMs: 10_000, retentionMs: 60_000 });
    expect(await store.release(key, record.fencingToken)).toBe(true);
    expect(await decodeValue(admin, store.redisKey(key))).toEqual([String(record.fencingToken)]);
    const ttl = await admin.pttl(store.redisKey(key));
    expect(ttl).toBeGreaterThan(HOUR - 10_000);
    expect(ttl).toBeLessThanOrEqual(HOUR);
  });

  it('a claim takes an expiresAt from max(retentionMs, leaseMs)', async () => {
    const key = uniqueKey('lease-longer');
    const { record } = await store.claim({ key, leaseMs: 20_000, retentionMs: 1 });
    expect(record.expiresAt).toBe(clock.now() + 20_000);
    expect(await admin.pttl(store.redisKey(key))).toBeGreaterThan(HOUR + 10_000);
  });

  it('keeps an entity’s versions in one key: counter, expiry, applied and pending', async () => {
    const entity = uniqueKey('entity');
    const outcome = await store.claimVersion({ entity, version: 'n02', leaseMs: 10_000, retentionMs: 60_000, owner: 'req-1' });
    if (outcome.status !== 'acquired') throw new Error('expected acquired');
    const now = clock.now();
    const token = String(outcome.fencingToken);
    expect(await decodeValue(admin, store.versionKey(entity))).toEqual([
      token,
      String(now + 60_000),
      'false',
      ['n02', token, String(now + 10_000), String(now), 'req-1'],
    ]);
    await store.completeVersion(entity, outcome.fencingToken, 30_000);
    expect(await decodeValue(admin, store.versionKey(entity))).toEqual([token, String(now + 30_000), 'n02', 'false']);
  });
});
