import { describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  IdempotencyEngine,
  IdempotencyResultTooLargeError,
  IdempotencyStoreError,
  KeyExtractionError,
  LeaseLostError,
  MemoryStore,
  idempotent,
  type CompleteRequest,
  type IdempotencyRecord,
} from '../src/index.js';
import { manualClock } from '../src/testing/index.js';
import { failing } from './support/stores.js';

// Engine bugs a mutation run found the suite let through (issue 17). Each test here fails on its
// mutant; the mutant is named above the test, so a reader can check the test still kills it.

const byId = { strategy: 'eventId' } as const;
const event = (id: string) => ({ id, source: 'test', detail: {} });
const keyOf = (id: string) => `idemkit:eventId:${id}`;

/** A completed record that keeps no result (the property is absent, as every store reads it back). */
function expectCompletedWithoutResult(record: IdempotencyRecord | undefined): void {
  expect(record?.status).toBe('completed');
  expect(record).not.toHaveProperty('result');
}

/** The error a promise rejects with, or undefined when it resolves. */
const rejectionOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

/**
 * A MemoryStore whose `complete` calls are recorded and may be refused: `refuse` returns the error
 * a call throws (the call then changes nothing), or undefined to let it through.
 */
function recordingCompletions(refuse: (request: CompleteRequest) => Error | undefined, store = new MemoryStore()) {
  const complete = store.complete.bind(store);
  const calls: CompleteRequest[] = [];
  store.complete = async (request) => {
    calls.push(request);
    const refusal = refuse(request);
    if (refusal !== undefined) throw refusal;
    return complete(request);
  };
  return { store, calls };
}

describe('the result-size limit counts UTF-8 bytes, not UTF-16 characters', () => {
  // Mutant: `text.length > maxBytes` instead of `Buffer.byteLength(text) > maxBytes`.
  // JSON of 'é' × 100 is 102 characters but 202 bytes; of '🎧' × 50, 102 characters but 202 bytes.
  const accented = 'é'.repeat(100);
  const emoji = '🎧'.repeat(50);

  it('a result one byte over the limit is refused although its characters fit', async () => {
    const fn = vi.fn(async (_event: unknown) => accented);
    const store = new MemoryStore();
    const once = idempotent(fn, { store, strategy: byId, maxResultBytes: 201 });
    const error = await rejectionOf(once(event('over')));
    expect(error).toBeInstanceOf(IdempotencyResultTooLargeError);
    expect(error).toMatchObject({ bytes: 202, maxBytes: 201 });
    // Completed without the result, so the effect never repeats.
    expectCompletedWithoutResult(await store.get(keyOf('over')));
    expect(await once(event('over'))).toBeUndefined();
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('a result of exactly the limit in bytes is stored and returned to duplicates', async () => {
    const fn = vi.fn(async (_event: unknown) => accented);
    const store = new MemoryStore();
    const once = idempotent(fn, { store, strategy: byId, maxResultBytes: 202 });
    expect(await once(event('exact'))).toBe(accented);
    expect((await store.get(keyOf('exact')))?.result).toBe(JSON.stringify(accented));
    expect(await once(event('exact'))).toBe(accented);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("the store's own limit counts 4-byte characters as 4 bytes ('skip' keeps the claim, drops the result)", async () => {
    const store = Object.assign(new MemoryStore(), { maxResultBytes: 201 });
    const once = idempotent(async (_event: unknown) => emoji, { store, strategy: byId, onOversizeResult: 'skip' });
    expect(await once(event('emoji'))).toBe(emoji);
    expectCompletedWithoutResult(await store.get(keyOf('emoji')));
  });

  it("a batch's results are measured the same way", async () => {
    const store = new MemoryStore();
    const engine = new IdempotencyEngine({ store, strategy: byId, maxResultBytes: 201, onOversizeResult: 'skip' });
    const outcomes = await engine.runBatch([{ id: 'm1', event: event('batch-over') }], async () => accented, { completion: 'batch' });
    expect(outcomes[0]).toMatchObject({ status: 'processed', result: accented });
    expectCompletedWithoutResult(await store.get(keyOf('batch-over')));
  });
});

describe('failOpen runs the handler only on store outages', () => {
  // Mutant: `runDespiteOutage` runs the handler whenever `failOpen` is set, whatever the claim threw
  // (or the key-building error is routed through it).

  it('a KeyExtractionError from the strategy fails the call and never reaches the store', async () => {
    const store = new MemoryStore();
    const claim = vi.spyOn(store, 'claim');
    const fn = vi.fn(async (_event: unknown) => 'ran');
    const once = idempotent(fn, { store, strategy: { strategy: 'eventId', path: 'detail.orderId' }, failOpen: true });
    expect(await rejectionOf(once(event('no-order-id')))).toBeInstanceOf(KeyExtractionError);
    expect(fn).not.toHaveBeenCalled();
    expect(claim).not.toHaveBeenCalled();
  });

  it.each([
    ['an owner longer than any store keeps', { owner: 'o'.repeat(129) }, 'owner'],
    ['a zero lease', { leaseMs: 0 }, 'leaseMs'],
  ])("a ConfigError the store's validation throws (%s) fails the call", async (_label, runOptions, field) => {
    const store = new MemoryStore();
    const fn = vi.fn(async (_event: unknown) => 'ran');
    const once = idempotent(fn, { store, strategy: byId, failOpen: true, runOptionsFrom: () => runOptions });
    const error = await rejectionOf(once(event('bad-claim')));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
    expect(fn).not.toHaveBeenCalled();
    expect(store.size).toBe(0);
  });

  it('a key too long for the store (ConfigError on `key`, as DynamoDB throws past 2048 bytes) fails the call', async () => {
    const store = new MemoryStore();
    const claim = store.claim.bind(store);
    // A store with a short key limit, checked before any I/O as the adapters do.
    store.claim = async (request) => {
      if (Buffer.byteLength(request.key) > 40) throw new ConfigError('key', `is ${Buffer.byteLength(request.key)} bytes; this store holds at most 40`);
      return claim(request);
    };
    const fn = vi.fn(async (_event: unknown) => 'ran');
    const once = idempotent(fn, { store, strategy: byId, failOpen: true });
    expect(await once(event('short'))).toBe('ran');
    const error = await rejectionOf(once(event('a-rather-long-event-id-0123456789')));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('key');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['a retryable IdempotencyStoreError', new IdempotencyStoreError('test', 'connection refused')],
    ['a permanent IdempotencyStoreError', new IdempotencyStoreError('test', 'access denied', { retryable: false })],
    ['an error the store did not classify', new Error('ETIMEDOUT')],
  ])('an outage (%s) runs the handler without a claim', async (_label, outage) => {
    const fn = vi.fn(async (_event: unknown, ..._rest: unknown[]) => 'ran anyway');
    const engine = new IdempotencyEngine({ store: failing(new MemoryStore(), { claim: outage }), strategy: byId, failOpen: true });
    expect(await engine.run(event('outage'), fn)).toBe('ran anyway');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn.mock.calls[0]![1]).toBeUndefined();
  });

  it('in a batch: a claimMany ConfigError fails every item, a claimMany outage runs them all', async () => {
    const items = [
      { id: 'm1', event: event('b-1') },
      { id: 'm2', event: event('b-2') },
    ];
    const fn = vi.fn(async () => 'ran');
    const refused = new IdempotencyEngine({
      store: failing(new MemoryStore(), { claimMany: new ConfigError('also[0].key', 'repeats another identity of the claim') }),
      strategy: byId,
      failOpen: true,
    });
    const closed = await refused.runBatch(items, fn);
    expect(closed.map((outcome) => outcome.status)).toEqual(['failed', 'failed']);
    expect(closed[0]!.status === 'failed' && closed[0]!.error).toBeInstanceOf(ConfigError);
    expect(fn).not.toHaveBeenCalled();

    const down = new IdempotencyEngine({
      store: failing(new MemoryStore(), { claimMany: new IdempotencyStoreError('test', 'connection reset') }),
      strategy: byId,
      failOpen: true,
    });
    expect((await down.runBatch(items, fn)).map((outcome) => outcome.status)).toEqual(['processed', 'processed']);
    expect(fn).toHaveBeenCalledTimes(2);
  });
});

describe('the completion retry retries only retryable store faults', () => {
  // Mutant: `isRetryableFault` answering true for every error (or for every IdempotencyError), so a
  // refusal that cannot change is sent again, up to three times.

  it('a result the store refuses as too large is not retried: one call with it, one without', async () => {
    const { store, calls } = recordingCompletions((request) =>
      request.result !== undefined && request.result.length > 10 ? new IdempotencyResultTooLargeError(request.key, request.result.length, 10) : undefined,
    );
    const fn = vi.fn(async (_event: unknown) => 'a result the store refuses');
    const once = idempotent(fn, { store, strategy: byId });
    expect(await rejectionOf(once(event('too-large')))).toBeInstanceOf(IdempotencyResultTooLargeError);
    expect(calls.map((call) => call.result)).toEqual([JSON.stringify('a result the store refuses'), undefined]);
    expectCompletedWithoutResult(await store.get(keyOf('too-large')));
  });

  it.each([
    ['a ConfigError', 1, () => new ConfigError('result', 'must be JSON text')],
    ['a permanent IdempotencyStoreError', 1, () => new IdempotencyStoreError('test', 'access denied', { retryable: false })],
    ['a retryable IdempotencyStoreError', 3, () => new IdempotencyStoreError('test', 'connection reset')],
    ['an error the store did not classify', 3, () => new Error('ECONNRESET')],
  ])('a completion failing with %s is attempted %i time(s)', async (_label, attempts, failure) => {
    const { store, calls } = recordingCompletions(() => failure());
    const once = idempotent(async (_event: unknown) => 'done', { store, strategy: byId });
    // Not transactional: the effect happened, so the call returns its result and logs the fault.
    expect(await once(event('refused'))).toBe('done');
    expect(calls).toHaveLength(attempts);
    expect((await store.get(keyOf('refused')))?.status).toBe('in_progress');
  });

  it('a lease taken over is not retried: one call, and LeaseLostError', async () => {
    const clock = manualClock();
    const { store, calls } = recordingCompletions(() => undefined, new MemoryStore({ clock: clock.now }));
    const rival = new IdempotencyEngine({ store, strategy: byId });
    const once = idempotent(
      async (e: ReturnType<typeof event>) => {
        // The handler outlives its lease and another delivery takes the key over meanwhile.
        clock.advance(1_000);
        await rival.run(e, async () => 'rival');
        return 'late';
      },
      { store, strategy: byId, leaseMs: 1_000 },
    );
    expect(await rejectionOf(once(event('taken')))).toBeInstanceOf(LeaseLostError);
    // The rival's completion is one call; ours is the other.
    expect(calls.filter((call) => call.result === JSON.stringify('late'))).toHaveLength(1);
    expect(await store.get(keyOf('taken'))).toMatchObject({ status: 'completed', result: JSON.stringify('rival') });
  });
});
