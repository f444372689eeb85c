import { describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  IdempotencyEngine,
  IdempotencyInProgressError,
  MemoryStore,
  idempotent,
  type EngineOptions,
  type InProgressInfo,
} from '../src/index.js';
import { manualClock } from '../src/testing/index.js';
import { lockstepTimers } from './support/lockstep-timers.js';
import { recordingLogger } from './support/recording-logger.js';
import { gate } from './support/stores.js';

const byId = { strategy: 'eventId' } as const;
const event = (id: string) => ({ id, source: 'test', detail: {} });
type Event = ReturnType<typeof event>;

/** An engine on a manual clock whose sleeps move only when the test says so, and its store's claims counted. */
function setup(options: Partial<EngineOptions<Event, unknown>> = {}) {
  const clock = manualClock();
  const timers = lockstepTimers(clock);
  const store = new MemoryStore({ clock: clock.now });
  const claim = vi.spyOn(store, 'claim');
  const engine = new IdempotencyEngine<Event, unknown>({
    store,
    strategy: byId,
    clock: clock.now,
    sleep: timers.sleep,
    leaseMs: 30_000,
    ...options,
  });
  return { clock, timers, store, claim, engine };
}

/** A first delivery whose handler runs until `finish` is called. */
async function firstDelivery(engine: IdempotencyEngine<Event, unknown>, id: string) {
  const started = gate();
  const finish = gate<'ok' | 'fail'>();
  const runs: string[] = [];
  const done = engine.run(event(id), async () => {
    runs.push('first');
    started.open();
    if ((await finish.promise) === 'fail') throw new Error('first delivery failed');
    return { by: 'first', id };
  });
  await started.promise;
  return { done, runs, finish: (how: 'ok' | 'fail' = 'ok') => finish.open(how) };
}

describe('inProgress.wait: a duplicate meeting a running claim', () => {
  it('waits for it to complete, then returns the stored result, polling with backoff', async () => {
    const { timers, engine, claim, clock } = setup({ inProgress: { wait: { maxMs: 10_000, pollMs: 100 } } });
    const first = await firstDelivery(engine, 'w1');
    const startedAt = clock.now();
    const second = engine.run(event('w1'), async () => {
      first.runs.push('second');
      return 'second ran';
    });

    // Still running: polls after 100, 200, 400 ms; the next (800 ms) lies past the first phase.
    expect(await timers.run({ actors: 1, until: startedAt + 1_400 })).toEqual([100, 200, 400]);
    first.finish();
    expect(await first.done).toEqual({ by: 'first', id: 'w1' });
    expect(await timers.run({ actors: 1, until: Infinity, done: second })).toEqual([800]);

    expect(await second).toEqual({ by: 'first', id: 'w1' });
    expect(first.runs).toEqual(['first']);
    // first's claim, second's claim, and four polls.
    expect(claim).toHaveBeenCalledTimes(6);
    expect(timers.pending).toBe(0);
  });

  it('backs off to at most 8 × pollMs between polls', async () => {
    const { timers, engine, clock } = setup({ inProgress: { wait: { maxMs: 60_000, pollMs: 100 } } });
    const first = await firstDelivery(engine, 'w2');
    const second = engine.run(event('w2'), async () => 'second ran');
    expect(await timers.run({ actors: 1, until: clock.now() + 5_000 })).toEqual([100, 200, 400, 800, 800, 800, 800, 800]);
    first.finish();
    await first.done;
    await timers.run({ actors: 1, until: Infinity, done: second });
    expect(await second).toEqual({ by: 'first', id: 'w2' });
  });

  it('stops at maxMs and answers as today: a retryable IdempotencyInProgressError', async () => {
    const { timers, engine, claim } = setup({ inProgress: { wait: { maxMs: 1_000, pollMs: 100 } } });
    const first = await firstDelivery(engine, 'w3');
    const second = engine.run(event('w3'), async () => 'second ran');
    // The last sleep is cut to end at the deadline, where the last poll happens.
    expect(await timers.run({ actors: 1, until: Infinity, done: second })).toEqual([100, 200, 400, 300]);
    const error = await second.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyInProgressError);
    expect((error as IdempotencyInProgressError).retryable).toBe(true);
    expect(claim).toHaveBeenCalledTimes(6);
    first.finish();
    await first.done;
    expect(first.runs).toEqual(['first']);
  });

  it('never waits past remainingMs, less a second to answer in', async () => {
    const { timers, engine } = setup({ inProgress: { wait: { maxMs: 10_000, pollMs: 100 } } });
    const first = await firstDelivery(engine, 'w4');
    const second = engine.run(event('w4'), async () => 'second ran', { remainingMs: 2_500 });
    expect(await timers.run({ actors: 1, until: Infinity, done: second })).toEqual([100, 200, 400, 800]);
    await expect(second).rejects.toBeInstanceOf(IdempotencyInProgressError);

    // With less than a second left it does not wait at all.
    const third = engine.run(event('w4'), async () => 'third ran', { remainingMs: 900 });
    await expect(third).rejects.toBeInstanceOf(IdempotencyInProgressError);
    expect(timers.pending).toBe(0);
    first.finish();
    await first.done;
  });

  it('runs the handler itself when the first delivery failed and released the key', async () => {
    const outcomes: string[] = [];
    const { timers, engine } = setup({
      inProgress: { wait: { maxMs: 10_000, pollMs: 100 } },
      onOutcome: (outcome) => outcomes.push(outcome.kind),
    });
    const first = await firstDelivery(engine, 'w5');
    const second = engine.run(event('w5'), async () => {
      first.runs.push('second');
      return 'second ran';
    });
    await timers.asleep(1);
    timers.wakeNext();
    await timers.asleep(1); // one poll: still running
    first.finish('fail');
    await expect(first.done).rejects.toThrow('first delivery failed');
    await timers.run({ actors: 1, until: Infinity, done: second });
    expect(await second).toBe('second ran');
    expect(first.runs).toEqual(['first', 'second']);
    expect(outcomes).toEqual(['failed', 'processed']);
  });

  it('takes over a claim whose lease lapsed (its holder died) once the lease has passed', async () => {
    const { timers, engine, clock } = setup({ leaseMs: 1_000, inProgress: { wait: { maxMs: 10_000, pollMs: 100 } } });
    const first = await firstDelivery(engine, 'w6');
    const lapsesAt = clock.now() + 1_000;
    const second = engine.run(event('w6'), async () => {
      first.runs.push('second');
      return 'second ran';
    });
    await timers.run({ actors: 1, until: Infinity, done: second });
    expect(await second).toBe('second ran');
    expect(clock.now()).toBeGreaterThanOrEqual(lapsesAt);
    expect(first.runs).toEqual(['first', 'second']);
    first.finish();
    await expect(first.done).rejects.toMatchObject({ name: 'LeaseLostError' });
  });

  it('a poll the store fails ends the wait as in progress, never running the handler', async () => {
    const { logger, lines } = recordingLogger();
    const { timers, engine, claim, store } = setup({ inProgress: { wait: { maxMs: 10_000, pollMs: 100 } }, logger });
    const first = await firstDelivery(engine, 'w7');
    const claimNow = MemoryStore.prototype.claim.bind(store);
    let claims = 0;
    // The second delivery's claim answers; its first poll finds the connection cut.
    claim.mockImplementation(async (request) => {
      claims += 1;
      if (claims === 1) return claimNow(request);
      throw new Error('ECONNRESET');
    });
    const second = engine.run(event('w7'), async () => 'second ran');
    await timers.run({ actors: 1, until: Infinity, done: second });
    await expect(second).rejects.toBeInstanceOf(IdempotencyInProgressError);
    expect(lines.some((line) => line.level === 'warn' && line.message.includes('could not poll'))).toBe(true);
    first.finish();
    await first.done;
    expect(first.runs).toEqual(['first']);
  });

  it('a completed duplicate does not wait, and a new key is unaffected', async () => {
    const { timers, engine, claim } = setup({ inProgress: { wait: { maxMs: 10_000, pollMs: 100 } } });
    expect(await engine.run(event('w8'), async () => 'ran')).toBe('ran');
    expect(await engine.run(event('w8'), async () => 'ran again')).toBe('ran');
    expect(claim).toHaveBeenCalledTimes(2);
    expect(timers.pending).toBe(0);
  });

  it('rejects bad wait settings, naming the field', () => {
    const store = new MemoryStore();
    const build = (wait: unknown) => () => new IdempotencyEngine({ store, strategy: byId, inProgress: { wait: wait as never } });
    expect(build({ maxMs: 0 })).toThrow(expect.objectContaining({ field: 'inProgress.wait.maxMs' }));
    expect(build({ maxMs: 1_000, pollMs: -1 })).toThrow(expect.objectContaining({ field: 'inProgress.wait.pollMs' }));
    expect(build({ maxMs: 1_000, pollMs: 2_000 })).toThrow(expect.objectContaining({ field: 'inProgress.wait.pollMs' }));
    expect(build(5_000)).toThrow(ConfigError);
  });

  it('with real timers a waiting duplicate keeps the process alive, as any awaited I/O does', async () => {
    const engine = new IdempotencyEngine<Event, unknown>({
      store: new MemoryStore(),
      strategy: byId,
      inProgress: { wait: { maxMs: 60_000, pollMs: 30_000 } },
    });
    const first = await firstDelivery(engine, 'w9');
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    try {
      void engine.run(event('w9'), async () => 'second ran');
      await vi.waitUntil(() => setTimeoutSpy.mock.calls.some((call) => call[1] === 30_000));
      const poll = setTimeoutSpy.mock.results[setTimeoutSpy.mock.calls.findIndex((call) => call[1] === 30_000)]!.value as NodeJS.Timeout;
      expect(poll.hasRef()).toBe(true);
      clearTimeout(poll); // the waiter is left asleep for good; nothing of it outlives the test
    } finally {
      setTimeoutSpy.mockRestore();
    }
    first.finish();
    await first.done;
  });
});

describe('onInProgress: the caller decides the answer for an in-flight duplicate', () => {
  it('its value is the answer; it hears the record and how long the delivery waited', async () => {
    const seen: InProgressInfo<Event>[] = [];
    const outcomes: string[] = [];
    const { timers, engine } = setup({
      inProgress: { wait: { maxMs: 500, pollMs: 100 } },
      onInProgress: (info) => {
        seen.push(info);
        return { status: 409, retryAfterMs: info.record.leaseExpiresAt - info.record.claimedAt };
      },
      onOutcome: (outcome) => outcomes.push(outcome.kind),
    });
    const first = await firstDelivery(engine, 'i1');
    const second = engine.run(event('i1'), async () => 'second ran');
    await timers.run({ actors: 1, until: Infinity, done: second });
    expect(await second).toEqual({ status: 409, retryAfterMs: 30_000 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ key: 'idemkit:eventId:i1', strategy: 'eventId', waitedMs: 500, event: event('i1') });
    expect(seen[0]!.record.status).toBe('in_progress');
    expect(outcomes).toEqual(['in_progress']);
    first.finish();
    await first.done;
  });

  it('what it throws fails the delivery; without waiting it is asked at once', async () => {
    const refusal = new Error('busy: 409');
    const hold = gate();
    const started = gate();
    const busy = idempotent(
      async (_e: Event) => {
        started.open();
        await hold.promise;
        return 'done';
      },
      {
        store: new MemoryStore(),
        strategy: byId,
        onInProgress: () => {
          throw refusal;
        },
      },
    );
    const first = busy(event('i2'));
    await started.promise;
    await expect(busy(event('i2'))).rejects.toBe(refusal);
    hold.open();
    expect(await first).toBe('done');
  });

  it('in runBatch a value is a success (status in_progress) and a throw fails the item alone', async () => {
    const { engine, store } = setup({
      onInProgress: ({ event: e }) => {
        if (e.id === 'busy-throw') throw new Error('try later');
        return `answered ${e.id}`;
      },
    });
    await store.claim({ key: 'idemkit:eventId:busy-value', leaseMs: 60_000, retentionMs: 60_000 });
    await store.claim({ key: 'idemkit:eventId:busy-throw', leaseMs: 60_000, retentionMs: 60_000 });
    const outcomes = await engine.runBatch(
      [
        { id: 'm1', event: event('busy-value') },
        { id: 'm2', event: event('busy-throw') },
        { id: 'm3', event: event('fresh') },
      ],
      async (e) => `ran ${e.id}`,
    );
    expect(outcomes).toEqual([
      { id: 'm1', status: 'in_progress', result: 'answered busy-value' },
      { id: 'm2', status: 'failed', error: new Error('try later') },
      { id: 'm3', status: 'processed', result: 'ran fresh' },
    ]);
  });
});

describe('inProgress.wait in runBatch', () => {
  it('an item in progress elsewhere waits for it and is answered as its duplicate', async () => {
    const { timers, engine } = setup({ inProgress: { wait: { maxMs: 10_000, pollMs: 100 } } });
    const first = await firstDelivery(engine, 'b1');
    const ran: string[] = [];
    const batch = engine.runBatch(
      [
        { id: 'm1', event: event('b1') },
        { id: 'm2', event: event('b2') },
      ],
      async (e) => {
        ran.push(e.id);
        return `ran ${e.id}`;
      },
    );
    await timers.asleep(1); // m1 waits for b1
    first.finish();
    await first.done;
    await timers.run({ actors: 1, until: Infinity, done: batch });
    expect(await batch).toEqual([
      { id: 'm1', status: 'duplicate', result: { by: 'first', id: 'b1' } },
      { id: 'm2', status: 'processed', result: 'ran b2' },
    ]);
    expect(ran).toEqual(['b2']);
  });

  it('the items of one batch share one wait of maxMs', async () => {
    const waited: number[] = [];
    const { timers, engine, store } = setup({
      inProgress: { wait: { maxMs: 1_000, pollMs: 100 } },
      onInProgress: (info) => {
        waited.push(info.waitedMs);
        return 'later';
      },
    });
    await store.claim({ key: 'idemkit:eventId:s1', leaseMs: 60_000, retentionMs: 60_000 });
    await store.claim({ key: 'idemkit:eventId:s2', leaseMs: 60_000, retentionMs: 60_000 });
    const batch = engine.runBatch(
      [
        { id: 'm1', event: event('s1') },
        { id: 'm2', event: event('s2') },
      ],
      async () => 'ran',
    );
    await timers.run({ actors: 1, until: Infinity, done: batch });
    expect((await batch).map((outcome) => outcome.status)).toEqual(['in_progress', 'in_progress']);
    expect(waited).toEqual([1_000, 0]);
  });
});

describe('onFirstRun: the first run of a key, with its fencing token', () => {
  it('is called just before the handler runs, with key and token; duplicates never call it; onOutcome still hears each delivery once', async () => {
    const order: string[] = [];
    const { logger, lines } = recordingLogger();
    const { engine, store } = setup({
      logger,
      onFirstRun: (run) => order.push(`onFirstRun ${run.kind} ${run.key} ${run.fencingToken} ${run.strategy}`),
      onOutcome: (outcome) => order.push(`outcome ${outcome.kind} ${outcome.key} ${outcome.fencingToken ?? ''}`.trim()),
    });
    await engine.run(event('f1'), async () => {
      order.push('handler');
      return 'ok';
    });
    await engine.run(event('f1'), async () => 'again');
    const token = (await store.get('idemkit:eventId:f1'))!.fencingToken;
    expect(order).toEqual([
      `onFirstRun executed idemkit:eventId:f1 ${token} eventId`,
      'handler',
      // The processed delivery carries the token its handler ran under; the duplicate ran nothing.
      `outcome processed idemkit:eventId:f1 ${token}`,
      'outcome duplicate idemkit:eventId:f1',
    ]);
    const line = lines.find((entry) => entry.message === 'idempotency: first run')!;
    expect(line.level).toBe('debug');
    expect(line.fields).toEqual({ key: expect.stringMatching(/^#[A-Za-z0-9_-]{16}$/), strategy: 'eventId', fencingToken: token });
    expect(JSON.stringify(lines)).not.toContain('f1');
  });

  it('a throwing or rejecting onFirstRun never fails the delivery; its error is logged', async () => {
    for (const hook of [
      () => {
        throw new Error('hook broke');
      },
      () => Promise.reject(new Error('hook broke')) as never,
    ]) {
      const { logger, lines } = recordingLogger();
      const { engine } = setup({ logger, onFirstRun: hook });
      expect(await engine.run(event('f2'), async () => 'ran anyway')).toBe('ran anyway');
      await vi.waitFor(() => expect(lines.some((line) => line.level === 'error' && line.message.includes('onFirstRun'))).toBe(true));
    }
  });

  it('in a batch, once per item that runs, with every identity of an anyOf claim', async () => {
    const runs: Array<{ key: string; also?: unknown[] }> = [];
    const { engine } = setup({
      strategy: { strategy: 'anyOf', of: [{ strategy: 'eventId' }, { strategy: 'eventId', path: 'source' }] } as never,
      onFirstRun: (run) => runs.push({ key: run.key, ...(run.also ? { also: run.also } : {}) }),
    });
    const outcomes = await engine.runBatch(
      [
        { id: 'm1', event: { id: 'g1', source: 's1', detail: {} } },
        { id: 'm2', event: { id: 'g1', source: 's1', detail: {} } },
        { id: 'm3', event: { id: 'g2', source: 's2', detail: {} } },
      ],
      async () => 'ok',
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['processed', 'duplicate', 'processed']);
    const keyOf = (id: string, source: string) => engine.keyFor({ id, source, detail: {} });
    expect(runs.map((run) => run.key)).toEqual([keyOf('g1', 's1'), keyOf('g2', 's2')]);
    expect(runs.every((run) => run.also?.length === 1)).toBe(true);
  });
});
