import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  currentClaim,
  eventId,
  IdempotencyInProgressError,
  MemoryStore,
  type IdempotencyOutcome,
} from '@idemkit/core';
import { makeIdempotent, type LambdaContextLike } from '../src/index.js';
import { orderEvent } from './support/events.js';
import { gate, lambdaContext, recordingLogger, rejection } from './support/lambda.js';
import { openStore, STORE_KINDS, uniqueNamespace, type TestStore } from './support/stores.js';

describe.each(STORE_KINDS)('makeIdempotent on the %s store', (kind) => {
  let t: TestStore;
  beforeEach(() => {
    t = openStore(kind);
  });
  afterEach(async () => {
    await t.close();
  });

  const keyOf = (namespace: string, event: { id: string }) => `${namespace}:${eventId().keyFor(event).key}`;

  it('runs a new event once and returns the handler result', async () => {
    const calls: string[] = [];
    const handler = makeIdempotent(
      async (event: ReturnType<typeof orderEvent>) => {
        calls.push(event.detail.orderId);
        return { charged: event.detail.total };
      },
      { store: t.store, namespace: uniqueNamespace(), env: false, logLevel: 'off' },
    );
    await expect(handler(orderEvent('o-1'), lambdaContext())).resolves.toEqual({ charged: 42 });
    expect(calls).toEqual(['o-1']);
  });

  it('answers a completed duplicate with the stored result, without running the handler or throwing', async () => {
    const logger = recordingLogger();
    let calls = 0;
    const handler = makeIdempotent(
      async () => {
        calls += 1;
        return { receipt: `r-${calls}` };
      },
      { store: t.store, namespace: uniqueNamespace(), env: false, logger },
    );
    const event = orderEvent();
    await handler(event, lambdaContext());
    t.clock.advance(5_000);
    await expect(handler(structuredClone(event), lambdaContext())).resolves.toEqual({ receipt: 'r-1' });
    expect(calls).toBe(1);

    const duplicates = logger.lines.filter((line) => line.message === 'idempotency: duplicate skipped');
    expect(duplicates).toHaveLength(1);
    // Keys are raw field values: the log carries a short hash of it, never the key itself.
    expect(duplicates[0]!.fields).toMatchObject({ strategy: 'eventId', key: expect.stringMatching(/^#[A-Za-z0-9_-]{16}$/) });
    expect(JSON.stringify(duplicates[0])).not.toContain(event.id);
    expect(Date.parse(duplicates[0]!.fields['originalTime'] as string)).toBe(t.clock.now() - 5_000);
    expect(JSON.stringify(duplicates[0])).not.toContain(event.detail.orderId); // no payload
  });

  it('answers a duplicate with the configured duplicate response', async () => {
    const handler = makeIdempotent(async (): Promise<unknown> => ({ receipt: 'r-1' }), {
      store: t.store,
      namespace: uniqueNamespace(),
      env: false,
      logLevel: 'off',
      duplicateResponse: ({ key, record }) => ({ duplicateOf: key, firstSeen: record.claimedAt }),
    });
    const event = orderEvent();
    await handler(event, lambdaContext());
    const answer = await handler(event, lambdaContext());
    expect(answer).toEqual({ duplicateOf: expect.stringContaining(event.id), firstSeen: t.clock.now() });
  });

  it('throws the retryable IdempotencyInProgressError while the same event runs elsewhere', async () => {
    const running = gate();
    const entered = gate();
    const handler = makeIdempotent(
      async () => {
        entered.open();
        await running.promise;
        return 'done';
      },
      { store: t.store, namespace: uniqueNamespace(), env: false, logLevel: 'off' },
    );
    const event = orderEvent();
    const first = handler(event, lambdaContext());
    await entered.promise;
    const error = await rejection(handler(resentSame(event), lambdaContext()));
    expect(error).toBeInstanceOf(IdempotencyInProgressError);
    expect((error as IdempotencyInProgressError).retryable).toBe(true);
    running.open();
    await expect(first).resolves.toBe('done');
  });

  it("releases the claim when the handler throws, rethrows the handler's error, and lets the retry run", async () => {
    const namespace = uniqueNamespace();
    let attempt = 0;
    const handler = makeIdempotent(
      async () => {
        attempt += 1;
        if (attempt === 1) throw new Error('CRM unavailable');
        return 'ok';
      },
      { store: t.store, namespace, env: false, logLevel: 'off' },
    );
    const event = orderEvent();
    await expect(handler(event, lambdaContext())).rejects.toThrow('CRM unavailable');
    expect(await t.store.get(keyOf(namespace, event))).toBeUndefined();
    await expect(handler(event, lambdaContext())).resolves.toBe('ok');
    expect(attempt).toBe(2);
  });

  it('works with a handler that returns undefined, and answers its duplicates with undefined', async () => {
    let calls = 0;
    const handler = makeIdempotent(
      async (): Promise<void> => {
        calls += 1;
      },
      { store: t.store, namespace: uniqueNamespace(), env: false, logLevel: 'off' },
    );
    const event = orderEvent();
    await expect(handler(event, lambdaContext())).resolves.toBeUndefined();
    await expect(handler(event, lambdaContext())).resolves.toBeUndefined();
    expect(calls).toBe(1);
  });

  it('keeps the keys of two handlers wrapped in one Lambda apart (default namespace per wrapper)', async () => {
    const keys: string[] = [];
    const onOutcome = (outcome: IdempotencyOutcome) => keys.push(`${outcome.kind} ${outcome.key}`);
    const functionName = uniqueNamespace('crm-sync');
    const ran: string[] = [];
    // (Distinct variable names: a bundler renames a function that shadows its own variable.)
    const crmHandler = makeIdempotent(
      async function updateCrm() {
        ran.push('crm');
      },
      { store: t.store, env: false, logLevel: 'off', onOutcome },
    );
    const notifyHandler = makeIdempotent(
      async function notifySupervisor() {
        ran.push('notify');
      },
      { store: t.store, env: false, logLevel: 'off', onOutcome },
    );
    const event = orderEvent();
    const context = lambdaContext({ functionName });
    await crmHandler(event, context);
    await notifyHandler(event, context);
    await crmHandler(event, context);
    expect(ran).toEqual(['crm', 'notify']);
    expect(keys).toEqual([
      `processed ${functionName}/updateCrm:eventId:${event.id}`,
      `processed ${functionName}/notifySupervisor:eventId:${event.id}`,
      `duplicate ${functionName}/updateCrm:eventId:${event.id}`,
    ]);
  });

  it('refuses two anonymous handlers that would share a default namespace on one store', async () => {
    const context = lambdaContext({ functionName: uniqueNamespace('crm-sync') });
    const first = makeIdempotent(async () => 'a', { store: t.store, env: false, logLevel: 'off' });
    const second = makeIdempotent(async () => 'b', { store: t.store, env: false, logLevel: 'off' });
    await first(orderEvent(), context);
    const error = await rejection(second(orderEvent(), context));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('name');
    expect((error as Error).message).toContain(`${context.functionName}/handler`);
    // Named apart, they work side by side.
    const third = makeIdempotent(async () => 'c', { store: t.store, env: false, logLevel: 'off', name: 'third' });
    await expect(third(orderEvent(), context)).resolves.toBe('c');
  });

  it("leases each claim for the invocation's remaining time plus the margin", async () => {
    const namespace = uniqueNamespace();
    const seen: Array<number | undefined> = [];
    const handler = makeIdempotent(
      async (event: ReturnType<typeof orderEvent>) => {
        seen.push((await t.store.get(keyOf(namespace, event)))?.leaseExpiresAt);
      },
      { store: t.store, namespace, env: false, logLevel: 'off', leaseMs: 600_000, leaseMarginMs: 2_000 },
    );
    await handler(orderEvent(), lambdaContext({ remainingMs: 14_250 }));
    await handler(orderEvent(), lambdaContext({ remainingMs: 0 }));
    expect(seen).toEqual([t.clock.now() + 14_250 + 2_000, t.clock.now() + 2_000]);
  });

  it('uses the configured leaseMs when there is no Lambda context', async () => {
    const namespace = uniqueNamespace();
    let leaseExpiresAt: number | undefined;
    const handler = makeIdempotent(
      async (event: ReturnType<typeof orderEvent>, _context?: LambdaContextLike) => {
        leaseExpiresAt = (await t.store.get(keyOf(namespace, event)))?.leaseExpiresAt;
      },
      { store: t.store, namespace, env: false, logLevel: 'off', leaseMs: 45_000 },
    );
    await handler(orderEvent(), undefined);
    expect(leaseExpiresAt).toBe(t.clock.now() + 45_000);
  });

  it('passes the context through, and exposes the fencing token through currentClaim()', async () => {
    const namespace = uniqueNamespace();
    const handler = makeIdempotent(
      async (_event: ReturnType<typeof orderEvent>, context: ReturnType<typeof lambdaContext>) => ({
        functionName: context.functionName,
        claim: currentClaim(),
      }),
      { store: t.store, namespace, env: false, logLevel: 'off' },
    );
    const event = orderEvent();
    const result = await handler(event, lambdaContext({ functionName: 'orders' }));
    expect(result.functionName).toBe('orders');
    expect(result.claim).toEqual({ key: keyOf(namespace, event), fencingToken: expect.any(Number), leaseExpiresAt: expect.any(Number) });
  });
});

// The same event delivered again (a copy, as a second invocation would parse it).
function resentSame<T>(event: T): T {
  return structuredClone(event);
}

describe.each(STORE_KINDS)('makeIdempotent claim owners on the %s store', (kind) => {
  let t: TestStore;
  beforeEach(() => {
    t = openStore(kind);
  });
  afterEach(async () => {
    await t.close();
  });

  it('a claim whose reply was lost is taken over by its own request id, never by another invocation', async () => {
    const namespace = uniqueNamespace();
    let runs = 0;
    const handler = makeIdempotent(
      async () => {
        runs += 1;
        return 'synced';
      },
      { store: t.store, namespace, strategy: { strategy: 'eventId' }, env: false, logLevel: 'off' },
    );
    const event = orderEvent();
    const context = lambdaContext({ functionName: 'owners' });
    // The first attempt's claim landed, but its reply was lost: nothing ran under it.
    const key = `${namespace}:eventId:${event.id}`;
    const landed = await t.store.claim({ key, leaseMs: 60_000, retentionMs: 3_600_000, owner: context.awsRequestId });
    expect(landed.acquired).toBe(true);
    // Another invocation meets a claim it does not own: in progress, retry later.
    await expect(handler(event, lambdaContext({ functionName: 'owners' }))).rejects.toMatchObject({ code: 'IN_PROGRESS' });
    // The same request retried (the client's re-send, or Lambda's own retry) takes its claim over and runs once.
    await expect(handler(event, context)).resolves.toBe('synced');
    await expect(handler(event, lambdaContext({ functionName: 'owners' }))).resolves.toBe('synced');
    expect(runs).toBe(1);
  });
});

describe('makeIdempotent with localCache', () => {
  it('answers a warm repeat of an event it completed without a store call', async () => {
    const store = new MemoryStore();
    let claims = 0;
    const claim = store.claim.bind(store);
    store.claim = async (request) => {
      claims += 1;
      return claim(request);
    };
    const handler = makeIdempotent(async () => 'synced', { store, localCache: true, env: false, logLevel: 'off', namespace: uniqueNamespace() });
    const event = orderEvent();
    await expect(handler(event, lambdaContext())).resolves.toBe('synced');
    await expect(handler(structuredClone(event), lambdaContext())).resolves.toBe('synced');
    expect(claims).toBe(1);
  });
});
