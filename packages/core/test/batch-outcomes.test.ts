import { describe, expect, it, vi } from 'vitest';
import {
  BatchItemSkippedError,
  IdempotencyEngine,
  IdempotencyKeyConflictError,
  MemoryStore,
  type EngineOptions,
  type IdempotencyOutcome,
  type Sleep,
} from '../src/index.js';
import { manualClock } from '../src/testing/index.js';
import { lockstepTimers } from './support/lockstep-timers.js';
import { recordingLogger } from './support/recording-logger.js';

// What runBatch answers for each item, and what it asks of the store on the way: which items a FIFO
// failure skips (unreadable and cached items included) and what the skip says; localCache hits that
// fail or succeed; the owner and lease every claim is taken with; when a late item's lease is
// extended before it runs, and what a lapsed one reports; what completeMany is sent (and when it is
// not sent at all); in-batch repeats meeting `inProgress.wait`; and that no heartbeat outlives a batch.

const T0 = 1_709_806_530_000;
const byId = { strategy: 'eventId' } as const;
const bothIds = { strategy: 'anyOf', of: [{ strategy: 'eventId' }, { strategy: 'eventId', path: 'source' }] } as const;

interface Ev {
  id: string;
  source?: string;
  amount?: number;
  fail?: boolean;
}

function setup(options: Partial<EngineOptions<Ev, string>> = {}) {
  const clock = manualClock(T0);
  const store = new MemoryStore({ clock: clock.now });
  const engine = new IdempotencyEngine<Ev, string>({ store, strategy: byId, clock: clock.now, ...options });
  const ran: string[] = [];
  const handler = async (event: Ev) => {
    ran.push(event.id);
    if (event.fail) throw new Error(`handler failed for ${event.id}`);
    return `done ${event.id}`;
  };
  return { clock, store, engine, ran, handler };
}

/** The error of a failed outcome, as a BatchItemSkippedError (failing the test when it is anything else). */
function skipped(outcome: { status: string; error?: unknown } | undefined): BatchItemSkippedError {
  expect(outcome).toMatchObject({ status: 'failed', error: expect.any(BatchItemSkippedError) });
  return (outcome as { error: BatchItemSkippedError }).error;
}

describe('a FIFO batch (stopOnFirstFailure) stops at its first failure', () => {
  it('an unreadable item stops it: later items are skipped unrun, their claims released, the error naming the item', async () => {
    const { store, engine, ran, handler } = setup();
    const outcomes = await engine.runBatch(
      [
        { id: 'm1', readError: new SyntaxError('bad JSON') },
        { id: 'm2', event: { id: 'b' } },
      ],
      handler,
      { stopOnFirstFailure: true },
    );
    expect(outcomes[0]).toMatchObject({ id: 'm1', status: 'failed', error: expect.any(SyntaxError) });
    expect(outcomes[1]!.id).toBe('m2');
    const error = skipped(outcomes[1]);
    expect(error.failedItemId).toBe('m1');
    expect(error.name).toBe('BatchItemSkippedError');
    expect(error.message).toBe('[idemkit] not attempted: item m1 earlier in this FIFO batch failed');
    expect(ran).toEqual([]);
    expect(await store.get(engine.keyFor({ id: 'b' }))).toBeUndefined();
  });

  it('the first failure stays the one named when a later item is unreadable', async () => {
    const { engine, ran, handler } = setup();
    const outcomes = await engine.runBatch(
      [
        { id: 'm1', event: { id: 'a', fail: true } },
        { id: 'm2', readError: new SyntaxError('bad JSON') },
        { id: 'm3', event: { id: 'c' } },
      ],
      handler,
      { stopOnFirstFailure: true },
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['failed', 'failed', 'failed']);
    expect(skipped(outcomes[2]).failedItemId).toBe('m1');
    expect(ran).toEqual(['a']);
  });

  it('a later item the store refused as a duplicate is skipped too, and its completed record left alone', async () => {
    const { store, engine, ran, handler } = setup();
    await engine.run({ id: 'old' }, handler);
    ran.length = 0;
    const outcomes = await engine.runBatch(
      [
        { id: 'm1', event: { id: 'a', fail: true } },
        { id: 'm2', event: { id: 'old' } },
      ],
      handler,
      { stopOnFirstFailure: true },
    );
    expect(outcomes[0]).toMatchObject({ id: 'm1', status: 'failed' });
    expect(skipped(outcomes[1]).failedItemId).toBe('m1');
    expect(ran).toEqual(['a']);
    expect(await store.get(engine.keyFor({ id: 'old' }))).toMatchObject({ status: 'completed', result: '"done old"' });
  });
});

describe('localCache hits in a batch', () => {
  it('a cached item after a FIFO failure is skipped, not answered from the cache', async () => {
    const { engine, ran, handler } = setup({ localCache: true });
    await engine.run({ id: 'c' }, handler);
    ran.length = 0;
    const outcomes = await engine.runBatch(
      [
        { id: 'm1', event: { id: 'f', fail: true } },
        { id: 'm2', event: { id: 'c' } },
      ],
      handler,
      { stopOnFirstFailure: true },
    );
    expect(outcomes).toHaveLength(2);
    expect(outcomes[1]).toEqual({ id: 'm2', status: 'failed', error: expect.any(BatchItemSkippedError) });
    expect(skipped(outcomes[1]).failedItemId).toBe('m1');
    expect(ran).toEqual(['f']);
  });

  it('a cached duplicate is a success: it does not stop a FIFO batch', async () => {
    const { engine, ran, handler } = setup({ localCache: true });
    await engine.run({ id: 'c' }, handler);
    ran.length = 0;
    const outcomes = await engine.runBatch(
      [
        { id: 'm1', event: { id: 'c' } },
        { id: 'm2', event: { id: 'n' } },
      ],
      handler,
      { stopOnFirstFailure: true },
    );
    expect(outcomes).toEqual([
      { id: 'm1', status: 'duplicate', result: 'done c' },
      { id: 'm2', status: 'processed', result: 'done n' },
    ]);
    expect(ran).toEqual(['n']);
  });

  /** An engine that caches `c` (amount 1) and refuses another payload for it. */
  async function conflicting() {
    const context = setup({ localCache: true, payloadMismatch: 'error' });
    await context.engine.run({ id: 'c', amount: 1 }, context.handler);
    context.ran.length = 0;
    const claimMany = vi.spyOn(context.store, 'claimMany');
    const items = [
      { id: 'm1', event: { id: 'c', amount: 2 } },
      { id: 'm2', event: { id: 'n' } },
    ];
    return { ...context, claimMany, items };
  }

  it('a cached item whose answer fails (a payload conflict) fails alone, answered without a claim', async () => {
    const { engine, ran, handler, claimMany, items } = await conflicting();
    const outcomes = await engine.runBatch(items, handler);
    expect(outcomes[0]).toEqual({ id: 'm1', status: 'failed', error: expect.any(IdempotencyKeyConflictError) });
    expect(outcomes[1]).toEqual({ id: 'm2', status: 'processed', result: 'done n' });
    expect(ran).toEqual(['n']);
    // Only the uncached item was claimed: m1 was judged by the cache.
    expect(claimMany.mock.calls.map(([requests]) => requests.map((request) => request.key))).toEqual([[engine.keyFor({ id: 'n' })]]);
  });

  it('in a FIFO batch, a cached item whose answer fails stops the batch', async () => {
    const { store, engine, ran, handler, items } = await conflicting();
    const outcomes = await engine.runBatch(items, handler, { stopOnFirstFailure: true });
    expect(outcomes[0]).toEqual({ id: 'm1', status: 'failed', error: expect.any(IdempotencyKeyConflictError) });
    expect(skipped(outcomes[1]).failedItemId).toBe('m1');
    expect(ran).toEqual([]);
    expect(await store.get(engine.keyFor({ id: 'n' }))).toBeUndefined();
  });
});

describe('the claims of a batch', () => {
  it('each item is claimed with its ownerOf owner, else the batch owner, and with the batch lease', async () => {
    const { store, engine, handler } = setup();
    const claimMany = vi.spyOn(store, 'claimMany');
    const outcomes = await engine.runBatch(
      [
        { id: 'm1', event: { id: 'a' } },
        { id: 'm2', event: { id: 'b' } },
      ],
      handler,
      { owner: 'req-1', ownerOf: (id, index) => (index === 0 ? `req-1/${id}` : undefined), leaseMs: 5_000 },
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['processed', 'processed']);
    expect(claimMany).toHaveBeenCalledTimes(1);
    expect(claimMany.mock.calls[0]![0]).toEqual([
      expect.objectContaining({ key: engine.keyFor({ id: 'a' }), owner: 'req-1/m1', leaseMs: 5_000 }),
      expect.objectContaining({ key: engine.keyFor({ id: 'b' }), owner: 'req-1', leaseMs: 5_000 }),
    ]);
  });
});

describe("a late item's lease, confirmed before it runs", () => {
  function leased(options: Partial<EngineOptions<Ev, string>> = {}) {
    const context = setup({ leaseMs: 1_000, ...options });
    const extendLease = vi.spyOn(context.store, 'extendLease');
    return { ...context, extendLease };
  }
  const two = (first: Ev, second: Ev) => [
    { id: 'm1', event: first },
    { id: 'm2', event: second },
  ];

  it('a claim with more than half its lease left runs without an extra round trip', async () => {
    const { clock, engine, extendLease } = leased();
    const outcomes = await engine.runBatch(two({ id: 'a' }, { id: 'b' }), async (event) => {
      if (event.id === 'a') clock.advance(499);
      return event.id;
    });
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['processed', 'processed']);
    expect(extendLease).not.toHaveBeenCalled();
  });

  it('a claim with half its lease left is extended first, and its handler sees the new lease', async () => {
    const { clock, store, engine, extendLease } = leased();
    const seen: Array<{ leaseExpiresAt: number; leaseExtendedAt: number | undefined }> = [];
    const outcomes = await engine.runBatch(two({ id: 'a' }, { id: 'b' }), async (event, claim) => {
      if (event.id === 'a') clock.advance(500);
      else seen.push({ leaseExpiresAt: claim!.leaseExpiresAt, leaseExtendedAt: claim!.leaseExtendedAt });
      return event.id;
    });
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['processed', 'processed']);
    const key = engine.keyFor({ id: 'b' });
    // Exactly these fields: no `also: undefined` for a store that serializes what it is sent.
    expect(extendLease.mock.calls).toStrictEqual([[{ key, fencingToken: (await store.get(key))!.fencingToken, leaseMs: 1_000 }]]);
    expect(seen).toEqual([{ leaseExpiresAt: T0 + 1_500, leaseExtendedAt: T0 + 500 }]);
  });

  it('an anyOf claim is extended for every identity', async () => {
    const { clock, store, engine, extendLease } = leased({ strategy: bothIds });
    const late = { id: 'b', source: 'sb' };
    const [primary, other] = engine.identitiesFor(late);
    let otherLeaseExpiresAt: number | undefined;
    const outcomes = await engine.runBatch(two({ id: 'a', source: 'sa' }, late), async (event) => {
      if (event.id === 'a') clock.advance(700);
      else otherLeaseExpiresAt = (await store.get(other!))?.leaseExpiresAt;
      return event.id;
    });
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['processed', 'processed']);
    expect(extendLease).toHaveBeenCalledTimes(1);
    expect(extendLease.mock.calls[0]![0]).toEqual({
      key: primary,
      fencingToken: expect.any(Number),
      leaseMs: 1_000,
      also: [{ key: other, fencingToken: expect.any(Number) }],
    });
    expect(otherLeaseExpiresAt).toBe(T0 + 1_700);
  });

  it('a claim that lapsed before its turn: a warning with the store error, and lease_lost reported for the item', async () => {
    const { logger, lines } = recordingLogger();
    const reported: IdempotencyOutcome[] = [];
    const { clock, engine } = leased({ logger, onOutcome: (outcome) => void reported.push(outcome) });
    const outcomes = await engine.runBatch(two({ id: 'slow' }, { id: 'late' }), async (event) => {
      if (event.id === 'slow') clock.advance(1_500);
      return event.id;
    });
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['processed', 'failed']);
    expect(lines.filter((line) => line.message.includes('lapsed before its turn'))).toEqual([
      {
        level: 'warn',
        message: 'idempotency: a batch item’s claim lapsed before its turn; not running it',
        fields: {
          key: expect.stringMatching(/^#[A-Za-z0-9_-]{16}$/),
          strategy: 'eventId',
          error: expect.stringMatching(/^LeaseLostError: \[idemkit\] fencing token \d+ for key \S+ is no longer current/),
        },
      },
    ]);
    expect(reported.filter((outcome) => outcome.kind === 'lease_lost')).toEqual([{ kind: 'lease_lost', strategy: 'eventId', key: engine.keyFor({ id: 'late' }) }]);
  });
});

describe("completion: 'batch'", () => {
  it('a batch with nothing to complete sends no completeMany', async () => {
    const { store, engine, handler } = setup();
    await engine.run({ id: 'old' }, handler);
    const completeMany = vi.spyOn(store, 'completeMany');
    const outcomes = await engine.runBatch(
      [
        { id: 'm1', event: { id: 'old' } },
        { id: 'm2', readError: new SyntaxError('bad JSON') },
        { id: 'm3', event: { id: 'x', fail: true } },
      ],
      handler,
      { completion: 'batch' },
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['duplicate', 'failed', 'failed']);
    expect(completeMany).not.toHaveBeenCalled();
  });

  it('completes every identity of an anyOf claim in the one completeMany', async () => {
    const { store, engine, handler } = setup({ strategy: bothIds });
    const completeMany = vi.spyOn(store, 'completeMany');
    const event = { id: 'a', source: 'sa' };
    const [primary, other] = engine.identitiesFor(event);
    const outcomes = await engine.runBatch([{ id: 'm1', event }], handler, { completion: 'batch' });
    expect(outcomes).toEqual([{ id: 'm1', status: 'processed', result: 'done a' }]);
    expect(completeMany.mock.calls[0]![0]).toEqual([expect.objectContaining({ key: primary, also: [{ key: other, fencingToken: expect.any(Number) }] })]);
    expect(await store.get(primary!)).toMatchObject({ status: 'completed' });
    expect(await store.get(other!)).toMatchObject({ status: 'completed', result: '"done a"' });
  });

  it('sends a single-identity completion without an also field', async () => {
    const { store, engine, handler } = setup();
    const completeMany = vi.spyOn(store, 'completeMany');
    await engine.runBatch([{ id: 'm1', event: { id: 'a' } }], handler, { completion: 'batch' });
    const key = engine.keyFor({ id: 'a' });
    expect(completeMany.mock.calls).toStrictEqual([
      [[{ key, fencingToken: (await store.get(key))!.fencingToken, result: '"done a"', retentionMs: 3_600_000 }]],
    ]);
  });

  it('an item completeMany gave no answer for is completed on its own', async () => {
    const { store, engine, handler } = setup();
    store.completeMany = async () => [];
    const complete = vi.spyOn(store, 'complete');
    const outcomes = await engine.runBatch(
      [
        { id: 'm1', event: { id: 'a' } },
        { id: 'm2', event: { id: 'b' } },
      ],
      handler,
      { completion: 'batch' },
    );
    expect(outcomes).toEqual([
      { id: 'm1', status: 'processed', result: 'done a' },
      { id: 'm2', status: 'processed', result: 'done b' },
    ]);
    expect(complete).toHaveBeenCalledTimes(2);
    for (const id of ['a', 'b']) expect(await store.get(engine.keyFor({ id }))).toMatchObject({ status: 'completed' });
  });
});

describe('repeats and in-flight waits (inProgress.wait)', () => {
  const waitOptions = { inProgress: { wait: { maxMs: 10_000, pollMs: 100 } } };

  it('a repeat of a failed item takes its fate at once: no wait, no second run', async () => {
    const slept: number[] = [];
    const sleep: Sleep = async (ms) => void slept.push(ms);
    const { engine, ran, handler } = setup({ ...waitOptions, sleep });
    const outcomes = await engine.runBatch(
      [
        { id: 'm1', event: { id: 'x', fail: true } },
        { id: 'm2', event: { id: 'x', fail: true } },
      ],
      handler,
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['failed', 'failed']);
    expect(outcomes[1]!.status === 'failed' && outcomes[1]!.error).toBe(outcomes[0]!.status === 'failed' && outcomes[0]!.error);
    expect(ran).toEqual(['x']);
    expect(slept).toEqual([]);
  });

  it('an item waiting on a claim held elsewhere runs itself once that claim is released', async () => {
    const clock = manualClock(T0);
    const store = new MemoryStore({ clock: clock.now });
    const key = 'idemkit:eventId:w';
    const elsewhere = await store.claim({ key, leaseMs: 60_000, retentionMs: 60_000 });
    const slept: number[] = [];
    const sleep: Sleep = async (ms) => {
      slept.push(ms);
      if (elsewhere.acquired) await store.release(key, elsewhere.fencingToken);
    };
    const engine = new IdempotencyEngine<Ev, string>({ store, strategy: byId, clock: clock.now, sleep, ...waitOptions });
    const outcomes = await engine.runBatch([{ id: 'm1', event: { id: 'w' } }], async (event) => `ran ${event.id}`);
    expect(outcomes).toEqual([{ id: 'm1', status: 'processed', result: 'ran w' }]);
    expect(slept).toEqual([100]);
    expect(await store.get(key)).toMatchObject({ status: 'completed', result: '"ran w"' });
  });
});

describe('heartbeats of a batch', () => {
  it('no heartbeat outlives its batch, even when the batch ends in an error', async () => {
    const clock = manualClock(T0);
    const timers = lockstepTimers(clock);
    const store = new MemoryStore({ clock: clock.now });
    // A duplicateResponse that throws for a repeat inside the batch: today that error escapes runBatch
    // before the last item's turn, while that item's claim is held with its heartbeat running.
    const engine = new IdempotencyEngine<Ev, string>({
      store,
      strategy: byId,
      clock: clock.now,
      sleep: timers.sleep,
      heartbeat: true,
      leaseMs: 30_000,
      duplicateResponse: () => {
        throw new Error('no duplicate answer');
      },
    });
    const batch = engine.runBatch(
      [
        { id: 'm1', event: { id: 'a' } },
        { id: 'm2', event: { id: 'a' } },
        { id: 'm3', event: { id: 'b' } },
      ],
      async (event) => event.id,
    );
    await batch.catch(() => undefined);
    expect(timers.pending).toBe(0);
  });
});
