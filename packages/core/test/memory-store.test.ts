import { describe, expect, it } from 'vitest';
import { ConfigError, IdempotencyStoreError, MemoryStore } from '../src/index.js';
import { manualClock } from '../src/testing/index.js';

const claim = (store: MemoryStore, key: string, leaseMs = 10_000) =>
  store.claim({ key, leaseMs, retentionMs: 60_000 });

async function completeKey(store: MemoryStore, key: string) {
  const outcome = await claim(store, key);
  if (!outcome.acquired) throw new Error(`could not claim ${key}`);
  await store.complete({ key, fencingToken: outcome.fencingToken, result: '1', retentionMs: 60_000 });
}

describe('MemoryStore bounds', () => {
  it('never holds more than maxEntries, evicting the least recently written completed key', async () => {
    const store = new MemoryStore({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c', 'd']) await completeKey(store, key);
    expect(store.size).toBe(3);
    expect(await store.get('a')).toBeUndefined();
    expect(await store.get('d')).toBeDefined();
  });

  it('never evicts an in-progress claim, and says so when only claims are left', async () => {
    const store = new MemoryStore({ maxEntries: 2 });
    await claim(store, 'busy-1');
    await claim(store, 'busy-2');
    const error = await claim(store, 'third').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect((error as Error).message).toMatch(/in-progress claims; raise maxEntries/);
    expect((await store.get('busy-1'))?.status).toBe('in_progress');
    expect((await store.get('busy-2'))?.status).toBe('in_progress');
  });

  it('skips in-progress claims to evict the oldest completed key', async () => {
    const store = new MemoryStore({ maxEntries: 3 });
    await claim(store, 'busy');
    await completeKey(store, 'done-1');
    await completeKey(store, 'done-2');
    await completeKey(store, 'done-3');
    expect((await store.get('busy'))?.status).toBe('in_progress');
    expect(await store.get('done-1')).toBeUndefined();
    expect(await store.get('done-3')).toBeDefined();
  });

  it('makes room from expired records first', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ maxEntries: 2, clock: clock.now });
    await claim(store, 'short', 1_000);
    await store.claim({ key: 'expired', leaseMs: 1_000, retentionMs: 1_000 });
    clock.advance(1_000);
    expect((await claim(store, 'new')).acquired).toBe(true);
    expect(store.size).toBeLessThanOrEqual(2);
  });

  it('rejects a bad maxEntries with a ConfigError naming it', () => {
    expect(() => new MemoryStore({ maxEntries: 0 })).toThrow(ConfigError);
    expect(() => new MemoryStore({ maxEntries: -1 })).toThrow(
      expect.objectContaining({ field: 'maxEntries', message: expect.stringContaining('positive integer number of entries') }),
    );
  });

  it('validates claims before touching state', async () => {
    const store = new MemoryStore();
    await expect(store.claim({ key: '', leaseMs: 1, retentionMs: 1 })).rejects.toMatchObject({ field: 'key' });
    await expect(store.claim({ key: 'k', leaseMs: 0, retentionMs: 1 })).rejects.toMatchObject({ field: 'leaseMs' });
    expect(store.size).toBe(0);
  });
});
