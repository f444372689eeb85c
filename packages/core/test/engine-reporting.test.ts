import { describe, expect, it, vi } from 'vitest';
import {
  IdempotencyEngine,
  IdempotencyInProgressError,
  IdempotencyKeyConflictError,
  IdempotencyStoreError,
  KeyExtractionError,
  LeaseLostError,
  MemoryStore,
  jsonLogger,
  silentLogger,
  type CompleteRequest,
  type EngineOptions,
  type IdempotencyLogger,
  type IdempotencyOutcome,
} from '../src/index.js';
import { manualClock } from '../src/testing/index.js';
import { failing } from './support/stores.js';

// What the engine reports on each path: the outcome kind onOutcome counts (dashboards and alarms
// are built on them) and the structured log line an operator reads. A wrong kind or a missing
// field is a silent monitoring bug, so each path is pinned here.

type Line = { level: string; message: string; fields: Record<string, unknown> };

/** An engine on `store` whose outcomes and log lines are recorded. */
function observed<TEvent = { id: string }>(options: Partial<EngineOptions<TEvent, unknown>> & Pick<EngineOptions<TEvent, unknown>, 'store'>) {
  const outcomes: IdempotencyOutcome[] = [];
  const lines: Line[] = [];
  const at = (level: string) => (message: string, fields: Record<string, unknown> = {}) => void lines.push({ level, message, fields });
  const logger: IdempotencyLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const engine = new IdempotencyEngine<TEvent, unknown>({
    strategy: { strategy: 'eventId' },
    logger,
    logKeys: 'raw',
    onOutcome: (outcome) => outcomes.push(outcome),
    ...options,
  });
  const kinds = () => outcomes.map((outcome) => outcome.kind);
  const line = (text: string) => lines.find((candidate) => candidate.message.includes(text));
  return { engine, outcomes, lines, kinds, line };
}

const rejectionOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);
const KEY = (id: string) => `idemkit:eventId:${id}`;

/** A MemoryStore whose `complete` fails with `failure(request)` when it returns an error. */
function completingWith(failure: (request: CompleteRequest) => Error | undefined, store = new MemoryStore()) {
  const complete = store.complete.bind(store);
  store.complete = async (request) => {
    const error = failure(request);
    if (error !== undefined) throw error;
    return complete(request);
  };
  return store;
}

describe('outcome kinds, one per delivery', () => {
  it('processed with the fencing token the handler ran under, then duplicate, each naming the key', async () => {
    const store = new MemoryStore();
    const { engine, outcomes } = observed({ store });
    await engine.run({ id: 'a' }, async () => 1);
    await engine.run({ id: 'a' }, async () => 1);
    const { fencingToken } = (await store.get(KEY('a')))!;
    expect(outcomes).toStrictEqual([
      { kind: 'processed', key: KEY('a'), strategy: 'eventId', fencingToken },
      { kind: 'duplicate', key: KEY('a'), strategy: 'eventId' },
    ]);
  });

  it('failed and lease_lost after the handler ran carry its fencing token too', async () => {
    const store = new MemoryStore();
    const { engine, outcomes } = observed({ store });
    let token = 0;
    await engine
      .run({ id: 'f' }, async (_event, claim) => {
        token = claim!.fencingToken;
        throw new Error('handler failed');
      })
      .catch(() => undefined);
    expect(outcomes.at(-1)).toStrictEqual({ kind: 'failed', key: KEY('f'), strategy: 'eventId', fencingToken: token });
    const lost = observed({ store: completingWith((request) => new LeaseLostError(request.key, request.fencingToken)) });
    await lost.engine
      .run({ id: 'l' }, async (_event, claim) => {
        token = claim!.fencingToken;
        return 'r';
      })
      .catch(() => undefined);
    expect(lost.outcomes.at(-1)).toStrictEqual({ kind: 'lease_lost', key: KEY('l'), strategy: 'eventId', fencingToken: token });
  });

  it('invalid_key, without a key, for an event the strategy cannot read', async () => {
    const { engine, outcomes } = observed({ store: new MemoryStore(), strategy: { strategy: 'eventId', path: 'detail.id' } });
    expect(await rejectionOf(engine.run({ id: 'x' }, async () => 1))).toBeInstanceOf(KeyExtractionError);
    expect(outcomes).toEqual([{ kind: 'invalid_key', strategy: 'eventId' }]);
  });

  it('invalid_key for an unreadable batch item, processed for the others', async () => {
    const { engine, kinds } = observed({ store: new MemoryStore() });
    await engine.runBatch([{ id: 'm1', readError: new SyntaxError('bad JSON') }, { id: 'm2', event: { id: 'b' } }], async () => 1);
    expect(kinds()).toEqual(['invalid_key', 'processed']);
  });

  it('in_progress for a key another delivery holds', async () => {
    const store = new MemoryStore();
    await store.claim({ key: KEY('held'), leaseMs: 60_000, retentionMs: 60_000 });
    const { engine, outcomes } = observed({ store });
    expect(await rejectionOf(engine.run({ id: 'held' }, async () => 1))).toBeInstanceOf(IdempotencyInProgressError);
    expect(outcomes).toEqual([{ kind: 'in_progress', key: KEY('held'), strategy: 'eventId' }]);
  });

  it('failed for a handler that throws, and the release failing is only a warning', async () => {
    const { engine, kinds, line } = observed({ store: failing(new MemoryStore(), { release: new Error('ECONNRESET') }) });
    const boom = new Error('handler failed');
    expect(await rejectionOf(engine.run({ id: 'f' }, async () => Promise.reject(boom)))).toBe(boom);
    expect(kinds()).toEqual(['failed']);
    expect(line('could not release the claim')).toMatchObject({
      level: 'warn',
      fields: { key: KEY('f'), strategy: 'eventId', error: 'Error: ECONNRESET' },
    });
  });

  it('conflict for a payload mismatch under payloadMismatch: error; a warning naming both fingerprints under warn', async () => {
    const store = new MemoryStore();
    const strict = observed<{ id: string; amount: number }>({ store, payloadMismatch: 'error' });
    await strict.engine.run({ id: 'p', amount: 1 }, async () => 1);
    expect(await rejectionOf(strict.engine.run({ id: 'p', amount: 2 }, async () => 1))).toBeInstanceOf(IdempotencyKeyConflictError);
    expect(strict.kinds()).toEqual(['processed', 'conflict']);

    const lenient = observed<{ id: string; amount: number }>({ store, payloadMismatch: 'warn' });
    await lenient.engine.run({ id: 'p', amount: 3 }, async () => 1);
    expect(lenient.kinds()).toEqual(['duplicate']);
    const warning = lenient.line('payload differs from the first delivery');
    expect(warning?.level).toBe('warn');
    expect(warning?.fields['storedFingerprint']).toEqual(expect.any(String));
    expect(warning?.fields['fingerprint']).toEqual(expect.any(String));
    expect(warning?.fields['fingerprint']).not.toBe(warning?.fields['storedFingerprint']);
  });

  it('a matching payload is no conflict, and a record without a fingerprint is never compared', async () => {
    const store = new MemoryStore();
    const strict = observed<{ id: string; amount: number }>({ store, payloadMismatch: 'error' });
    await strict.engine.run({ id: 'same', amount: 1 }, async () => 1);
    await strict.engine.run({ id: 'same', amount: 1 }, async () => 1);
    // Recorded by an engine that keeps no fingerprints (payloadMismatch: ignore).
    await new IdempotencyEngine({ store, strategy: { strategy: 'eventId' } }).run({ id: 'bare', amount: 1 }, async () => 1);
    await strict.engine.run({ id: 'bare', amount: 2 }, async () => 1);
    expect(strict.kinds()).toEqual(['processed', 'duplicate', 'duplicate']);
  });

  it('fail_open, with a warning carrying the outage, when failOpen runs the handler; failed when it does not', async () => {
    const down = failing(new MemoryStore(), { claim: new Error('ETIMEDOUT') });
    const open = observed({ store: down, failOpen: true });
    expect(await open.engine.run({ id: 'o' }, async () => 'ran')).toBe('ran');
    expect(open.kinds()).toEqual(['fail_open']);
    expect(open.line('store unavailable, running without a claim (failOpen)')).toMatchObject({
      level: 'warn',
      fields: { key: KEY('o'), error: expect.stringContaining('ETIMEDOUT') },
    });
    const closed = observed({ store: down });
    expect(await rejectionOf(closed.engine.run({ id: 'o' }, async () => 'ran'))).toBeInstanceOf(IdempotencyStoreError);
    expect(closed.kinds()).toEqual(['failed']);
  });

  it('lease_lost, with the stale and the current token, when the lease was taken over before completion', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ clock: clock.now });
    const { engine, kinds, line } = observed({ store, leaseMs: 1_000 });
    const rival = new IdempotencyEngine({ store, strategy: { strategy: 'eventId' } });
    let ours = 0;
    const error = await rejectionOf(
      engine.run({ id: 'l' }, async (_event, claim) => {
        ours = claim!.fencingToken;
        clock.advance(1_000);
        await rival.run({ id: 'l' }, async () => 'rival');
        return 'late';
      }),
    );
    expect(error).toBeInstanceOf(LeaseLostError);
    expect(kinds()).toEqual(['lease_lost']);
    const warning = line('lease lost before completion; the result was not recorded');
    expect(warning?.level).toBe('warn');
    expect(warning?.fields['fencingToken']).toBe(ours);
    expect(warning?.fields['currentToken']).toBeGreaterThan(ours);
  });
});

describe('completion faults', () => {
  it('a completion the store cannot record: processed, an error line with the fault, each retry a warning with its attempt', async () => {
    const { engine, kinds, lines } = observed({ store: completingWith(() => new Error('socket closed')) });
    expect(await engine.run({ id: 'c' }, async () => 'done')).toBe('done');
    expect(kinds()).toEqual(['processed']);
    expect(lines.filter((line) => line.message.includes('completion failed, retrying')).map((line) => line.fields)).toEqual([
      expect.objectContaining({ key: KEY('c'), attempt: 2, error: 'Error: socket closed' }),
      expect.objectContaining({ attempt: 3 }),
    ]);
    expect(lines.find((line) => line.level === 'error')).toMatchObject({
      message: expect.stringContaining('could not record completion; a redelivery after the lease may run again'),
      fields: { key: KEY('c'), error: 'Error: socket closed' },
    });
  });

  it('in a transactional store: failed, and an IdempotencyStoreError saying complete failed, with the cause', async () => {
    const cause = new Error('current transaction is aborted');
    const store = Object.assign(completingWith(() => cause), { transactional: true });
    const { engine, kinds } = observed({ store });
    const error = await rejectionOf(engine.run({ id: 't' }, async () => 'done'));
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect((error as IdempotencyStoreError).message).toContain('[memory] complete failed: Error: current transaction is aborted');
    expect((error as IdempotencyStoreError).cause).toBe(cause);
    expect(kinds()).toEqual(['failed']);
  });

  it('a claim outage fails closed with an IdempotencyStoreError saying claim failed, with the cause', async () => {
    const cause = new Error('connect ECONNREFUSED');
    const { engine } = observed({ store: failing(new MemoryStore(), { claim: cause }) });
    const error = await rejectionOf(engine.run({ id: 'down' }, async () => 1));
    expect((error as Error).message).toContain('[memory] claim failed: Error: connect ECONNREFUSED');
    expect((error as IdempotencyStoreError).cause).toBe(cause);
  });

  it('a claimMany outage fails every item with an IdempotencyStoreError saying claimMany failed', async () => {
    const { engine } = observed({ store: failing(new MemoryStore(), { claimMany: new Error('ECONNRESET') }) });
    const [outcome] = await engine.runBatch([{ id: 'm1', event: { id: 'b' } }], async () => 1);
    expect(outcome).toMatchObject({ status: 'failed', error: expect.objectContaining({ message: expect.stringContaining('claimMany failed: Error: ECONNRESET') }) });
  });

  it('an oversize result: a warning with its bytes and the limit', async () => {
    const { engine, line } = observed({ store: new MemoryStore(), maxResultBytes: 5, onOversizeResult: 'skip' });
    await engine.run({ id: 'big' }, async () => 'too long');
    expect(line('result not stored, larger than the store accepts')).toMatchObject({ level: 'warn', fields: { key: KEY('big'), bytes: 10, maxBytes: 5 } });
  });

  it('a result JSON cannot encode: a warning with the encoder’s error', async () => {
    const { engine, line } = observed({ store: new MemoryStore(), onOversizeResult: 'skip' });
    await engine.run({ id: 'bigint' }, async () => ({ amount: 10n }));
    expect(line('result not stored, not encodable as JSON')).toMatchObject({
      level: 'warn',
      fields: { key: KEY('bigint'), error: expect.stringContaining('TypeError') },
    });
  });

  it("a batch's completeMany failing: a warning, then each item completed on its own", async () => {
    const store = failing(new MemoryStore(), { completeMany: new Error('ECONNRESET') });
    const { engine, line } = observed({ store });
    const outcomes = await engine.runBatch([{ id: 'm1', event: { id: 'cm' } }], async () => 'r', { completion: 'batch' });
    expect(outcomes[0]).toMatchObject({ status: 'processed' });
    expect(line('completeMany failed; completing item by item')).toMatchObject({ level: 'warn', fields: { error: 'Error: ECONNRESET' } });
    expect(await store.get(KEY('cm'))).toMatchObject({ status: 'completed', result: '"r"' });
  });
});

describe('log lines', () => {
  it('without a key name only the strategy; with one, the key hashed unless logKeys is raw', async () => {
    const { engine, line } = observed({ store: failing(new MemoryStore(), { completeMany: new Error('x') }), logKeys: 'hash' });
    await engine.runBatch([{ id: 'm1', event: { id: 'h' } }], async () => 'r', { completion: 'batch' });
    expect(line('completeMany failed')?.fields).toStrictEqual({ strategy: 'eventId', error: 'Error: x' });
    await engine.run({ id: 'h' }, async () => 'r');
    const duplicate = line('duplicate skipped');
    expect(duplicate?.fields['key']).toMatch(/^#[A-Za-z0-9_-]{16}$/);
    expect(duplicate?.fields['strategy']).toBe('eventId');
  });

  it('a level whose method is silentLogger’s is known to be dropped, so its lines are never built; any other method is called', async () => {
    const lines: string[] = [];
    const logger: IdempotencyLogger = { ...silentLogger, warn: (message) => void lines.push(message), error: () => undefined };
    const engine = new IdempotencyEngine<{ id: string }, unknown>({ store: new MemoryStore(), strategy: { strategy: 'eventId' }, logger });
    expect((['debug', 'info', 'warn', 'error'] as const).map((level) => engine.reporter.enabled(level))).toEqual([false, false, true, true]);
    expect(new IdempotencyEngine({ store: new MemoryStore(), strategy: { strategy: 'eventId' } }).reporter.enabled('error')).toBe(false);
    // A duplicate (an info line) writes nothing; a warning still reaches the logger.
    await engine.run({ id: 'quiet' }, async () => 'r');
    await engine.run({ id: 'quiet' }, async () => 'r');
    engine.reporter.warn('a warning', 'k');
    expect(lines).toEqual(['a warning']);
  });

  it('jsonLogger writes one JSON object per line with level, message, library and the fields', () => {
    const written: string[] = [];
    const logger = jsonLogger((text) => written.push(text));
    logger.debug('d');
    logger.info('i', { key: 'k' });
    logger.warn('w');
    logger.error('e', { n: 1 });
    expect(written.map((text) => JSON.parse(text))).toEqual([
      { level: 'debug', message: 'd', library: 'idemkit' },
      { level: 'info', message: 'i', library: 'idemkit', key: 'k' },
      { level: 'warn', message: 'w', library: 'idemkit' },
      { level: 'error', message: 'e', library: 'idemkit', n: 1 },
    ]);
  });

  it('jsonLogger writes to console.log by default; silentLogger has every level and writes nothing', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      jsonLogger().info('hello');
      expect(log).toHaveBeenCalledWith(JSON.stringify({ level: 'info', message: 'hello', library: 'idemkit' }));
      log.mockClear();
      for (const level of ['debug', 'info', 'warn', 'error'] as const) silentLogger[level]('quiet', { a: 1 });
      expect(log).not.toHaveBeenCalled();
    } finally {
      log.mockRestore();
    }
  });
});

describe('hooks that fail are logged, naming the hook', () => {
  it('a throwing onOutcome and a rejecting onDuplicate each log an error with the hook and its error', async () => {
    const errors: Line[] = [];
    const logger: IdempotencyLogger = { ...silentLogger, error: (message, fields = {}) => void errors.push({ level: 'error', message, fields }) };
    const engine = new IdempotencyEngine({
      store: new MemoryStore(),
      strategy: { strategy: 'eventId' },
      logger,
      onOutcome: () => {
        throw new Error('metrics down');
      },
      onDuplicate: async () => Promise.reject(new Error('sink down')),
    });
    await engine.run({ id: 'hk' }, async () => 1);
    await engine.run({ id: 'hk' }, async () => 1);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(errors).toContainEqual({
      level: 'error',
      message: 'idempotency: the onOutcome hook threw; the delivery is unaffected',
      fields: { hook: 'onOutcome', error: 'Error: metrics down' },
    });
    expect(errors).toContainEqual({
      level: 'error',
      message: 'idempotency: the onDuplicate hook threw; the delivery is unaffected',
      fields: { hook: 'onDuplicate', error: 'Error: sink down' },
    });
  });
});
