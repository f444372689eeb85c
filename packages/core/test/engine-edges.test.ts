import { describe, expect, it, vi } from 'vitest';
import {
  anyOf,
  custom,
  eventId,
  IdempotencyEngine,
  IdempotencyResultTooLargeError,
  IdempotencyStoreError,
  idempotent,
  KeyExtractionError,
  LeaseLostError,
  MemoryStore,
  silentLogger,
  stateWindow,
  type ActiveClaim,
  type ClaimRequest,
  type CompleteRequest,
  type DuplicateInfo,
  type FirstRunInfo,
  type IdempotencyOutcome,
  type IdempotencyStore,
} from '../src/index.js';
import { CompletionRecorder } from '../src/engine/completion.js';
import { EngineReporter } from '../src/engine/reporter.js';
import { manualClock } from '../src/testing/index.js';
import { configErrorOf } from './support/config-error.js';
import { recordingLogger } from './support/recording-logger.js';
import { counting } from './support/stores.js';

// Edges of the single-run engine: the exact shape of what it sends to the store and hands to
// handlers and hooks (no undefined-valued fields), the configuration errors' wording, completion
// when a store refuses in unusual ways (one anyOf identity taken over, a claim gone, a refusal
// naming another key), results without JSON text, the ordering guard's failOpen inside the
// engine, and how the in-process cache of completed keys ages, evicts and fills.

const T0 = 1_709_806_530_000;
const byId = { strategy: 'eventId' } as const;
const KEY = (id: string) => `idemkit:eventId:${id}`;
const rejectionOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);


/** A MemoryStore whose `complete` calls are recorded; `refuse` may fail one (the call then changes nothing). */
function refusingCompletions(refuse: (request: CompleteRequest, call: number) => Error | undefined, store = new MemoryStore()) {
  const complete = store.complete.bind(store);
  const calls: CompleteRequest[] = [];
  store.complete = async (request) => {
    calls.push(request);
    const refusal = refuse(request, calls.length);
    if (refusal !== undefined) throw refusal;
    return complete(request);
  };
  return { store, calls };
}

interface Order {
  id: string;
  orderId: string;
  paymentId: string;
}
const order = (id: string, orderId = 'o-1', paymentId = 'p-1'): Order => ({ id, orderId, paymentId });
/** Three identities per event, none windowed: the envelope id, the order and the payment. */
const byIdOrderOrPayment = () =>
  anyOf<Order>([eventId(), custom((event: Order) => event.orderId, 'order'), custom((event: Order) => event.paymentId, 'payment')]);

/** A MemoryStore that keeps every claim request it is sent. */
function recordingClaims() {
  const store = new MemoryStore();
  const requests: ClaimRequest[] = [];
  const claim = store.claim.bind(store);
  store.claim = async (request) => {
    requests.push(request);
    return claim(request);
  };
  return { store, requests };
}

describe('what the engine sends the store and hands the handler carries no undefined fields', () => {
  it('a plain claim request holds only key, lease and retention', async () => {
    const { store, requests } = recordingClaims();
    await new IdempotencyEngine({ store, strategy: byId }).run({ id: 'plain' }, async () => 'ok');
    expect(requests).toStrictEqual([{ key: KEY('plain'), leaseMs: 60_000, retentionMs: 3_600_000 }]);
  });

  it('a claim request carries owner, fingerprint and the other identities (each only its key) when there are some', async () => {
    const { store, requests } = recordingClaims();
    const engine = new IdempotencyEngine<Order, string>({ store, strategy: byIdOrderOrPayment(), payloadMismatch: 'error' });
    await engine.run(order('full'), async () => 'ok', { owner: 'request-1' });
    const [, orderKey, paymentKey] = engine.identitiesFor(order('full'));
    expect(requests).toStrictEqual([
      {
        key: KEY('full'),
        leaseMs: 60_000,
        retentionMs: 3_600_000,
        also: [{ key: orderKey }, { key: paymentKey }],
        fingerprint: expect.any(String),
        owner: 'request-1',
      },
    ]);
  });

  it('the handler’s claim of a single identity has no `also`, even when the store answers an empty list', async () => {
    const store = new MemoryStore();
    const claim = store.claim.bind(store);
    let answerEmptyAlso = false;
    store.claim = async (request) => {
      const outcome = await claim(request);
      return answerEmptyAlso && outcome.acquired ? { ...outcome, also: [] } : outcome;
    };
    const engine = new IdempotencyEngine({ store, strategy: byId });
    const seen: Array<ActiveClaim | undefined> = [];
    await engine.run({ id: 'one' }, async (_event, active) => void seen.push(active));
    answerEmptyAlso = true;
    await engine.run({ id: 'two' }, async (_event, active) => void seen.push(active));
    expect(seen).toStrictEqual([
      { key: KEY('one'), fencingToken: expect.any(Number), leaseExpiresAt: expect.any(Number) },
      { key: KEY('two'), fencingToken: expect.any(Number), leaseExpiresAt: expect.any(Number) },
    ]);
  });

  it('onFirstRun of a single-identity event has no `also`', async () => {
    const runs: FirstRunInfo<{ id: string }>[] = [];
    const engine = new IdempotencyEngine<{ id: string }, string>({ store: new MemoryStore(), strategy: byId, onFirstRun: (run) => void runs.push(run) });
    await engine.run({ id: 'first' }, async () => 'ok');
    expect(runs).toStrictEqual([{ kind: 'executed', key: KEY('first'), fencingToken: expect.any(Number), strategy: 'eventId', event: { id: 'first' } }]);
  });

  it('onOutcome gets no key for an unreadable event, and no fencing token for a duplicate', async () => {
    const outcomes: IdempotencyOutcome[] = [];
    const engine = new IdempotencyEngine({
      store: new MemoryStore(),
      strategy: { strategy: 'eventId', path: 'detail.id' },
      onOutcome: (outcome) => void outcomes.push(outcome),
    });
    expect(await rejectionOf(engine.run({ id: 'no detail' }, async () => 1))).toBeInstanceOf(KeyExtractionError);
    await engine.run({ detail: { id: 'd' } }, async () => 1);
    await engine.run({ detail: { id: 'd' } }, async () => 1);
    expect(outcomes[0]).toStrictEqual({ kind: 'invalid_key', strategy: 'eventId' });
    expect(outcomes[2]).toStrictEqual({ kind: 'duplicate', key: KEY('d'), strategy: 'eventId' });
  });

  it('an outcome reported with a fencing token carries it', () => {
    const outcomes: IdempotencyOutcome[] = [];
    const reporter = new EngineReporter(silentLogger, 'eventId', 'raw', { onOutcome: (outcome) => void outcomes.push(outcome) });
    reporter.outcome('processed', 'k', 7);
    expect(outcomes).toStrictEqual([{ kind: 'processed', strategy: 'eventId', key: 'k', fencingToken: 7 }]);
  });

  it('idempotent() exposes its engine', () => {
    const once = idempotent(async (_event: { id: string }) => 'ok', { store: new MemoryStore(), strategy: byId, namespace: 'orders' });
    expect(once.engine.keyFor({ id: 'x' })).toBe('orders:eventId:x');
  });
});

describe('hooks a user did not set, or that return nothing, log no hook error', () => {
  it('a synchronous onOutcome and no onDuplicate: a run and its duplicate log no error line', async () => {
    const { logger, lines } = recordingLogger();
    const kinds: string[] = [];
    const engine = new IdempotencyEngine({ store: new MemoryStore(), strategy: byId, logger, onOutcome: (outcome) => void kinds.push(outcome.kind) });
    await engine.run({ id: 'h' }, async () => 1);
    await engine.run({ id: 'h' }, async () => 1);
    expect(kinds).toEqual(['processed', 'duplicate']);
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
  });
});

describe('configuration errors name the field and say what is allowed', () => {
  it('no store at all', () => {
    const error = configErrorOf(() => new IdempotencyEngine({ strategy: byId } as never));
    expect(error.field).toBe('store');
    expect(error.message).toBe('[idemkit] invalid config at "store": must be an IdempotencyStore (MemoryStore, RedisStore, …)');
  });

  it('a namespace outside the pattern', () => {
    const error = configErrorOf(() => new IdempotencyEngine({ store: new MemoryStore(), strategy: byId, namespace: 'has space' }));
    expect(error.message).toBe('[idemkit] invalid config at "namespace": must match /^[A-Za-z0-9_.\\-/]{1,64}$/ (got "has space")');
  });

  it('an enumerated option lists its values', () => {
    const logKeys = configErrorOf(() => new IdempotencyEngine({ store: new MemoryStore(), strategy: byId, logKeys: 'plain' as never }));
    expect(logKeys.field).toBe('logKeys');
    expect(logKeys.message).toBe('[idemkit] invalid config at "logKeys": must be one of hash, raw (got "plain")');
    const mismatch = configErrorOf(() => new IdempotencyEngine({ store: new MemoryStore(), strategy: byId, payloadMismatch: 'explode' as never }));
    expect(mismatch.message).toBe('[idemkit] invalid config at "payloadMismatch": must be one of error, warn, ignore (got "explode")');
  });

  it('a cache size that is not a positive integer', () => {
    const error = configErrorOf(() => new IdempotencyEngine({ store: new MemoryStore(), strategy: byId, localCache: { maxEntries: 0 } }));
    expect(error.message).toBe('[idemkit] invalid config at "localCache.maxEntries": must be a positive integer number of entries, got 0');
  });
});

describe('payload fingerprints', () => {
  it('a fingerprint function’s value is what the store keeps', async () => {
    const store = new MemoryStore();
    const engine = new IdempotencyEngine<{ id: string; amount: number }, string>({
      store,
      strategy: byId,
      payloadMismatch: 'error',
      fingerprint: (event) => `amount-${event.amount}`,
    });
    await engine.run({ id: 'fp', amount: 5 }, async () => 'ok');
    expect((await store.get(KEY('fp')))?.fingerprint).toBe('amount-5');
  });

  it('an engine that ignores mismatches says nothing about a record another engine fingerprinted', async () => {
    const store = new MemoryStore();
    await new IdempotencyEngine({ store, strategy: byId, payloadMismatch: 'error' }).run({ id: 'mixed', amount: 1 }, async () => 'first');
    const { logger, lines } = recordingLogger();
    const lenient = new IdempotencyEngine({ store, strategy: byId, logger });
    expect(await lenient.run({ id: 'mixed', amount: 2 }, async () => 'second')).toBe('first');
    expect(lines.filter((line) => line.level === 'warn')).toEqual([]);
  });
});

describe('results without JSON text', () => {
  it('a result JSON renders as nothing (a function) completes the claim without a result and is returned', async () => {
    const store = new MemoryStore();
    const engine = new IdempotencyEngine<{ id: string }, () => string>({ store, strategy: byId });
    const callback = () => 'not data';
    expect(await engine.run({ id: 'fn' }, async () => callback)).toBe(callback);
    const record = await store.get(KEY('fn'));
    expect(record?.status).toBe('completed');
    expect(record).not.toHaveProperty('result');
  });

  it('a stored result read back as an empty string answers the duplicate with undefined', async () => {
    const store = new MemoryStore();
    const claim = store.claim.bind(store);
    // A store whose column reads an absent result back as ''.
    store.claim = async (request) => {
      const outcome = await claim(request);
      return outcome.acquired || outcome.record.result !== undefined ? outcome : { ...outcome, record: { ...outcome.record, result: '' } };
    };
    const engine = new IdempotencyEngine({ store, strategy: byId });
    await engine.run({ id: 'empty' }, async () => undefined);
    expect(await engine.run({ id: 'empty' }, async () => 'again')).toBeUndefined();
  });
});

describe('completion when the store refuses unusually', () => {
  const recorderOn = (store: IdempotencyStore, onOutcome: (outcome: IdempotencyOutcome) => void) =>
    new CompletionRecorder({
      store,
      retentionMs: 60_000,
      oversize: 'error',
      reporter: new EngineReporter(silentLogger, 'eventId', 'raw', { onOutcome }),
    });

  it('a recorder told nothing else completes the claim and reports it processed', async () => {
    const store = new MemoryStore();
    const claimed = await store.claim({ key: KEY('unit'), leaseMs: 60_000, retentionMs: 60_000 });
    if (!claimed.acquired) throw new Error('expected a fresh claim');
    const outcomes: IdempotencyOutcome[] = [];
    await recorderOn(store, (outcome) => void outcomes.push(outcome)).finish(
      { key: KEY('unit'), fencingToken: claimed.fencingToken, leaseExpiresAt: claimed.record.leaseExpiresAt },
      { text: '"done"' },
    );
    expect(await store.get(KEY('unit'))).toMatchObject({ status: 'completed', result: '"done"' });
    expect(outcomes.map((outcome) => [outcome.kind, outcome.key])).toEqual([['processed', KEY('unit')]]);
  });

  it('a size refusal of a completion that carries no result is not retried as oversize: one call, the result returned, an error logged', async () => {
    const { store, calls } = refusingCompletions((request) => new IdempotencyResultTooLargeError(request.key, 500, 400));
    const { logger, lines } = recordingLogger();
    const engine = new IdempotencyEngine({ store, strategy: byId, logger });
    expect(await engine.run({ id: 'no-room' }, async () => undefined)).toBeUndefined();
    expect(calls).toHaveLength(1);
    expect(lines.filter((line) => line.level === 'error').map((line) => line.message)).toEqual([
      'idempotency: could not record completion; a redelivery after the lease may run again',
    ]);
  });

  it('one of three anyOf identities taken over: a warning, and the other two are completed', async () => {
    const clock = manualClock(T0);
    const store = new MemoryStore({ clock: clock.now });
    const { logger, lines } = recordingLogger();
    const engine = new IdempotencyEngine<Order, string>({ store, strategy: byIdOrderOrPayment(), leaseMs: 1_000, logger, logKeys: 'raw' });
    const [primaryKey, orderKey, paymentKey] = engine.identitiesFor(order('slow'));
    const result = await engine.run(order('slow'), async () => {
      // The lease lapses and another delivery takes the order identity over.
      clock.advance(1_000);
      expect((await store.claim({ key: orderKey!, leaseMs: 60_000, retentionMs: 60_000 })).acquired).toBe(true);
      return 'slow';
    });
    expect(result).toBe('slow');
    expect((await store.get(primaryKey!))?.status).toBe('completed');
    expect((await store.get(paymentKey!))?.status).toBe('completed');
    expect((await store.get(orderKey!))?.status).toBe('in_progress');
    expect(lines.filter((line) => line.level === 'warn')).toEqual([
      {
        level: 'warn',
        message: 'idempotency: one identity of the claim was taken over; completing the others',
        fields: { key: primaryKey, strategy: 'anyOf' },
      },
    ]);
  });

  it('a completion whose claim is gone altogether (released under the handler) fails with LeaseLostError', async () => {
    const store = new MemoryStore();
    const kinds: string[] = [];
    const engine = new IdempotencyEngine({ store, strategy: byId, onOutcome: (outcome) => void kinds.push(outcome.kind) });
    const error = await rejectionOf(
      engine.run({ id: 'gone' }, async (_event, active) => {
        // An operator clears the key while the handler runs.
        await store.release(active!.key, active!.fencingToken);
        return 'late';
      }),
    );
    expect(error).toBeInstanceOf(LeaseLostError);
    expect((error as LeaseLostError).current).toBeUndefined();
    expect(kinds).toEqual(['lease_lost']);
  });

  it.each([
    ['a single identity', byId, { id: 'stray' }],
    ['anyOf identities', byIdOrderOrPayment(), order('stray')],
  ] as const)('a LeaseLostError naming a key the claim does not hold (%s) fails the call as lease lost', async (_label, strategy, event) => {
    const { store, calls } = refusingCompletions((_request, call) => (call === 1 ? new LeaseLostError('idemkit:eventId:someone-else', 1) : undefined));
    const kinds: string[] = [];
    const engine = new IdempotencyEngine<object, string>({ store, strategy: strategy as never, onOutcome: (outcome) => void kinds.push(outcome.kind) });
    expect(await rejectionOf(engine.run(event, async () => 'done'))).toBeInstanceOf(LeaseLostError);
    expect(calls).toHaveLength(1);
    expect(kinds).toEqual(['lease_lost']);
  });

  it('a retryable fault that names one anyOf identity is retried for every identity, none dropped', async () => {
    const engineKeys = new IdempotencyEngine<Order, string>({ store: new MemoryStore(), strategy: byIdOrderOrPayment() }).identitiesFor(order('flaky'));
    const orderKey = engineKeys[1]!;
    const { store, calls } = refusingCompletions((_request, call) =>
      call === 1 ? Object.assign(new Error('ECONNRESET'), { key: orderKey }) : undefined,
    );
    const { logger, lines } = recordingLogger();
    const engine = new IdempotencyEngine<Order, string>({ store, strategy: byIdOrderOrPayment(), logger });
    expect(await engine.run(order('flaky'), async () => 'done')).toBe('done');
    expect(calls.map((call) => call.also?.length)).toEqual([2, 2]);
    for (const key of engineKeys) expect((await store.get(key))?.status).toBe('completed');
    expect(lines.some((line) => line.message.includes('taken over'))).toBe(false);
  });
});

describe('failOpen reaches the ordering guard inside the engine', () => {
  interface StateEvent {
    id: string;
    detail: { conversationId: string; eventTime: string };
  }
  const at = (second: number) => new Date(Date.UTC(2026, 2, 7, 10, 0, second)).toISOString();
  const stateEvent = (id: string, second: number): StateEvent => ({ id, detail: { conversationId: 'c-1', eventTime: at(second) } });
  const ordering = { entity: 'detail.conversationId', version: ['detail.eventTime', 'id'] } as const;
  const versionsDown = () => {
    const store = new MemoryStore();
    store.claimVersion = async () => Promise.reject(new Error('ETIMEDOUT'));
    return store;
  };

  it('with failOpen, a version store outage runs the handler under its dedup claim (fail_open)', async () => {
    const store = versionsDown();
    const kinds: string[] = [];
    const fn = vi.fn(async (event: StateEvent) => event.id);
    const engine = new IdempotencyEngine<StateEvent, string>({ store, strategy: byId, ordering, failOpen: true, onOutcome: (o) => void kinds.push(o.kind) });
    expect(await engine.run(stateEvent('e-1', 1), fn)).toBe('e-1');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(kinds).toEqual(['fail_open']);
    expect((await store.get(KEY('e-1')))?.status).toBe('completed');
  });

  it('without failOpen, a version store outage fails the call and releases the dedup claim', async () => {
    const store = versionsDown();
    const fn = vi.fn(async (event: StateEvent) => event.id);
    const engine = new IdempotencyEngine<StateEvent, string>({ store, strategy: byId, ordering });
    const error = await rejectionOf(engine.run(stateEvent('e-1', 1), fn));
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect((error as Error).message).toContain('claimVersion failed');
    expect(fn).not.toHaveBeenCalled();
    expect(await store.get(KEY('e-1'))).toBeUndefined();
  });

  it('with failOpen, a dedup store outage still lets the guard judge the version: a newer one runs without a dedup claim', async () => {
    const store = new MemoryStore();
    store.claim = async () => Promise.reject(new Error('ECONNREFUSED'));
    const seen: Array<ActiveClaim | undefined> = [];
    const engine = new IdempotencyEngine<StateEvent, string>({ store, strategy: byId, ordering, failOpen: true });
    expect(await engine.run(stateEvent('e-1', 1), async (event, active) => (seen.push(active), event.id))).toBe('e-1');
    expect(seen).toEqual([undefined]);
    // The version was recorded: an older event after it is stale and does not run.
    const older = vi.fn(async (event: StateEvent) => event.id);
    expect(await engine.run(stateEvent('e-0', 0), older)).toBeUndefined();
    expect(older).not.toHaveBeenCalled();
  });

  it('with failOpen, a dedup store outage and a stale version: skipped, the handler never runs', async () => {
    const store = new MemoryStore();
    await new IdempotencyEngine<StateEvent, string>({ store, strategy: byId, ordering }).run(stateEvent('e-2', 2), async (event) => event.id);
    store.claim = async () => Promise.reject(new Error('ECONNREFUSED'));
    const fn = vi.fn(async (event: StateEvent) => event.id);
    const kinds: string[] = [];
    const engine = new IdempotencyEngine<StateEvent, string>({ store, strategy: byId, ordering, failOpen: true, onOutcome: (o) => void kinds.push(o.kind) });
    expect(await engine.run(stateEvent('e-1', 1), fn)).toBeUndefined();
    expect(fn).not.toHaveBeenCalled();
    expect(kinds).toEqual(['fail_open']);
  });
});

describe('the in-process cache of completed keys', () => {
  it('is off with localCache: false: every repeat asks the store', async () => {
    const { store, calls } = counting(new MemoryStore());
    const engine = new IdempotencyEngine({ store, strategy: byId, localCache: false });
    await engine.run({ id: 'off' }, async () => 'r');
    const before = calls();
    expect(await engine.run({ id: 'off' }, async () => 'x')).toBe('r');
    expect(calls()).toBeGreaterThan(before);
  });

  it('answers a re-send under another anyOf identity with zero store calls', async () => {
    const { store, calls } = counting(new MemoryStore());
    const engine = new IdempotencyEngine<Order, string>({ store, strategy: byIdOrderOrPayment(), localCache: true });
    expect(await engine.run(order('e-1'), async () => 'first')).toBe('first');
    const before = calls();
    expect(await engine.run(order('e-2', 'o-1', 'p-other'), async () => 'second')).toBe('first');
    expect(calls()).toBe(before);
  });

  it('keeps the fingerprint, so a cached repeat with another payload is still a conflict', async () => {
    const { store, calls } = counting(new MemoryStore());
    const engine = new IdempotencyEngine({ store, strategy: byId, payloadMismatch: 'error', localCache: true });
    await engine.run({ id: 'pay', amount: 1 }, async () => 'charged');
    const before = calls();
    expect(await rejectionOf(engine.run({ id: 'pay', amount: 2 }, async () => 'again'))).toMatchObject({ name: 'IdempotencyKeyConflictError' });
    expect(calls()).toBe(before);
  });

  it('a cached duplicate’s record, like the store’s, has no result or fingerprint field when there is none', async () => {
    const { store, calls } = counting(new MemoryStore());
    const duplicates: DuplicateInfo<{ id: string }>[] = [];
    const engine = new IdempotencyEngine<{ id: string }, undefined>({
      store,
      strategy: byId,
      localCache: true,
      onDuplicate: (info) => void duplicates.push(info),
    });
    await engine.run({ id: 'bare' }, async () => undefined);
    const before = calls();
    await engine.run({ id: 'bare' }, async () => undefined);
    expect(calls()).toBe(before);
    expect(duplicates).toHaveLength(1);
    expect('result' in duplicates[0]!.record).toBe(false);
    expect('fingerprint' in duplicates[0]!.record).toBe(false);
  });

  it('a hit makes its key the most recently used: the least recently used other key is evicted instead', async () => {
    const { store, calls } = counting(new MemoryStore());
    const engine = new IdempotencyEngine({ store, strategy: byId, localCache: { maxEntries: 2 } });
    await engine.run({ id: 'a' }, async () => 'a');
    await engine.run({ id: 'b' }, async () => 'b');
    await engine.run({ id: 'a' }, async () => 'x');
    await engine.run({ id: 'c' }, async () => 'c');
    let before = calls();
    expect(await engine.run({ id: 'a' }, async () => 'x')).toBe('a');
    expect(calls()).toBe(before);
    before = calls();
    expect(await engine.run({ id: 'b' }, async () => 'x')).toBe('b');
    expect(calls()).toBeGreaterThan(before);
  });

  it('a cache of one entry keeps turning over: each new key evicts the previous one', async () => {
    const { store, calls } = counting(new MemoryStore());
    const engine = new IdempotencyEngine({ store, strategy: byId, localCache: { maxEntries: 1 } });
    for (const id of ['a', 'b', 'c']) await engine.run({ id }, async () => id);
    let before = calls();
    expect(await engine.run({ id: 'c' }, async () => 'x')).toBe('c');
    expect(calls()).toBe(before);
    before = calls();
    expect(await engine.run({ id: 'b' }, async () => 'x')).toBe('b');
    expect(calls()).toBeGreaterThan(before);
  });

  const byState = () => stateWindow({ entity: 'c', state: 's', time: 't', windowMs: 500 });

  it('holds distinct occurrences of one windowed key side by side, each answered with zero store calls', async () => {
    const { store, calls } = counting(new MemoryStore());
    const engine = new IdempotencyEngine<{ c: string; s: string; t: number }, number>({ store, strategy: byState(), localCache: true });
    await engine.run({ c: 'conv', s: 'up', t: T0 }, async () => 1);
    await engine.run({ c: 'conv', s: 'up', t: T0 + 60_000 }, async () => 2);
    const before = calls();
    expect(await engine.run({ c: 'conv', s: 'up', t: T0 + 60_000 }, async () => 3)).toBe(2);
    expect(await engine.run({ c: 'conv', s: 'up', t: T0 }, async () => 3)).toBe(1);
    expect(calls()).toBe(before);
  });

  it('drops the expired occurrences a lookup meets, so they never cost a live key its place', async () => {
    const clock = manualClock(T0);
    const { store, calls } = counting(new MemoryStore({ clock: clock.now }));
    const engine = new IdempotencyEngine<{ c: string; s: string; t: number }, string>({
      store,
      strategy: byState(),
      localCache: { maxEntries: 3 },
      retentionMs: 10_000,
      clock: clock.now,
    });
    const run = (c: string, t: number) => engine.run({ c, s: 'up', t }, async () => `${c}@${t - T0}`);
    await run('x', T0);
    clock.advance(6_000);
    await run('x', T0 + 6_000); // a second occurrence of x: the cache holds x twice, then a
    await run('a', T0 + 6_000);
    clock.advance(4_000); // x's first occurrence expires
    expect(await run('x', T0 + 6_000)).toBe('x@6000'); // a hit, which drops the expired one
    await run('b', T0 + 10_000); // three live occurrences: all fit
    const before = calls();
    expect(await run('a', T0 + 6_000)).toBe('a@6000');
    expect(calls()).toBe(before);
  });

  it('never remembers a record the store answered that is already past its retention by this clock', async () => {
    // The store's clock runs exactly one retention behind the engine's.
    const storeClock = manualClock(T0);
    const shared = new MemoryStore({ clock: storeClock.now });
    await new IdempotencyEngine({ store: shared, strategy: byId, retentionMs: 5_000 }).run({ id: 'old' }, async () => 'old');
    const engineClock = manualClock(T0 + 5_000);
    const { store, calls } = counting(shared);
    const engine = new IdempotencyEngine({ store, strategy: byId, retentionMs: 5_000, clock: engineClock.now, localCache: { maxEntries: 1 } });
    await engine.run({ id: 'live' }, async () => 'live');
    expect(await engine.run({ id: 'old' }, async () => 'again')).toBe('old');
    expect((await shared.get(KEY('old')))?.expiresAt).toBe(engineClock.now());
    const before = calls();
    expect(await engine.run({ id: 'live' }, async () => 'again')).toBe('live');
    expect(calls()).toBe(before);
  });
});
