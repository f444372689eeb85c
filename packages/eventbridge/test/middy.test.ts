import middy6 from '@middy/core';
import middy4 from '@middy/core-4';
import middy5 from '@middy/core-5';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventId, IdempotencyInProgressError } from '@idemkit/core';
import { idempotencyMiddleware } from '../src/index.js';
import { orderEvent } from './support/events.js';
import { gate, lambdaContext, rejection } from './support/lambda.js';
import { openStore, STORE_KINDS, uniqueNamespace, type TestStore } from './support/stores.js';

type OrderEvent = EventBridgeEvent<'OrderPlaced', { orderId: string; total: number }>;

// Every Middy major the docs name, each on every test store.
const MIDDY_MAJORS = [
  ['6', middy6],
  ['5', middy5 as unknown as typeof middy6],
  ['4', middy4 as unknown as typeof middy6],
] as const;
const CASES = MIDDY_MAJORS.flatMap(([major, middy]) => STORE_KINDS.map((kind) => [major, middy, kind] as const));

describe.each(CASES)('idempotencyMiddleware in @middy/core %s on the %s store', (_major, middy, kind) => {
  let t: TestStore;
  beforeEach(() => {
    t = openStore(kind);
  });
  afterEach(async () => {
    await t.close();
  });

  const keyOf = (namespace: string, event: { id: string }) => `${namespace}:${eventId().keyFor(event).key}`;

  it('runs a new event and stores the response; a duplicate short-circuits the handler with the stored result', async () => {
    let calls = 0;
    const namespace = uniqueNamespace();
    const handler = middy(async (event: OrderEvent) => {
      calls += 1;
      return { synced: event.detail.orderId, run: calls };
    }).use(idempotencyMiddleware({ store: t.store, namespace, env: false, logLevel: 'off' }));

    const event = orderEvent('o-1');
    await expect(handler(event, lambdaContext())).resolves.toEqual({ synced: 'o-1', run: 1 });
    expect((await t.store.get(keyOf(namespace, event)))?.status).toBe('completed');
    await expect(handler(structuredClone(event), lambdaContext())).resolves.toEqual({ synced: 'o-1', run: 1 });
    expect(calls).toBe(1);
  });

  it('short-circuits a duplicate whose stored result is undefined (the usual EventBridge handler)', async () => {
    let calls = 0;
    const handler = middy(async () => {
      calls += 1;
    }).use(idempotencyMiddleware({ store: t.store, namespace: uniqueNamespace(), env: false, logLevel: 'off' }));
    const event = orderEvent();
    await expect(handler(event, lambdaContext())).resolves.toBeUndefined();
    // Middy 4 and 5 respond early only to a value: the duplicate answers null, which is what
    // Lambda returns for undefined anyway.
    await expect(handler(event, lambdaContext())).resolves.toBeNull();
    await expect(handler(structuredClone(event), lambdaContext())).resolves.toBeNull();
    expect(calls).toBe(1);
  });

  it('answers a duplicate with the configured duplicate response', async () => {
    const handler = middy(async () => 'first').use(
      idempotencyMiddleware({
        store: t.store,
        namespace: uniqueNamespace(),
        env: false,
        logLevel: 'off',
        duplicateResponse: () => 'already done',
      }),
    );
    const event = orderEvent();
    await handler(event, lambdaContext());
    await expect(handler(event, lambdaContext())).resolves.toBe('already done');
  });

  it("releases the claim when the handler throws, and Middy rethrows the handler's error", async () => {
    const namespace = uniqueNamespace();
    let attempt = 0;
    const handler = middy(async () => {
      attempt += 1;
      if (attempt === 1) throw new Error('CRM unavailable');
      return 'ok';
    }).use(idempotencyMiddleware({ store: t.store, namespace, env: false, logLevel: 'off' }));
    const event = orderEvent();
    await expect(handler(event, lambdaContext())).rejects.toThrow('CRM unavailable');
    expect(await t.store.get(keyOf(namespace, event))).toBeUndefined();
    await expect(handler(event, lambdaContext())).resolves.toBe('ok');
  });

  it('throws IdempotencyInProgressError while the same event runs elsewhere, without running the handler', async () => {
    const running = gate();
    const entered = gate();
    let calls = 0;
    const handler = middy(async () => {
      calls += 1;
      entered.open();
      await running.promise;
      return 'done';
    }).use(idempotencyMiddleware({ store: t.store, namespace: uniqueNamespace(), env: false, logLevel: 'off' }));
    const event = orderEvent();
    const first = handler(event, lambdaContext());
    await entered.promise;
    expect(await rejection(handler(event, lambdaContext()))).toBeInstanceOf(IdempotencyInProgressError);
    running.open();
    await expect(first).resolves.toBe('done');
    expect(calls).toBe(1);
  });

  it("leases the claim for the invocation's remaining time plus the margin", async () => {
    const namespace = uniqueNamespace();
    let leaseExpiresAt: number | undefined;
    const handler = middy(async (event: OrderEvent) => {
      leaseExpiresAt = (await t.store.get(keyOf(namespace, event)))?.leaseExpiresAt;
    }).use(idempotencyMiddleware({ store: t.store, namespace, env: false, logLevel: 'off' }));
    await handler(orderEvent(), lambdaContext({ remainingMs: 9_000 }));
    expect(leaseExpiresAt).toBe(t.clock.now() + 10_000);
  });

  it('stores the response as the middlewares registered after it shaped it', async () => {
    const namespace = uniqueNamespace();
    const handler = middy(async () => ({ body: 'raw' }))
      .use(idempotencyMiddleware({ store: t.store, namespace, env: false, logLevel: 'off' }))
      .use({
        after: async (request) => {
          request.response = { ...request.response, shaped: true };
        },
      });
    const event = orderEvent();
    await expect(handler(event, lambdaContext())).resolves.toEqual({ body: 'raw', shaped: true });
    await expect(handler(event, lambdaContext())).resolves.toEqual({ body: 'raw', shaped: true });
  });
});

describe('idempotencyMiddleware types', () => {
  it('fits middy().use() with aws-lambda types', () => {
    const handler = middy6<OrderEvent, { ok: boolean }, Error, Context>(async () => ({ ok: true })).use(
      idempotencyMiddleware<OrderEvent, { ok: boolean }, Context>({ env: false }),
    );
    expect(typeof handler).toBe('function');
  });
});
