import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RoundTripDeadlines } from '../src/deadline.js';

// The store's round trips share one timer (src/deadline.ts); each must still fail at its own
// deadline, and none that settled may be failed. Fake timers and a manual `now`: no waiting.

describe('round-trip deadlines', () => {
  let now = 0;
  const deadlines = () => new RoundTripDeadlines(1_000, () => 'client status "reconnecting"', () => now);
  const never = () => new Promise<never>(() => undefined);
  const advance = async (ms: number) => {
    now += ms;
    await vi.advanceTimersByTimeAsync(ms);
  };
  beforeEach(() => {
    now = 0;
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('fails a call with no reply once it has run the limit, naming the limit and the client state, and not before', async () => {
    const d = deadlines();
    const outcome = d.run(never).then(() => 'resolved', (error: Error) => error);
    await advance(999);
    let settled = false;
    void outcome.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await advance(1);
    const error = (await outcome) as Error;
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toBe('no reply within 1000 ms (client status "reconnecting")');
  });

  it('never fails a call that settled, and still fails a later stuck call at its own deadline', async () => {
    const d = deadlines();
    await expect(d.run(async () => 'first')).resolves.toBe('first');
    await advance(400);
    await expect(d.run(async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    const stuck = d.run(never).catch((error: Error) => ({ at: now, name: error.name }));
    await advance(600); // the first call's deadline: it settled long ago, nothing fails
    await advance(399);
    await advance(1); // 400 + 1000: the stuck call's own deadline
    expect(await stuck).toEqual({ at: 1400, name: 'TimeoutError' });
  });

  it('takes one timer for many calls in flight, not one each', async () => {
    const d = deadlines();
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const calls = Array.from({ length: 100 }, (_, i) => d.run(async () => i));
    expect(await Promise.all(calls)).toHaveLength(100);
    expect(timers.mock.calls.length).toBe(1);
  });

  it('passes on an error the call throws before it sends anything', async () => {
    const d = deadlines();
    await expect(
      d.run(() => {
        throw new Error('no client');
      }),
    ).rejects.toThrow('no client');
  });

  it('holds no call past its settling: a busy store keeps nothing alive until the timer', async () => {
    const d = deadlines();
    for (let i = 0; i < 1_000; i++) await d.run(async () => i);
    expect(d.held).toBe(0);
    let finish!: () => void;
    const slow = d.run(() => new Promise<void>((resolve) => (finish = resolve)));
    for (let i = 0; i < 10; i++) await d.run(async () => i);
    // Behind a call still in flight the settled ones wait (its deadline is the timer's next).
    expect(d.held).toBe(11);
    finish();
    await slow;
    expect(d.held).toBe(0);
  });

  it('still fails a stuck call whose later calls all settled', async () => {
    const d = deadlines();
    const stuck = d.run(never).catch((error: Error) => ({ at: now, name: error.name }));
    for (let i = 0; i < 5; i++) await d.run(async () => i);
    await advance(1_000);
    expect(await stuck).toEqual({ at: 1000, name: 'TimeoutError' });
    expect(d.held).toBe(0);
  });
});
