import { describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  currentClaim,
  IdempotencyEngine,
  IdempotencyStoreError,
  LeaseLostError,
  MemoryStore,
  type ActiveClaim,
  type EngineOptions,
} from '../src/index.js';
import { manualClock } from '../src/testing/index.js';
import { lockstepTimers } from './support/lockstep-timers.js';
import { recordingLogger } from './support/recording-logger.js';
import { gate } from './support/stores.js';

const byId = { strategy: 'eventId' } as const;
const event = (id: string, detail: Record<string, unknown> = {}) => ({ id, source: 'test', detail });
type Event = ReturnType<typeof event>;

const LEASE_MS = 3_000;

function setup(options: Partial<EngineOptions<Event, unknown>> = {}) {
  const clock = manualClock();
  const timers = lockstepTimers(clock);
  const store = new MemoryStore({ clock: clock.now });
  const extendLease = vi.spyOn(store, 'extendLease');
  const { logger, lines } = recordingLogger();
  const engine = new IdempotencyEngine<Event, unknown>({
    store,
    strategy: byId,
    clock: clock.now,
    sleep: timers.sleep,
    leaseMs: LEASE_MS,
    logger,
    ...options,
  });
  return { clock, timers, store, extendLease, engine, lines };
}

/** A delivery whose handler runs until `finish`, exposing the claim it runs under. */
async function slowDelivery(engine: IdempotencyEngine<Event, unknown>, id: string, runs: string[], label = 'first') {
  const started = gate<ActiveClaim>();
  const finish = gate<'ok' | 'fail'>();
  const done = engine.run(event(id), async () => {
    runs.push(label);
    started.open(currentClaim()!);
    if ((await finish.promise) === 'fail') throw new Error(`${label} failed`);
    return `${label} result`;
  });
  const claim = await started.promise;
  return { done, claim, finish: (how: 'ok' | 'fail' = 'ok') => finish.open(how) };
}

describe('heartbeat: a handler that outlives its lease keeps its claim', () => {
  it('while a second delivery waits, the handler runs once and the second gets its result', async () => {
    const { timers, engine, extendLease, clock } = setup({ heartbeat: true, inProgress: { wait: { maxMs: 60_000, pollMs: 500 } } });
    const runs: string[] = [];
    const first = await slowDelivery(engine, 'h1', runs);
    const startedAt = clock.now();
    const second = engine.run(event('h1'), async () => {
      runs.push('second');
      return 'second result';
    });
    // Two loops asleep: the first delivery's heartbeat and the second's polls. Ten seconds: over three leases.
    await timers.run({ actors: 2, until: startedAt + 10_000 });
    expect(clock.now() - startedAt).toBeGreaterThan(3 * LEASE_MS);
    expect(runs).toEqual(['first']);
    expect(extendLease.mock.calls.length).toBeGreaterThanOrEqual(9);
    first.finish();
    expect(await first.done).toBe('first result');
    await timers.run({ actors: 1, until: Infinity, done: second });
    expect(await second).toBe('first result');
    expect(runs).toEqual(['first']);
    expect(timers.pending).toBe(0);
  });

  it('without the heartbeat the same handler loses its claim and a second copy runs', async () => {
    const { timers, engine, clock } = setup({ inProgress: { wait: { maxMs: 60_000, pollMs: 500 } } });
    const runs: string[] = [];
    const first = await slowDelivery(engine, 'h2', runs);
    const startedAt = clock.now();
    const second = engine.run(event('h2'), async () => {
      runs.push('second');
      return 'second result';
    });
    await timers.run({ actors: 1, until: startedAt + 10_000, done: second });
    expect(await second).toBe('second result');
    expect(runs).toEqual(['first', 'second']);
    first.finish();
    await expect(first.done).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('beats every third of the lease by default, and currentClaim() tells when the lease was extended', async () => {
    const { timers, engine, store, clock } = setup({ heartbeat: true });
    const runs: string[] = [];
    const first = await slowDelivery(engine, 'h3', runs);
    const claimedAt = clock.now();
    expect(first.claim.leaseExpiresAt).toBe(claimedAt + LEASE_MS);
    expect(first.claim.leaseExtendedAt).toBeUndefined();
    expect(timers.pendingMs()).toEqual([1_000]);

    expect(await timers.run({ actors: 1, until: claimedAt + 2_000 })).toEqual([1_000, 1_000]);
    expect(first.claim.leaseExtendedAt).toBe(claimedAt + 2_000);
    expect(first.claim.leaseExpiresAt).toBe(claimedAt + 2_000 + LEASE_MS);
    expect((await store.get('idemkit:eventId:h3'))!.leaseExpiresAt).toBe(claimedAt + 2_000 + LEASE_MS);
    first.finish();
    await first.done;
  });

  it('{ everyMs } sets the interval; a call whose lease is shorter beats every third of it', async () => {
    const { timers, engine } = setup({ heartbeat: { everyMs: 2_000 }, leaseMs: 10_000 });
    const runs: string[] = [];
    const long = await slowDelivery(engine, 'h4', runs);
    expect(timers.pendingMs()).toEqual([2_000]);
    long.finish();
    await long.done;

    const started = gate();
    const hold = gate();
    const short = engine.run(
      event('h5'),
      async () => {
        started.open();
        await hold.promise;
      },
      { leaseMs: 1_500 },
    );
    await started.promise;
    expect(timers.pendingMs()).toEqual([500]);
    hold.open();
    await short;
  });

  it('rejects an interval that is not shorter than the lease, naming the field', () => {
    const store = new MemoryStore();
    expect(() => new IdempotencyEngine({ store, strategy: byId, leaseMs: 1_000, heartbeat: { everyMs: 1_000 } })).toThrow(
      expect.objectContaining({ field: 'heartbeat.everyMs' }),
    );
    expect(() => new IdempotencyEngine({ store, strategy: byId, heartbeat: { everyMs: 0 } })).toThrow(ConfigError);
    expect(() => new IdempotencyEngine({ store, strategy: byId, heartbeat: 'yes' as never })).toThrow(ConfigError);
  });
});

describe('heartbeat: stopped on every exit path', () => {
  const exits = {
    success: async (finish: (how: 'ok' | 'fail') => void, done: Promise<unknown>) => {
      finish('ok');
      await done;
    },
    'handler error': async (finish: (how: 'ok' | 'fail') => void, done: Promise<unknown>) => {
      finish('fail');
      await expect(done).rejects.toThrow('first failed');
    },
  };
  for (const [name, exit] of Object.entries(exits)) {
    it(`${name}: no beat is pending or sent once the call has settled`, async () => {
      const { timers, engine, extendLease, clock } = setup({ heartbeat: true });
      const first = await slowDelivery(engine, `x-${name}`, []);
      await timers.run({ actors: 1, until: clock.now() + 2_000 });
      const beats = extendLease.mock.calls.length;
      expect(beats).toBe(2);
      await exit(first.finish, first.done);
      expect(timers.pending).toBe(0);
      clock.advance(60_000);
      expect(extendLease).toHaveBeenCalledTimes(beats);
    });
  }

  it('completion failure: the heartbeat is already stopped when the completion fails', async () => {
    const { timers, engine, store, extendLease } = setup({ heartbeat: true });
    vi.spyOn(store, 'complete').mockRejectedValue(new IdempotencyStoreError('memory', 'down', { retryable: false }));
    const first = await slowDelivery(engine, 'x-complete', []);
    expect(timers.pending).toBe(1);
    first.finish();
    expect(await first.done).toBe('first result'); // logged, not thrown (not transactional)
    expect(timers.pending).toBe(0);
    expect(extendLease).not.toHaveBeenCalled();
  });

  it('a synchronous throw from the handler stops it too', async () => {
    const { timers, engine } = setup({ heartbeat: true });
    await expect(
      engine.run(event('x-sync'), () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(timers.pending).toBe(0);
  });
});

describe('heartbeat: a lapsed claim is never revived', () => {
  it('a lease that lapsed before the beat: the store refuses it, beating stops and a warning is logged', async () => {
    const { timers, engine, store, clock, lines, extendLease } = setup({ heartbeat: true });
    const first = await slowDelivery(engine, 'l1', []);
    // The process stalled past its lease (a long GC pause, a frozen container), then the beat fires.
    clock.advance(LEASE_MS + 1);
    timers.wakeNext();
    await vi.waitFor(() => expect(lines.some((line) => line.message.includes('lease lost while the handler runs'))).toBe(true));
    expect(extendLease).toHaveBeenCalledTimes(1);
    expect(timers.pending).toBe(0);
    const record = await store.get('idemkit:eventId:l1');
    expect(record!.leaseExpiresAt).toBeLessThanOrEqual(clock.now());
    // Another delivery can take the key over; the stalled one cannot complete.
    expect((await store.claim({ key: 'idemkit:eventId:l1', leaseMs: LEASE_MS, retentionMs: 60_000 })).acquired).toBe(true);
    first.finish();
    await expect(first.done).rejects.toBeInstanceOf(LeaseLostError);
    expect(lines.find((line) => line.message.includes('lease lost while'))!.fields).toMatchObject({ key: expect.stringMatching(/^#/) });
  });

  it('a beat the store fails is logged and the next one lands', async () => {
    const { timers, engine, store, clock, lines } = setup({ heartbeat: true });
    const extend = MemoryStore.prototype.extendLease.bind(store);
    vi.spyOn(store, 'extendLease')
      .mockRejectedValueOnce(new Error('ECONNRESET'))
      .mockImplementation((request) => extend(request));
    const first = await slowDelivery(engine, 'l2', []);
    const claimedAt = clock.now();
    await timers.run({ actors: 1, until: claimedAt + 2_000 });
    expect(lines.some((line) => line.level === 'warn' && line.message.includes('could not extend the lease'))).toBe(true);
    expect(first.claim.leaseExtendedAt).toBe(claimedAt + 2_000);
    first.finish();
    expect(await first.done).toBe('first result');
  });
});

describe('heartbeat: every identity, and batches', () => {
  it('extends every identity of an anyOf claim together', async () => {
    const { timers, engine, store, clock } = setup({
      heartbeat: true,
      strategy: { strategy: 'anyOf', of: [{ strategy: 'eventId' }, { strategy: 'eventId', path: 'detail.ref' }] } as never,
    });
    const started = gate<ActiveClaim>();
    const hold = gate();
    const done = engine.run(event('a1', { ref: 'r1' }), async () => {
      started.open(currentClaim()!);
      await hold.promise;
    });
    const claim = await started.promise;
    expect(claim.also).toHaveLength(1);
    await timers.run({ actors: 1, until: clock.now() + 1_000 });
    for (const identity of [{ key: claim.key, fencingToken: claim.fencingToken }, ...claim.also!]) {
      expect((await store.get(identity.key, identity.fencingToken))!.leaseExpiresAt).toBe(clock.now() + LEASE_MS);
    }
    hold.open();
    await done;
  });

  it('keeps the claims of later batch items alive while earlier handlers run, and stops them all', async () => {
    for (const completion of ['each', 'batch'] as const) {
      const { timers, engine, store, clock } = setup({ heartbeat: true });
      const hold = gate();
      const started = gate();
      const batch = engine.runBatch(
        [
          { id: 'm1', event: event(`slow-${completion}`) },
          { id: 'm2', event: event(`next-${completion}`) },
        ],
        async (e) => {
          if (e.id.startsWith('slow')) {
            started.open();
            await hold.promise;
          }
          return `ran ${e.id}`;
        },
        { completion },
      );
      await started.promise;
      // Both items' claims beat while m1 runs, for longer than a lease.
      await timers.run({ actors: 2, until: clock.now() + 2 * LEASE_MS });
      expect((await store.get(`idemkit:eventId:next-${completion}`))!.leaseExpiresAt).toBeGreaterThan(clock.now());
      hold.open();
      expect((await batch).map((outcome) => outcome.status)).toEqual(['processed', 'processed']);
      expect((await store.get(`idemkit:eventId:next-${completion}`))!.status).toBe('completed');
      expect(timers.pending).toBe(0);
    }
  });

  it('with real timers its timer never keeps the process alive', async () => {
    const engine = new IdempotencyEngine<Event, unknown>({ store: new MemoryStore(), strategy: byId, leaseMs: 60_000, heartbeat: true });
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    try {
      let beat: NodeJS.Timeout | undefined;
      await engine.run(event('u1'), async () => {
        // The first beat, a third of the lease out, is scheduled as the claim is acquired.
        const index = setTimeoutSpy.mock.calls.findIndex((call) => call[1] === 20_000);
        beat = setTimeoutSpy.mock.results[index]?.value as NodeJS.Timeout;
      });
      expect(beat).toBeDefined();
      expect(beat!.hasRef()).toBe(false);
    } finally {
      setTimeoutSpy.mockRestore();
    }
  });
});
