import { describe, expect, it } from 'vitest';
import { IdempotencyEngine, IdempotencyInProgressError, MemoryStore, stateWindow } from '../src/index.js';
import { manualClock } from '../src/testing/index.js';
import { counting, gate } from './support/stores.js';

// localCache: a warm process answers repeats it knows completed with zero round trips, and never
// anything else — no in-progress claim, nothing past retention, windows judged like the store.


const T0 = 1_709_806_530_000;
const byState = stateWindow({ entity: 'c', state: 's', time: 't', windowMs: 500 });

describe('localCache', () => {
  it('answers a repeat of an event this process completed with zero store calls', async () => {
    const { store, calls } = counting(new MemoryStore());
    const engine = new IdempotencyEngine({ store, strategy: { strategy: 'eventId' }, localCache: true });
    let runs = 0;
    expect(await engine.run({ id: 'e-1' }, async () => ({ n: ++runs }))).toEqual({ n: 1 });
    const afterFirst = calls();
    expect(await engine.run({ id: 'e-1' }, async () => ({ n: ++runs }))).toEqual({ n: 1 });
    expect(await engine.run({ id: 'e-1' }, async () => ({ n: ++runs }))).toEqual({ n: 1 });
    expect(calls()).toBe(afterFirst);
    expect(runs).toBe(1);
  });

  it('remembers a completed duplicate the store answered, so the next repeat costs nothing', async () => {
    const shared = new MemoryStore();
    await new IdempotencyEngine({ store: shared, strategy: { strategy: 'eventId' } }).run({ id: 'e-2' }, async () => 'elsewhere');
    const { store, calls } = counting(shared);
    const engine = new IdempotencyEngine({ store, strategy: { strategy: 'eventId' }, localCache: { maxEntries: 10 } });
    expect(await engine.run({ id: 'e-2' }, async () => 'again')).toBe('elsewhere');
    const once = calls();
    expect(await engine.run({ id: 'e-2' }, async () => 'again')).toBe('elsewhere');
    expect(calls()).toBe(once);
  });

  it('never caches an in-progress claim', async () => {
    const engine = new IdempotencyEngine({ store: new MemoryStore(), strategy: { strategy: 'eventId' }, localCache: true });
    const hold = gate();
    const started = gate();
    const first = engine.run({ id: 'e-3' }, async () => {
      started.open();
      await hold.promise;
      return 'first';
    });
    await started.promise;
    await expect(engine.run({ id: 'e-3' }, async () => 'second')).rejects.toBeInstanceOf(IdempotencyInProgressError);
    await expect(engine.run({ id: 'e-3' }, async () => 'second')).rejects.toBeInstanceOf(IdempotencyInProgressError);
    hold.open();
    expect(await first).toBe('first');
    expect(await engine.run({ id: 'e-3' }, async () => 'third')).toBe('first');
  });

  it('never answers past the retention: the store decides again', async () => {
    const clock = manualClock(T0);
    const { store, calls } = counting(new MemoryStore({ clock: clock.now }));
    const engine = new IdempotencyEngine({ store, strategy: { strategy: 'eventId' }, localCache: true, retentionMs: 5_000, clock: clock.now });
    let runs = 0;
    await engine.run({ id: 'e-4' }, async () => ++runs);
    clock.advance(4_999);
    const before = calls();
    await engine.run({ id: 'e-4' }, async () => ++runs);
    expect(calls()).toBe(before);
    clock.advance(1);
    await engine.run({ id: 'e-4' }, async () => ++runs);
    expect(runs).toBe(2);
  });

  it('judges windows by the store’s rule: a distinct occurrence of a cached key still runs', async () => {
    const engine = new IdempotencyEngine<{ c: string; s: string; t: number }, number>({ store: new MemoryStore(), strategy: byState, localCache: true });
    const runs: number[] = [];
    const handler = async (event: { t: number }) => runs.push(event.t);
    await engine.run({ c: 'conv', s: 'connected', t: T0 }, handler);
    await engine.run({ c: 'conv', s: 'connected', t: T0 + 100 }, handler);
    await engine.run({ c: 'conv', s: 'connected', t: T0 + 60_000 }, handler);
    await engine.run({ c: 'conv', s: 'connected', t: T0 }, handler);
    expect(runs).toEqual([T0, T0 + 60_000]);
  });

  it('is bounded: the least recently used key is forgotten first (and then asked of the store)', async () => {
    const { store, calls } = counting(new MemoryStore());
    const engine = new IdempotencyEngine({ store, strategy: { strategy: 'eventId' }, localCache: { maxEntries: 2 } });
    for (const id of ['a', 'b', 'c']) await engine.run({ id }, async () => id);
    let before = calls();
    await engine.run({ id: 'c' }, async () => 'x');
    await engine.run({ id: 'b' }, async () => 'x');
    expect(calls()).toBe(before);
    before = calls();
    expect(await engine.run({ id: 'a' }, async () => 'x')).toBe('a');
    expect(calls()).toBeGreaterThan(before);
  });

  it('answers cached items of an SQS batch without claiming them', async () => {
    const { store, calls } = counting(new MemoryStore());
    const engine = new IdempotencyEngine({ store, strategy: { strategy: 'eventId' }, localCache: true });
    await engine.runBatch([{ id: 'm-1', event: { id: 'a' } }], async () => 'a', { completion: 'batch' });
    const before = calls();
    const outcomes = await engine.runBatch([{ id: 'm-1', event: { id: 'a' } }, { id: 'm-2', event: { id: 'a' } }], async () => 'again');
    expect(outcomes.map((outcome) => [outcome.status, 'result' in outcome ? outcome.result : undefined])).toEqual([
      ['duplicate', 'a'],
      ['duplicate', 'a'],
    ]);
    expect(calls()).toBe(before);
  });

  it('refuses a bad maxEntries, naming the field', () => {
    expect(() => new IdempotencyEngine({ store: new MemoryStore(), strategy: { strategy: 'eventId' }, localCache: { maxEntries: 0 } })).toThrow(
      expect.objectContaining({ field: 'localCache.maxEntries' }),
    );
  });
});
