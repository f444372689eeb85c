import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { realSleep } from '../src/engine/timers.js';
import {
  currentClaim,
  IdempotencyEngine,
  IdempotencyInProgressError,
  LeaseLostError,
  MemoryStore,
  type ActiveClaim,
  type EngineOptions,
  type ExtendLeaseRequest,
  type Sleep,
} from '../src/index.js';
import { manualClock } from '../src/testing/index.js';
import { configErrorOf } from './support/config-error.js';
import { lockstepTimers } from './support/lockstep-timers.js';
import { recordingLogger } from './support/recording-logger.js';
import { gate } from './support/stores.js';

// The edges of the two timed loops beside a delivery: the heartbeat that extends a running claim's
// lease (switched off, its interval, an `anyOf` identity taken over, a beat overtaken by the
// completion, a lease lost and what its warning says), the wait of a duplicate for a claim in
// progress (its settings' errors, its debug and warning lines), and the real sleep both use
// (aborts, listeners left on a shared signal). Time is a manual clock throughout.

const byId = { strategy: 'eventId' } as const;
const twoWays = { strategy: 'anyOf', of: [{ strategy: 'eventId' }, { strategy: 'eventId', path: 'detail.ref' }] } as never;
const threeWays = {
  strategy: 'anyOf',
  of: [{ strategy: 'eventId' }, { strategy: 'eventId', path: 'detail.ref' }, { strategy: 'eventId', path: 'detail.alt' }],
} as never;
const event = (id: string) => ({ id, source: 'test', detail: { ref: `ref-${id}`, alt: `alt-${id}` } });
type Event = ReturnType<typeof event>;

const LEASE_MS = 3_000;

/** An engine on a manual clock with lock-step sleeps, raw keys in a recording logger, and `extendLease` spied on. */
function setup(options: Partial<EngineOptions<Event, unknown>> = {}) {
  const clock = manualClock();
  const timers = lockstepTimers(clock);
  const store = new MemoryStore({ clock: clock.now });
  const extendLease = vi.spyOn(store, 'extendLease');
  const realExtend = MemoryStore.prototype.extendLease.bind(store);
  const { logger, lines } = recordingLogger();
  const engine = new IdempotencyEngine<Event, unknown>({
    store,
    strategy: byId,
    clock: clock.now,
    sleep: timers.sleep,
    leaseMs: LEASE_MS,
    logger,
    logKeys: 'raw',
    ...options,
  });
  const warnings = () => lines.filter((line) => line.level === 'warn');
  return { clock, timers, store, extendLease, realExtend, engine, lines, warnings };
}

/** A delivery whose handler runs until `finish`, exposing the claim it runs under. */
async function heldDelivery(engine: IdempotencyEngine<Event, unknown>, id: string) {
  const started = gate<ActiveClaim>();
  const finish = gate();
  const done = engine.run(event(id), async () => {
    started.open(currentClaim()!);
    await finish.promise;
    return `result of ${id}`;
  });
  const claim = await started.promise;
  return { done, claim, finish: () => finish.open() };
}

/** One macrotask turn: every in-process store call and engine step queued as a microtask has run. */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

const alsoKeysOf = (request: ExtendLeaseRequest) => request.also?.map((identity) => identity.key);

describe('heartbeat settings', () => {
  it('heartbeat: false runs no heartbeat at all', async () => {
    const { engine, timers, extendLease } = setup({ heartbeat: false });
    const first = await heldDelivery(engine, 'off');
    expect(timers.pending).toBe(0);
    first.finish();
    expect(await first.done).toBe('result of off');
    expect(extendLease).not.toHaveBeenCalled();
  });

  it('rejects a setting that is neither a boolean nor an object, naming the field and the forms allowed', () => {
    const store = new MemoryStore();
    for (const heartbeat of ['yes', 5, null]) {
      const error = configErrorOf(() => new IdempotencyEngine({ store, strategy: byId, heartbeat: heartbeat as never }));
      expect(error.field).toBe('heartbeat');
      expect(error.message).toBe('[idemkit] invalid config at "heartbeat": must be true, false or { everyMs }');
    }
  });

  it('rejects an interval that is not a positive number of milliseconds, naming heartbeat.everyMs', () => {
    const store = new MemoryStore();
    for (const heartbeat of [{ everyMs: 0 }, {}, { everyMs: 1.5 }]) {
      expect(configErrorOf(() => new IdempotencyEngine({ store, strategy: byId, heartbeat: heartbeat as never })).field).toBe('heartbeat.everyMs');
    }
  });

  it('an interval as long as the lease is refused with a message giving both numbers', () => {
    const error = configErrorOf(() => new IdempotencyEngine({ store: new MemoryStore(), strategy: byId, leaseMs: 1_000, heartbeat: { everyMs: 1_000 } }));
    expect(error.message).toBe(
      '[idemkit] invalid config at "heartbeat.everyMs": must be shorter than leaseMs (1000), or the lease lapses between two beats; got 1000',
    );
  });

  it('a call whose lease equals the interval beats every third of its lease, not at its very end', async () => {
    const { engine, timers } = setup({ heartbeat: { everyMs: 2_000 }, leaseMs: 10_000 });
    const started = gate();
    const hold = gate();
    const call = engine.run(
      event('equal'),
      async () => {
        started.open();
        await hold.promise;
      },
      { leaseMs: 2_000 },
    );
    await started.promise;
    expect(timers.pendingMs()).toEqual([666]);
    hold.open();
    await call;
  });

  it('a sleep that rejects ends the heartbeat without sending a beat', async () => {
    let sleeps = 0;
    // The first sleep fails outright; any later one would wait until aborted.
    const sleep: Sleep = (_ms, signal) => {
      sleeps += 1;
      if (sleeps === 1) return Promise.reject(new Error('timer broke'));
      return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
    };
    const { engine, extendLease } = setup({ heartbeat: true, sleep });
    const result = await engine.run(event('broken-sleep'), async () => {
      await settled();
      await settled();
      return 'done';
    });
    expect(result).toBe('done');
    expect(sleeps).toBe(1);
    expect(extendLease).not.toHaveBeenCalled();
  });
});

describe('heartbeat: an anyOf identity taken over by another delivery', () => {
  for (const [name, strategy, identities] of [
    ['two', twoWays, 2],
    ['three', threeWays, 3],
  ] as const) {
    it(`with ${name} identities: the beat drops the one taken over, extends the others, and keeps it dropped`, async () => {
      const { engine, store, clock, timers, extendLease, realExtend, warnings } = setup({ heartbeat: true, strategy });
      // The real store's refusals, with a guard so a beat that never drops the identity cannot spin forever.
      extendLease.mockImplementation(async (request) => {
        if (extendLease.mock.calls.length > 8) throw new Error('runaway beat');
        return realExtend(request);
      });
      const first = await heldDelivery(engine, `taken-${name}`);
      const [taken, ...kept] = first.claim.also!;
      expect(first.claim.also).toHaveLength(identities - 1);
      // Another delivery owns that identity now: its claim went and a new one holds it.
      await store.release(taken!.key, taken!.fencingToken);
      expect((await store.claim({ key: taken!.key, leaseMs: 60_000, retentionMs: 60_000 })).acquired).toBe(true);

      const claimedAt = clock.now();
      await timers.run({ actors: 1, until: claimedAt + 1_000 });
      const keptKeys = kept.length > 0 ? kept.map((identity) => identity.key) : undefined;
      // The first try asks for every identity and is refused; the retry of the same beat leaves that one out.
      expect(extendLease.mock.calls.map(([request]) => alsoKeysOf(request))).toEqual([[taken!.key, ...(keptKeys ?? [])], keptKeys]);
      expect(warnings()).toEqual([
        {
          level: 'warn',
          message: 'idempotency: one identity of the claim was taken over; extending the others',
          fields: { key: first.claim.key, strategy: 'anyOf' },
        },
      ]);
      // The beat landed for the identities still held.
      expect(first.claim.leaseExtendedAt).toBe(claimedAt + 1_000);
      for (const identity of [{ key: first.claim.key, fencingToken: first.claim.fencingToken }, ...kept]) {
        expect((await store.get(identity.key, identity.fencingToken))!.leaseExpiresAt).toBe(claimedAt + 1_000 + LEASE_MS);
      }

      // The next beat no longer asks for the identity taken over.
      await timers.run({ actors: 1, until: claimedAt + 2_000 });
      expect(extendLease).toHaveBeenCalledTimes(3);
      expect(alsoKeysOf(extendLease.mock.calls[2]![0])).toEqual(keptKeys);
      expect(warnings()).toHaveLength(1);
      expect(timers.pending).toBe(1);
      first.finish();
      await first.done.catch(() => undefined);
    });
  }

  it('a failed beat whose error names an identity but is no lease loss keeps every identity', async () => {
    const { engine, clock, timers, extendLease, realExtend, warnings } = setup({ heartbeat: true, strategy: twoWays });
    const first = await heldDelivery(engine, 'keyed-error');
    const [other] = first.claim.also!;
    extendLease.mockRejectedValueOnce(Object.assign(new Error('throttled'), { key: other!.key })).mockImplementation((request) => realExtend(request));
    const claimedAt = clock.now();
    await timers.run({ actors: 1, until: claimedAt + 1_000 });
    expect(extendLease).toHaveBeenCalledTimes(1);
    expect(warnings()).toEqual([
      {
        level: 'warn',
        message: 'idempotency: could not extend the lease; trying again at the next heartbeat',
        fields: { key: first.claim.key, strategy: 'anyOf', error: 'Error: throttled' },
      },
    ]);
    await timers.run({ actors: 1, until: claimedAt + 2_000 });
    expect(alsoKeysOf(extendLease.mock.calls[1]![0])).toEqual([other!.key]);
    expect(first.claim.leaseExtendedAt).toBe(claimedAt + 2_000);
    first.finish();
    expect(await first.done).toBe('result of keyed-error');
  });
});

describe('heartbeat: a lost lease', () => {
  it('a claim taken over after its lease lapsed: beating stops, and the warning names the token lost and that no claim of it is left', async () => {
    const { engine, store, clock, timers, extendLease, warnings } = setup({ heartbeat: true });
    const first = await heldDelivery(engine, 'lapsed');
    clock.advance(LEASE_MS + 1);
    const takeover = await store.claim({ key: first.claim.key, leaseMs: LEASE_MS, retentionMs: 60_000 });
    expect(takeover.acquired).toBe(true);
    timers.wakeNext();
    await settled();
    expect(extendLease).toHaveBeenCalledTimes(1);
    expect(timers.pending).toBe(0);
    const [line] = warnings();
    expect(line!.message).toBe('idempotency: lease lost while the handler runs; heartbeat stopped, its result will not be recorded');
    expect(line!.fields).toEqual({ key: first.claim.key, strategy: 'eventId', fencingToken: first.claim.fencingToken, currentToken: undefined });
    expect(Object.keys(line!.fields!)).toContain('currentToken');
    first.finish();
    await expect(first.done).rejects.toBeInstanceOf(LeaseLostError);
  });

  it("the warning names the current holder's token when the store reports it", async () => {
    const { engine, store, timers, extendLease, realExtend, warnings } = setup({ heartbeat: true });
    const first = await heldDelivery(engine, 'held-elsewhere');
    const record = (await store.get(first.claim.key))!;
    extendLease.mockRejectedValueOnce(
      new LeaseLostError(first.claim.key, first.claim.fencingToken, { ...record, fencingToken: first.claim.fencingToken + 5 }),
    );
    extendLease.mockImplementation((request) => realExtend(request));
    timers.wakeNext();
    await settled();
    expect(warnings().map((line) => line.fields)).toEqual([
      { key: first.claim.key, strategy: 'eventId', fencingToken: first.claim.fencingToken, currentToken: first.claim.fencingToken + 5 },
    ]);
    expect(timers.pending).toBe(0);
    first.finish();
    await first.done.catch(() => undefined);
  });

  for (const [name, strategy] of [
    ['one identity', byId],
    ['an anyOf claim', twoWays],
  ] as const) {
    it(`${name}: a lease lost on a key the claim does not hold is a lost claim, not an identity to drop`, async () => {
      const { engine, timers, extendLease, realExtend, warnings } = setup({ heartbeat: true, strategy });
      const first = await heldDelivery(engine, `foreign-${name}`);
      extendLease.mockRejectedValueOnce(new LeaseLostError('idemkit:eventId:somewhere-else', 42)).mockImplementation((request) => realExtend(request));
      timers.wakeNext();
      await settled();
      expect(extendLease).toHaveBeenCalledTimes(1);
      expect(timers.pending).toBe(0);
      expect(warnings().map((line) => line.message)).toEqual([
        'idempotency: lease lost while the handler runs; heartbeat stopped, its result will not be recorded',
      ]);
      expect(warnings()[0]!.fields).toMatchObject({ fencingToken: first.claim.fencingToken });
      first.finish();
      await first.done.catch(() => undefined);
    });
  }

  it('a beat the completion overtook is refused quietly: no lease-lost warning, the result is recorded', async () => {
    const { engine, store, timers, extendLease, realExtend, lines } = setup({ heartbeat: true });
    const sent = gate();
    const answer = gate();
    extendLease.mockImplementationOnce(async (request) => {
      sent.open();
      await answer.promise;
      return realExtend(request);
    });
    const first = await heldDelivery(engine, 'overtaken');
    timers.wakeNext();
    await sent.promise;
    // The handler ends while the beat travels; the completion lands first.
    first.finish();
    expect(await first.done).toBe('result of overtaken');
    answer.open();
    await settled();
    await expect(extendLease.mock.results[0]!.value).rejects.toBeInstanceOf(LeaseLostError);
    expect(lines.filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([]);
    expect((await store.get(first.claim.key))!.status).toBe('completed');
    expect(timers.pending).toBe(0);
  });
});

describe('inProgress.wait settings', () => {
  const build = (wait: unknown) => () => new IdempotencyEngine({ store: new MemoryStore(), strategy: byId, inProgress: { wait: wait as never } });

  it('rejects a wait that is not an object, naming the field and the form allowed', () => {
    for (const wait of [5_000, 'long', null]) {
      const error = configErrorOf(build(wait));
      expect(error.field).toBe('inProgress.wait');
      expect(error.message).toBe('[idemkit] invalid config at "inProgress.wait": must be { maxMs, pollMs? }');
    }
  });

  it('rejects a first poll later than the longest wait, giving both numbers', () => {
    expect(configErrorOf(build({ maxMs: 1_000, pollMs: 2_000 })).message).toBe(
      '[idemkit] invalid config at "inProgress.wait.pollMs": must not exceed maxMs (1000), got 2000',
    );
  });
});

describe('inProgress.wait: what a waiting duplicate logs', () => {
  it('a wait that polled logs one debug line with how long it waited and how many polls it took', async () => {
    const { engine, clock, timers, lines } = setup({ inProgress: { wait: { maxMs: 10_000, pollMs: 100 } } });
    const first = await heldDelivery(engine, 'waited');
    const startedAt = clock.now();
    const second = engine.run(event('waited'), async () => 'second ran');
    // Two polls find it running; the third, 400 ms later, finds it completed.
    expect(await timers.run({ actors: 1, until: startedAt + 300 })).toEqual([100, 200]);
    first.finish();
    await first.done;
    await timers.run({ actors: 1, until: Infinity, done: second });
    expect(await second).toBe('result of waited');
    const waited = lines.filter((line) => line.message === 'idempotency: waited for the claim in progress');
    expect(waited).toEqual([
      {
        level: 'debug',
        message: 'idempotency: waited for the claim in progress',
        fields: { key: 'idemkit:eventId:waited', strategy: 'eventId', waitedMs: 700, polls: 3 },
      },
    ]);
  });

  it('a call with no time left to wait does not poll, and logs no wait', async () => {
    const { engine, timers, lines, store } = setup({ inProgress: { wait: { maxMs: 10_000, pollMs: 100 } } });
    const claim = vi.spyOn(store, 'claim');
    const first = await heldDelivery(engine, 'no-time');
    await expect(engine.run(event('no-time'), async () => 'second ran', { remainingMs: 900 })).rejects.toBeInstanceOf(IdempotencyInProgressError);
    expect(claim).toHaveBeenCalledTimes(2);
    expect(timers.pending).toBe(0);
    expect(lines.filter((line) => line.message.includes('waited for the claim'))).toEqual([]);
    first.finish();
    await first.done;
  });

  it('a poll the store fails is logged with the error it failed with', async () => {
    const { engine, store, timers, warnings } = setup({ inProgress: { wait: { maxMs: 10_000, pollMs: 100 } } });
    const first = await heldDelivery(engine, 'poll-fails');
    const second = engine.run(event('poll-fails'), async () => 'second ran');
    await timers.asleep(1);
    vi.spyOn(store, 'claim').mockRejectedValueOnce(new Error('ECONNRESET'));
    await timers.run({ actors: 1, until: Infinity, done: second });
    await expect(second).rejects.toBeInstanceOf(IdempotencyInProgressError);
    expect(warnings()).toEqual([
      {
        level: 'warn',
        message: 'idempotency: could not poll the claim in progress; answering as in progress',
        fields: { key: 'idemkit:eventId:poll-fails', strategy: 'eventId', error: 'Error: ECONNRESET' },
      },
    ]);
    first.finish();
    await first.done;
  });
});

describe('the real sleep', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** How a sleep has ended so far, read without awaiting it. */
  function watch(sleeping: Promise<void>) {
    const state: { status: 'asleep' | 'woke' | 'rejected'; reason?: unknown } = { status: 'asleep' };
    sleeping.then(
      () => (state.status = 'woke'),
      (reason: unknown) => Object.assign(state, { status: 'rejected', reason }),
    );
    return state;
  }

  for (const ref of [true, false]) {
    it(`ref ${ref}: wakes once its time has passed, with or without a signal`, async () => {
      const sleep = realSleep(ref);
      const bare = watch(sleep(1_000));
      const signal = new AbortController().signal;
      const withSignal = watch(sleep(1_000, signal));
      await vi.advanceTimersByTimeAsync(999);
      expect([bare.status, withSignal.status]).toEqual(['asleep', 'asleep']);
      await vi.advanceTimersByTimeAsync(1);
      expect([bare.status, withSignal.status]).toEqual(['woke', 'woke']);
    });
  }

  it('sleeps one after another on one signal (a long heartbeat) leave no listener behind', async () => {
    const sleep = realSleep(false);
    const signal = new AbortController().signal;
    for (let beat = 0; beat < 3; beat++) {
      const sleeping = watch(sleep(500, signal));
      expect(getEventListeners(signal, 'abort')).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(500);
      expect(sleeping.status).toBe('woke');
    }
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it("an abort while asleep rejects at once with the signal's reason, cancels the timer and leaves no listener", async () => {
    const stopped = new AbortController();
    const sleeping = watch(realSleep(false)(1_000, stopped.signal));
    expect(vi.getTimerCount()).toBe(1);
    const reason = new Error('stopped');
    stopped.abort(reason);
    await vi.advanceTimersByTimeAsync(0);
    expect(sleeping).toEqual({ status: 'rejected', reason });
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(stopped.signal, 'abort')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sleeping.status).toBe('rejected');
  });

  it('a signal already aborted rejects without setting a timer', async () => {
    const stopped = new AbortController();
    const reason = new Error('already stopped');
    stopped.abort(reason);
    const sleeping = watch(realSleep(true)(1_000, stopped.signal));
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sleeping).toEqual({ status: 'rejected', reason });
  });
});
