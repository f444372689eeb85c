import { describe, expect, it, vi } from 'vitest';
import {
  BatchItemSkippedError,
  ConfigError,
  currentClaim,
  IdempotencyEngine,
  IdempotencyInProgressError,
  IdempotencyKeyConflictError,
  IdempotencyResultTooLargeError,
  IdempotencyStoreError,
  KeyExtractionError,
  LeaseLostError,
  MemoryStore,
  idempotent,
  type IdempotencyLogger,
  type IdempotencyOutcome,
} from '../src/index.js';
import { createBarrier, manualClock } from '../src/testing/index.js';
import { failing, gate } from './support/stores.js';

const byId = { strategy: 'eventId' } as const;
const event = (id: string, detail: Record<string, unknown> = {}) => ({ id, source: 'test', detail });

function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> | undefined }> = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => lines.push({ level, message, fields });
  const logger: IdempotencyLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describe('idempotent: new keys and completed duplicates', () => {
  it('runs fn once and returns the stored result to a duplicate without calling fn', async (_event?: unknown) => {
    const fn = vi.fn(async (e: { id: string }) => ({ charged: e.id, nested: { list: [1, 'two'] } }));
    const onDuplicate = vi.fn();
    const outcomes: IdempotencyOutcome[] = [];
    const once = idempotent(fn, { store: new MemoryStore(), strategy: byId, onDuplicate, onOutcome: (o) => outcomes.push(o) });

    const first = await once(event('e-1'));
    const second = await once(event('e-1'));

    expect(fn).toHaveBeenCalledTimes(1);
    expect(second).toEqual(first);
    expect(second).toEqual({ charged: 'e-1', nested: { list: [1, 'two'] } });
    expect(onDuplicate).toHaveBeenCalledTimes(1);
    expect(onDuplicate.mock.calls[0]![0]).toMatchObject({ key: 'idemkit:eventId:e-1', strategy: 'eventId' });
    expect(outcomes.map((o) => o.kind)).toEqual(['processed', 'duplicate']);
  });

  it('keeps different keys apart and namespaces them', async (_event?: unknown) => {
    const fn = vi.fn(async (e: { id: string }) => e.id);
    const store = new MemoryStore();
    const orders = idempotent(fn, { store, strategy: byId, namespace: 'orders' });
    const refunds = idempotent(fn, { store, strategy: byId, namespace: 'refunds' });
    await orders(event('x'));
    await refunds(event('x'));
    await orders(event('y'));
    expect(fn).toHaveBeenCalledTimes(3);
    expect(await store.get('orders:eventId:x')).toBeDefined();
    expect(await store.get('refunds:eventId:x')).toBeDefined();
  });

  it('a handler returning undefined completes, and its duplicate returns undefined', async (_event?: unknown) => {
    const fn = vi.fn(async (_event: unknown) => undefined);
    const once = idempotent(fn, { store: new MemoryStore(), strategy: byId });
    expect(await once(event('u'))).toBeUndefined();
    expect(await once(event('u'))).toBeUndefined();
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('duplicateResponse replaces the stored result', async (_event?: unknown) => {
    const once = idempotent(async (_event?: unknown) => 'original', {
      store: new MemoryStore(),
      strategy: byId,
      duplicateResponse: ({ record }) => `duplicate of token ${record.fencingToken}`,
    });
    await once(event('d'));
    expect(await once(event('d'))).toMatch(/^duplicate of token \d+$/);
  });

  it('storeResult: false keeps no result (PII) and duplicates return undefined', async (_event?: unknown) => {
    const store = new MemoryStore();
    const once = idempotent(async (_event?: unknown) => ({ email: 'a@b.c' }), { store, strategy: byId, storeResult: false });
    expect(await once(event('p'))).toEqual({ email: 'a@b.c' });
    expect((await store.get('idemkit:eventId:p'))?.result).toBeUndefined();
    expect(await once(event('p'))).toBeUndefined();
  });

  it('logs one structured line per duplicate with key, strategy and original time, but no payload', async (_event?: unknown) => {
    const { logger, lines } = recordingLogger();
    const clock = manualClock(Date.UTC(2026, 0, 2, 3, 4, 5));
    const once = idempotent(async (_event?: unknown) => 1, { store: new MemoryStore({ clock: clock.now }), strategy: byId, logger });
    await once(event('log', { secret: 'card-4242' }));
    await once(event('log', { secret: 'card-4242' }));
    const duplicateLines = lines.filter((line) => line.message.includes('duplicate'));
    expect(duplicateLines).toHaveLength(1);
    expect(duplicateLines[0]!.fields).toMatchObject({
      key: expect.stringMatching(/^#[A-Za-z0-9_-]{16}$/),
      strategy: 'eventId',
      originalTime: '2026-01-02T03:04:05.000Z',
    });
    expect(JSON.stringify(lines)).not.toContain('card-4242');
    // Keys are raw field values (emails, phone numbers): logged hashed unless asked.
    expect(JSON.stringify(lines)).not.toContain('eventId:log');
  });

  it('logs the raw key only with logKeys: raw', async () => {
    const { logger, lines } = recordingLogger();
    const once = idempotent(async (_event?: unknown) => 1, { store: new MemoryStore(), strategy: byId, logger, logKeys: 'raw' });
    await once(event('raw-log'));
    await once(event('raw-log'));
    expect(lines.find((line) => line.message.includes('duplicate'))!.fields).toMatchObject({ key: 'idemkit:eventId:raw-log' });
  });
});

describe('idempotent: in progress, failures and leases', () => {
  it('a key in progress elsewhere throws a retryable IdempotencyInProgressError', async (_event?: unknown) => {
    const hold = gate();
    const started = gate();
    const once = idempotent(
      async (_event?: unknown) => {
        started.open();
        await hold.promise;
        return 'done';
      },
      { store: new MemoryStore(), strategy: byId },
    );
    const first = once(event('busy'));
    await started.promise;
    const error = await once(event('busy')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyInProgressError);
    expect((error as IdempotencyInProgressError).retryable).toBe(true);
    expect((error as IdempotencyInProgressError).record.status).toBe('in_progress');
    hold.open();
    expect(await first).toBe('done');
  });

  it('of 50 concurrent deliveries of one event, fn runs exactly once', async (_event?: unknown) => {
    const fn = vi.fn(async (_event: unknown) => 'once');
    const once = idempotent(fn, { store: new MemoryStore(), strategy: byId });
    const barrier = createBarrier(50);
    const settled = await Promise.allSettled(
      Array.from({ length: 50 }, async (_event?: unknown) => {
        await barrier.wait();
        return once(event('hot'));
      }),
    );
    expect(fn).toHaveBeenCalledTimes(1);
    for (const result of settled) {
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(IdempotencyInProgressError);
    }
  });

  it('fn throwing releases the claim and rethrows; the retry runs', async (_event?: unknown) => {
    const store = new MemoryStore();
    const boom = new Error('downstream 503');
    let calls = 0;
    const once = idempotent(
      async (_event?: unknown) => {
        calls += 1;
        if (calls === 1) throw boom;
        return 'second time';
      },
      { store, strategy: byId },
    );
    await expect(once(event('retry'))).rejects.toBe(boom);
    expect(await store.get('idemkit:eventId:retry')).toBeUndefined();
    expect(await once(event('retry'))).toBe('second time');
  });

  it('if the release itself fails, the handler error still wins', async (_event?: unknown) => {
    const boom = new Error('handler');
    const { logger, lines } = recordingLogger();
    const store = failing(new MemoryStore(), { release: new Error('network down') });
    const once = idempotent(async (_event?: unknown) => Promise.reject(boom), { store, strategy: byId, logger });
    await expect(once(event('r'))).rejects.toBe(boom);
    expect(lines.some((line) => line.level === 'warn' && line.message.includes('could not release'))).toBe(true);
  });

  it('fn reads its fencing token through currentClaim, matching the stored record', async (_event?: unknown) => {
    const store = new MemoryStore();
    let seen: number | undefined;
    const once = idempotent(
      async (_event?: unknown) => {
        seen = currentClaim()?.fencingToken;
        return 'ok';
      },
      { store, strategy: byId },
    );
    await once(event('token'));
    expect(seen).toBeGreaterThan(0);
    expect((await store.get('idemkit:eventId:token'))?.fencingToken).toBe(seen);
    expect(currentClaim()).toBeUndefined();
  });

  it('a completion refused because the lease was taken over throws LeaseLostError', async (_event?: unknown) => {
    const clock = manualClock();
    const store = new MemoryStore({ clock: clock.now });
    const engine = new IdempotencyEngine({ store, strategy: byId, leaseMs: 1_000 });
    const error = await engine
      .run(event('slow'), async (_event?: unknown) => {
        clock.advance(1_000);
        const takeover = await store.claim({ key: 'idemkit:eventId:slow', leaseMs: 1_000, retentionMs: 60_000 });
        expect(takeover.acquired).toBe(true);
        return 'late';
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LeaseLostError);
  });

  it('the lease of a call can come from its arguments (the Lambda remaining time)', async (_event?: unknown) => {
    const clock = manualClock();
    const store = new MemoryStore({ clock: clock.now });
    let leaseSeen: number | undefined;
    const once = idempotent(
      async (e: { id: string }, _remaining: number) => {
        leaseSeen = (await store.get(`idemkit:eventId:${e.id}`))!.leaseExpiresAt - clock.now();
      },
      { store, strategy: byId, runOptionsFrom: (_e, remaining: number) => ({ leaseMs: remaining }) },
    );
    await once(event('lease'), 12_345);
    expect(leaseSeen).toBe(12_345);
  });
});

describe('idempotent: payload mismatch', () => {
  const run = async (payloadMismatch: 'error' | 'warn' | 'ignore') => {
    const { logger, lines } = recordingLogger();
    const fn = vi.fn(async (e: { detail: unknown }) => e.detail);
    const once = idempotent(fn, { store: new MemoryStore(), strategy: byId, payloadMismatch, logger });
    await once(event('same-id', { amount: 10 }));
    const second = await once(event('same-id', { amount: 99 })).catch((caught: unknown) => caught);
    return { second, lines, fn };
  };

  it('error: throws IdempotencyKeyConflictError with both fingerprints', async (_event?: unknown) => {
    const { second, fn } = await run('error');
    expect(second).toBeInstanceOf(IdempotencyKeyConflictError);
    const conflict = second as IdempotencyKeyConflictError;
    expect(conflict.storedFingerprint).not.toBe(conflict.fingerprint);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('warn: logs and answers as a duplicate', async (_event?: unknown) => {
    const { second, lines, fn } = await run('warn');
    expect(second).toEqual({ amount: 10 });
    expect(lines.some((line) => line.level === 'warn' && line.message.includes('payload differs'))).toBe(true);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('ignore: answers as a duplicate without a word', async (_event?: unknown) => {
    const { second, lines } = await run('ignore');
    expect(second).toEqual({ amount: 10 });
    expect(lines.filter((line) => line.level === 'warn')).toHaveLength(0);
  });

  it('an identical payload is no conflict, and excluded fields do not count', async (_event?: unknown) => {
    const once = idempotent(async (_event?: unknown) => 'ok', {
      store: new MemoryStore(),
      strategy: byId,
      payloadMismatch: 'error',
      fingerprint: { exclude: ['detail.receivedAt'] },
    });
    await once(event('f', { amount: 1, receivedAt: 1 }));
    expect(await once(event('f', { amount: 1, receivedAt: 2 }))).toBe('ok');
  });
});

describe('idempotent: store failures and oversize results', () => {
  it('fails closed by default: an unreachable store gives IdempotencyStoreError with the cause', async (_event?: unknown) => {
    const cause = new Error('ECONNREFUSED');
    const fn = vi.fn(async (_event: unknown) => 'ran');
    const once = idempotent(fn, { store: failing(new MemoryStore(), { claim: cause }), strategy: byId });
    const error = await once(event('down')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect((error as IdempotencyStoreError).cause).toBe(cause);
    expect((error as IdempotencyStoreError).store).toBe('memory');
    expect(fn).not.toHaveBeenCalled();
  });

  it('failOpen runs fn without a claim and warns', async (_event?: unknown) => {
    const { logger, lines } = recordingLogger();
    let claimSeen: unknown = 'unset';
    const once = idempotent(
      async (_event?: unknown) => {
        claimSeen = currentClaim();
        return 'ran anyway';
      },
      { store: failing(new MemoryStore(), { claim: new Error('timeout') }), strategy: byId, failOpen: true, logger },
    );
    expect(await once(event('open'))).toBe('ran anyway');
    expect(claimSeen).toBeUndefined();
    expect(lines.some((line) => line.level === 'warn' && line.message.includes('failOpen'))).toBe(true);
  });

  it('a completion the store cannot record still returns the result and logs an error', async (_event?: unknown) => {
    const { logger, lines } = recordingLogger();
    const once = idempotent(async (_event?: unknown) => 'effect done', {
      store: failing(new MemoryStore(), { complete: new Error('socket closed') }),
      strategy: byId,
      logger,
    });
    expect(await once(event('c'))).toBe('effect done');
    expect(lines.some((line) => line.level === 'error')).toBe(true);
  });

  it('a transactional store’s failed completion fails the call, so the caller rolls back', async () => {
    const cause = new Error('current transaction is aborted');
    const store = Object.assign(failing(new MemoryStore(), { complete: cause }), { transactional: true });
    const once = idempotent(async (_event?: unknown) => 'effect inside the transaction', { store, strategy: byId });
    const error = await once(event('tx')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect((error as IdempotencyStoreError).cause).toBe(cause);
  });

  it("onOversizeResult 'error' throws, but completes the key so the effect never repeats", async (_event?: unknown) => {
    const store = new MemoryStore();
    const fn = vi.fn(async (_event: unknown) => 'x'.repeat(100));
    const once = idempotent(fn, { store, strategy: byId, maxResultBytes: 50 });
    const error = await once(event('big')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyResultTooLargeError);
    expect((error as IdempotencyResultTooLargeError).bytes).toBe(102);
    expect(await store.get('idemkit:eventId:big')).toMatchObject({ status: 'completed' });
    expect(await once(event('big'))).toBeUndefined();
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("onOversizeResult 'skip' returns the result and stores none", async (_event?: unknown) => {
    const store = new MemoryStore();
    const once = idempotent(async (_event?: unknown) => 'x'.repeat(100), { store, strategy: byId, maxResultBytes: 50, onOversizeResult: 'skip' });
    expect(await once(event('big'))).toHaveLength(100);
    expect((await store.get('idemkit:eventId:big'))?.result).toBeUndefined();
  });

  it('honours the store’s own maxResultBytes', async (_event?: unknown) => {
    const store = Object.assign(new MemoryStore(), { maxResultBytes: 8 });
    const once = idempotent(async (_event?: unknown) => 'too long for it', { store, strategy: byId });
    await expect(once(event('s'))).rejects.toBeInstanceOf(IdempotencyResultTooLargeError);
  });
});

describe('idempotent: keys and configuration', () => {
  it('an event missing the key field throws KeyExtractionError and claims nothing', async (_event?: unknown) => {
    const store = new MemoryStore();
    const fn = vi.fn(async (_event: unknown) => undefined);
    const once = idempotent(fn, { store, strategy: { strategy: 'eventId', path: 'detail.orderId' } });
    const error = await once(event('env-1', {})).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeyExtractionError);
    expect((error as KeyExtractionError).path).toBe('detail.orderId');
    expect(fn).not.toHaveBeenCalled();
    expect(store.size).toBe(0);
  });

  it.each([
    [{ namespace: 'has space' }, 'namespace'],
    [{ leaseMs: 0 }, 'leaseMs'],
    [{ retentionMs: 1.5 }, 'retentionMs'],
    [{ payloadMismatch: 'explode' }, 'payloadMismatch'],
    [{ onOversizeResult: 'truncate' }, 'onOversizeResult'],
    [{ strategy: { strategy: 'guess' } }, 'strategy'],
    [{ store: {} }, 'store'],
  ])('rejects %j with a ConfigError naming %s', (override, field) => {
    const error = (() => {
      try {
        new IdempotencyEngine({ store: new MemoryStore(), strategy: byId, ...(override as object) });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
  });

  it('a stateWindow strategy catches a re-emitted state change with a new event id', async (_event?: unknown) => {
    const fn = vi.fn(async (_event: unknown) => 'handled');
    const once = idempotent(fn, {
      store: new MemoryStore(),
      strategy: { strategy: 'stateWindow', entity: 'detail.conversationId', state: 'detail.status', time: 'detail.timestamp', windowMs: 500 },
    });
    const change = (id: string, ms: number) => event(id, { conversationId: 'c-1', status: 'accepted', timestamp: ms });
    await once(change('a', 1_700_000_000_999));
    await once(change('b', 1_700_000_001_009));
    expect(fn).toHaveBeenCalledTimes(1);
    await once(change('c', 1_700_000_001_499));
    expect(fn).toHaveBeenCalledTimes(2);
  });
});

describe('IdempotencyEngine.runBatch', () => {
  const handlerCounting = () => {
    const seen: string[] = [];
    const handler = async (raw: unknown) => {
      const e = raw as { id: string; detail: { fail?: boolean } };
      seen.push(e.id);
      if (e.detail.fail) throw new Error(`handler failed for ${e.id}`);
      return `done ${e.id}`;
    };
    return { seen, handler };
  };

  it('runs new items once, answers duplicates, and fails bad items alone', async (_event?: unknown) => {
    const store = new MemoryStore();
    const engine = new IdempotencyEngine({ store, strategy: byId });
    await engine.run(event('old'), async (_event?: unknown) => 'done old');
    await store.claim({ key: 'idemkit:eventId:busy', leaseMs: 60_000, retentionMs: 60_000 });
    const { seen, handler } = handlerCounting();

    const outcomes = await engine.runBatch(
      [
        { id: 'm1', event: event('a') },
        { id: 'm2', event: event('b', { fail: true }) },
        { id: 'm3', event: event('a') },
        { id: 'm4', readError: new SyntaxError('Unexpected token') },
        { id: 'm5', event: { source: 'no id' } as never },
        { id: 'm6', event: event('old') },
        { id: 'm7', event: event('busy') },
        { id: 'm8', event: event('c') },
      ],
      handler,
    );

    expect(outcomes.map((o) => [o.id, o.status])).toEqual([
      ['m1', 'processed'],
      ['m2', 'failed'],
      ['m3', 'duplicate'],
      ['m4', 'failed'],
      ['m5', 'failed'],
      ['m6', 'duplicate'],
      ['m7', 'failed'],
      ['m8', 'processed'],
    ]);
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(outcomes[2]).toMatchObject({ result: 'done a' });
    expect(outcomes[5]).toMatchObject({ result: 'done old' });
    expect(outcomes[3]!.status === 'failed' && outcomes[3]!.error).toBeInstanceOf(SyntaxError);
    expect(outcomes[4]!.status === 'failed' && outcomes[4]!.error).toBeInstanceOf(KeyExtractionError);
    expect(outcomes[6]!.status === 'failed' && outcomes[6]!.error).toBeInstanceOf(IdempotencyInProgressError);
    expect(await store.get('idemkit:eventId:b')).toBeUndefined();
  });

  it('a repeat of a failed item in the same batch fails with it and does not run', async (_event?: unknown) => {
    const engine = new IdempotencyEngine({ store: new MemoryStore(), strategy: byId });
    const { seen, handler } = handlerCounting();
    const outcomes = await engine.runBatch(
      [
        { id: 'm1', event: event('x', { fail: true }) },
        { id: 'm2', event: event('x', { fail: true }) },
      ],
      handler,
    );
    expect(outcomes.map((o) => o.status)).toEqual(['failed', 'failed']);
    expect(seen).toEqual(['x']);
  });

  it('stopOnFirstFailure (FIFO) fails everything after the first failure and releases their claims', async (_event?: unknown) => {
    const store = new MemoryStore();
    const engine = new IdempotencyEngine({ store, strategy: byId });
    const { seen, handler } = handlerCounting();
    const outcomes = await engine.runBatch(
      [
        { id: 'm1', event: event('f1') },
        { id: 'm2', event: event('f2', { fail: true }) },
        { id: 'm3', event: event('f3') },
        { id: 'm4', event: event('f4') },
      ],
      handler,
      { stopOnFirstFailure: true },
    );
    expect(outcomes.map((o) => o.status)).toEqual(['processed', 'failed', 'failed', 'failed']);
    expect(outcomes[2]!.status === 'failed' && outcomes[2]!.error).toBeInstanceOf(BatchItemSkippedError);
    expect(seen).toEqual(['f1', 'f2']);
    expect(await store.get('idemkit:eventId:f3')).toBeUndefined();
    expect(await store.get('idemkit:eventId:f4')).toBeUndefined();
  });

  it('a claimMany outage fails every item closed, or runs them all with failOpen', async (_event?: unknown) => {
    const down = failing(new MemoryStore(), { claimMany: new Error('ETIMEDOUT') });
    const items = [
      { id: 'm1', event: event('o1') },
      { id: 'm2', event: event('o2') },
    ];
    const closed = await new IdempotencyEngine({ store: down, strategy: byId }).runBatch(items, async (_event?: unknown) => 'ran');
    expect(closed.every((o) => o.status === 'failed' && o.error instanceof IdempotencyStoreError)).toBe(true);
    const open = await new IdempotencyEngine({ store: down, strategy: byId, failOpen: true }).runBatch(items, async (_event?: unknown) => 'ran');
    expect(open.map((o) => o.status)).toEqual(['processed', 'processed']);
  });

  it('claims the whole batch with one claimMany call', async (_event?: unknown) => {
    const store = new MemoryStore();
    const claimMany = vi.spyOn(store, 'claimMany');
    const claim = vi.spyOn(store, 'claim');
    const engine = new IdempotencyEngine({ store, strategy: byId });
    await engine.runBatch(
      Array.from({ length: 10 }, (_, i) => ({ id: `m${i}`, event: event(`batch-${i}`) })),
      async (_event?: unknown) => 'ok',
    );
    expect(claimMany).toHaveBeenCalledTimes(1);
    expect(claim).not.toHaveBeenCalled();
  });
});

describe('idempotent: a store that refuses an oversize result itself', () => {
  // Only the store knows its exact per-record overhead (DynamoDB counts attribute names), so
  // a result under the advertised limit can still be refused; the policy must apply then too.
  const refusingResultsOver = (limit: number) => {
    const store = new MemoryStore();
    const complete = store.complete.bind(store);
    store.complete = async (request) => {
      if (request.result !== undefined && request.result.length > limit) {
        throw new IdempotencyResultTooLargeError(request.key, request.result.length, limit);
      }
      return complete(request);
    };
    return store;
  };

  it("'error': completes without the result, then throws", async () => {
    const store = refusingResultsOver(10);
    const fn = vi.fn(async (_event: unknown) => 'a result the store refuses');
    const once = idempotent(fn, { store, strategy: byId });
    await expect(once(event('refused'))).rejects.toBeInstanceOf(IdempotencyResultTooLargeError);
    expect(await store.get('idemkit:eventId:refused')).toMatchObject({ status: 'completed' });
    expect(await once(event('refused'))).toBeUndefined();
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("'skip': completes without the result and returns it", async () => {
    const store = refusingResultsOver(10);
    const once = idempotent(async (_event: unknown) => 'a result the store refuses', { store, strategy: byId, onOversizeResult: 'skip' });
    expect(await once(event('skipped'))).toBe('a result the store refuses');
    expect(await store.get('idemkit:eventId:skipped')).toMatchObject({ status: 'completed' });
  });
});

describe('idempotent: completions lost in flight', () => {
  /** A store whose first `complete` fails; `landed` decides whether it was applied before failing. */
  const flakyCompletion = (failure: Error, { landed }: { landed: boolean }) => {
    const store = new MemoryStore();
    const complete = store.complete.bind(store);
    let calls = 0;
    store.complete = async (request) => {
      calls += 1;
      if (calls === 1) {
        if (landed) await complete(request);
        throw failure;
      }
      return complete(request);
    };
    return { store, calls: () => calls };
  };

  it('retries a completion cut by a connection fault, so the key does not stay in progress', async () => {
    const { store, calls } = flakyCompletion(new IdempotencyStoreError('test', 'connection terminated', { retryable: true }), { landed: false });
    const fn = vi.fn(async (_event: unknown) => 'done');
    const once = idempotent(fn, { store, strategy: byId });
    expect(await once(event('cut'))).toBe('done');
    expect(calls()).toBe(2);
    expect(await store.get('idemkit:eventId:cut')).toMatchObject({ status: 'completed', result: '"done"' });
    expect(await once(event('cut'))).toBe('done');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('a retry that finds its own first attempt landed counts as success, with no error logged', async () => {
    const { logger, lines } = recordingLogger();
    const { store, calls } = flakyCompletion(new Error('ECONNRESET after the write'), { landed: true });
    const once = idempotent(async (_event?: unknown) => 'landed', { store, strategy: byId, logger });
    expect(await once(event('landed'))).toBe('landed');
    expect(calls()).toBe(2);
    expect(lines.filter((line) => line.level === 'error')).toHaveLength(0);
  });

  it('does not retry a fault the store marks permanent', async () => {
    const { store, calls } = flakyCompletion(new IdempotencyStoreError('test', 'access denied', { retryable: false }), { landed: false });
    const once = idempotent(async (_event?: unknown) => 'x', { store, strategy: byId });
    expect(await once(event('permanent'))).toBe('x');
    expect(calls()).toBe(1);
    expect((await store.get('idemkit:eventId:permanent'))?.status).toBe('in_progress');
  });

  it('gives up after three attempts and logs the failure', async () => {
    const { logger, lines } = recordingLogger();
    const store = failing(new MemoryStore(), { complete: new Error('still down') });
    const once = idempotent(async (_event?: unknown) => 'x', { store, strategy: byId, logger });
    expect(await once(event('down'))).toBe('x');
    expect(lines.filter((line) => line.message.includes('retrying'))).toHaveLength(2);
    expect(lines.filter((line) => line.level === 'error')).toHaveLength(1);
  });

  it('does not retry inside a transaction, where the failed statement aborted it', async () => {
    const { store, calls } = flakyCompletion(new Error('connection terminated'), { landed: false });
    Object.assign(store, { transactional: true });
    const once = idempotent(async (_event?: unknown) => 'x', { store, strategy: byId });
    await expect(once(event('tx-retry'))).rejects.toBeInstanceOf(IdempotencyStoreError);
    expect(calls()).toBe(1);
  });
});

describe("IdempotencyEngine.runBatch with completion: 'batch'", () => {
  const items = (count: number, prefix: string) =>
    Array.from({ length: count }, (_, i) => ({ id: `m${i}`, event: event(`${prefix}-${i}`) }));

  it('records every completion of the batch in one completeMany, and none one by one', async () => {
    const store = new MemoryStore();
    const completeMany = vi.spyOn(store, 'completeMany');
    const complete = vi.spyOn(store, 'complete');
    const engine = new IdempotencyEngine({ store, strategy: byId });
    const outcomes = await engine.runBatch(items(10, 'cb'), async (e) => `done ${(e as { id: string }).id}`, { completion: 'batch' });
    expect(outcomes.every((o) => o.status === 'processed')).toBe(true);
    expect(completeMany).toHaveBeenCalledTimes(1);
    expect(completeMany.mock.calls[0]![0]).toHaveLength(10);
    expect(complete).not.toHaveBeenCalled();
    expect(await store.get('idemkit:eventId:cb-3')).toMatchObject({ status: 'completed', result: '"done cb-3"' });
  });

  it('keeps handler failures, in-batch repeats and duplicates as in the default mode', async () => {
    const store = new MemoryStore();
    const engine = new IdempotencyEngine({ store, strategy: byId });
    await engine.run(event('seen'), async () => 'before');
    const seen: string[] = [];
    const outcomes = await engine.runBatch(
      [
        { id: 'm1', event: event('a') },
        { id: 'm2', event: event('boom') },
        { id: 'm3', event: event('a') },
        { id: 'm4', event: event('seen') },
      ],
      async (raw) => {
        const { id } = raw as { id: string };
        seen.push(id);
        if (id === 'boom') throw new Error('handler failed');
        return `done ${id}`;
      },
      { completion: 'batch' },
    );
    expect(outcomes.map((o) => o.status)).toEqual(['processed', 'failed', 'duplicate', 'duplicate']);
    expect(seen).toEqual(['a', 'boom']);
    expect(await store.get('idemkit:eventId:boom')).toBeUndefined();
    expect((await store.get('idemkit:eventId:a'))?.status).toBe('completed');
  });

  it('an item whose lease was taken over fails alone with LeaseLostError', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ clock: clock.now });
    const engine = new IdempotencyEngine({ store, strategy: byId, leaseMs: 1_000 });
    const outcomes = await engine.runBatch(
      [
        { id: 'm1', event: event('fine') },
        { id: 'm2', event: event('slow') },
      ],
      async (raw) => {
        if ((raw as { id: string }).id === 'slow') {
          clock.advance(1_000);
          await store.claim({ key: 'idemkit:eventId:slow', leaseMs: 60_000, retentionMs: 60_000 });
        }
        return 'ok';
      },
      { completion: 'batch' },
    );
    expect(outcomes[0]!.status).toBe('processed');
    expect(outcomes[1]!.status === 'failed' && outcomes[1]!.error).toBeInstanceOf(LeaseLostError);
    expect((await store.get('idemkit:eventId:fine'))?.status).toBe('completed');
  });

  it('when completeMany itself fails, completes item by item', async () => {
    const store = new MemoryStore();
    store.completeMany = async () => Promise.reject(new Error('pipeline reset'));
    const engine = new IdempotencyEngine({ store, strategy: byId });
    const outcomes = await engine.runBatch(items(3, 'fallback'), async () => 'ok', { completion: 'batch' });
    expect(outcomes.every((o) => o.status === 'processed')).toBe(true);
    for (let i = 0; i < 3; i++) expect((await store.get(`idemkit:eventId:fallback-${i}`))?.status).toBe('completed');
  });
});
