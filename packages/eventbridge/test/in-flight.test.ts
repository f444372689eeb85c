import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentClaim, IdempotencyInProgressError, type ActiveClaim } from '@idemkit/core';
import { lockstepTimers, type LockstepTimers } from '../../core/test/support/lockstep-timers.js';
import { idempotencyMiddleware, makeIdempotent, makeIdempotentSqs, type IdempotencyConfig, type MiddyLikeRequest } from '../src/index.js';
import { orderEvent, sqsEvent, sqsRecord } from './support/events.js';
import { gate, lambdaContext } from './support/lambda.js';
import { openStore, STORE_KINDS, uniqueNamespace, type TestStore } from './support/stores.js';

// The wrappers pass core's in-flight options through, and bound a waiting duplicate by the
// invocation's remaining time. Each test runs on every store the wrapper tests use, with the
// store and the engine on one manual clock and the engine's sleeps in lock step with it.

const strategy = { strategy: 'eventId', path: 'detail.orderId' } as const;
type OrderEvent = ReturnType<typeof orderEvent>;

/** A Lambda context of its own invocation (request id), reporting `remainingMs` left. */
function invocation(remainingMs: number): Context {
  return { ...lambdaContext({ remainingMs }), awsRequestId: randomUUID() };
}

/** Another invocation that holds `event`'s key, its handler running until `finish()`. */
async function holdKey<TResult>(config: IdempotencyConfig<OrderEvent, TResult>, event: OrderEvent, result: TResult) {
  const started = gate();
  const finish = gate();
  const holder = makeIdempotent(async () => {
    started.open();
    await finish.promise;
    return result;
  }, config);
  const done = holder(event, invocation(30_000));
  await started.promise;
  return { done, finish: () => finish.open() };
}

describe.each(STORE_KINDS)('in-flight duplicates through the wrappers on the %s store', (kind) => {
  let t: TestStore;
  let timers: LockstepTimers;
  beforeEach(() => {
    t = openStore(kind);
    timers = lockstepTimers(t.clock);
  });
  afterEach(async () => {
    await t.close();
  });

  const common = () => ({
    store: t.store,
    namespace: uniqueNamespace(),
    strategy,
    env: false,
    logLevel: 'off',
    clock: t.clock.now,
    sleep: timers.sleep,
  }) as const;

  it('makeIdempotent: a handler that outlives its lease keeps it by heartbeat, and a waiting duplicate gets its result', async (context) => {
    if (typeof t.store.extendLease !== 'function') context.skip();
    const runs: string[] = [];
    const started = gate<ActiveClaim>();
    const finish = gate();
    const firstRuns: string[] = [];
    const handler = makeIdempotent(
      async (event: OrderEvent) => {
        runs.push(event.id);
        started.open(currentClaim()!);
        await finish.promise;
        return { synced: event.detail.orderId };
      },
      { ...common(), heartbeat: true, inProgress: { wait: { maxMs: 60_000, pollMs: 500 } }, onFirstRun: (run) => firstRuns.push(run.key) },
    );
    const event = orderEvent('o-slow');
    // 2 s left, so a lease of 3 s (the default margin adds 1 s); the duplicate has a minute.
    const first = handler(event, invocation(2_000));
    const claim = await started.promise;
    const leasedUntil = claim.leaseExpiresAt;
    const second = handler(event, invocation(60_000));
    await timers.run({ actors: 2, until: t.clock.now() + 10_000 });
    expect(claim.leaseExtendedAt).toBeGreaterThan(leasedUntil - 3_000);
    expect(claim.leaseExpiresAt).toBeGreaterThan(leasedUntil + 6_000);
    expect(runs).toHaveLength(1);
    finish.open();
    expect(await first).toEqual({ synced: 'o-slow' });
    await timers.run({ actors: 1, until: Infinity, done: second });
    expect(await second).toEqual({ synced: 'o-slow' });
    expect(runs).toHaveLength(1);
    expect(firstRuns).toHaveLength(1);
  });

  it('makeIdempotent: the wait stops a second before the invocation runs out of time', async () => {
    const ns = common();
    const event = orderEvent('o-short');
    const first = await holdKey(ns, event, 'o-short');
    const handler = makeIdempotent(async () => 'ran', { ...ns, name: 'waiter', inProgress: { wait: { maxMs: 60_000, pollMs: 100 } } });
    const waitStartedAt = t.clock.now();
    const second = handler(event, invocation(2_500));
    await timers.run({ actors: 1, until: Infinity, done: second });
    await expect(second).rejects.toBeInstanceOf(IdempotencyInProgressError);
    expect(t.clock.now() - waitStartedAt).toBe(1_500);
    first.finish();
    expect(await first.done).toBe('o-short');
  });

  it('makeIdempotentSqs: onInProgress answers a record in progress elsewhere: a value acknowledges it, a throw reports it', async () => {
    const ns = common();
    const busyValue = orderEvent('o-busy-value');
    const busyThrow = orderEvent('o-busy-throw');
    const first = await holdKey(ns, busyValue, undefined);
    const second = await holdKey({ ...ns, name: 'other' }, busyThrow, undefined);

    const ran: string[] = [];
    const handler = makeIdempotentSqs(
      async (event: OrderEvent) => {
        ran.push(event.detail.orderId);
      },
      {
        ...ns,
        name: 'sqs',
        onInProgress: ({ event }) => {
          if ((event as OrderEvent).detail.orderId === 'o-busy-throw') throw new Error('not yet');
          return undefined;
        },
      },
    );
    const response = await handler(
      sqsEvent(
        sqsRecord(busyValue, { messageId: 'm-value' }),
        sqsRecord(busyThrow, { messageId: 'm-throw' }),
        sqsRecord(orderEvent('o-new'), { messageId: 'm-new' }),
      ),
      invocation(30_000),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-throw' }] });
    expect(ran).toEqual(['o-new']);
    first.finish();
    second.finish();
    await Promise.all([first.done, second.done]);
  });

  it('makeIdempotentSqs: a record in progress elsewhere waits for it and is acknowledged as its duplicate', async () => {
    const ns = common();
    const busy = orderEvent('o-wait');
    const first = await holdKey(ns, busy, 'done o-wait');
    const ran: string[] = [];
    const handler = makeIdempotentSqs(
      async (event: OrderEvent) => {
        ran.push(event.detail.orderId);
      },
      { ...ns, name: 'sqs', inProgress: { wait: { maxMs: 10_000, pollMs: 100 } } },
    );
    const batch = handler(sqsEvent(sqsRecord(busy, { messageId: 'm-wait' })), invocation(30_000));
    await timers.asleep(1);
    first.finish();
    expect(await first.done).toBe('done o-wait');
    await timers.run({ actors: 1, until: Infinity, done: batch });
    expect(await batch).toEqual({ batchItemFailures: [] });
    expect(ran).toEqual([]);
  });

  it('the Middy middleware waits too, and answers early with the stored result', async () => {
    const ns = common();
    const event = orderEvent('o-middy');
    const first = await holdKey(ns, event, 'stored');
    const middleware = idempotencyMiddleware<OrderEvent, string>({ ...ns, name: 'handler', inProgress: { wait: { maxMs: 10_000, pollMs: 100 } } });
    const request: MiddyLikeRequest<OrderEvent, string> = { event, context: invocation(30_000), response: undefined, error: undefined };
    const before = middleware.before(request);
    await timers.asleep(1);
    first.finish();
    await first.done;
    await timers.run({ actors: 1, until: Infinity, done: before });
    expect(await before).toBe('stored');
  });
});
