import { describe, expect, it } from 'vitest';
import { IdempotencyEngine, IdempotencyInProgressError, MemoryStore } from '../src/index.js';
import { manualClock } from '../src/testing/index.js';

// The in-process cache may only answer for what the store recorded. An anyOf claim whose handler
// outlived its lease can lose one identity to another delivery; the engine then completes the
// others without it, and that identity must not be answered from the cache as completed.

type Ev = { id: string; detail: { order: string } };
const byIdOrOrder = { strategy: 'anyOf', of: [{ strategy: 'eventId' }, { strategy: 'eventId', path: 'detail.order' }] } as const;

describe('localCache and anyOf identities', () => {
  it('caches only the identities the completion recorded, never one taken over before it', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ clock: clock.now });
    const options = { store, strategy: byIdOrOrder as never, leaseMs: 1_000, clock: clock.now };
    const cached = new IdempotencyEngine<Ev, string>({ ...options, localCache: true });
    const rival = new IdempotencyEngine<Ev, string>(options);
    let rivalRunning: Promise<unknown> | undefined;
    let releaseRival!: () => void;

    await cached.run({ id: 'e-1', detail: { order: 'o-1' } }, async () => {
      // This handler outlives its lease, and another delivery of order o-1 takes that identity over.
      clock.advance(1_001);
      rivalRunning = rival.run({ id: 'e-2', detail: { order: 'o-1' } }, () => new Promise<string>((resolve) => (releaseRival = () => resolve('rival'))));
      await Promise.resolve();
      return 'first';
    });
    // e-1's own identity was recorded and is answered from the cache…
    expect(await cached.run({ id: 'e-1', detail: { order: 'o-9' } }, async () => 'ran again')).toBe('first');
    // …but order o-1 is the rival's, still running: the store says so, and so must this process.
    await expect(cached.run({ id: 'e-3', detail: { order: 'o-1' } }, async () => 'ran')).rejects.toBeInstanceOf(IdempotencyInProgressError);
    releaseRival();
    await rivalRunning;
  });
});
