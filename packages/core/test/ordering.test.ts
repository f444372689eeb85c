// ordered(): the ordering guard on its own, on the in-memory store with a manual clock.
import { describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  currentClaim,
  decodeVersion,
  encodeVersion,
  IdempotencyInProgressError,
  IdempotencyStoreError,
  KeyExtractionError,
  LeaseLostError,
  MemoryStore,
  ordered,
  type IdempotencyLogger,
  type IdempotencyOutcome,
  type OrderedOptions,
  type OrderingClaim,
  type SkippedEvent,
  type VersionStore,
} from '../src/index.js';
import { manualClock } from '../src/testing/index.js';
import { holding } from './support/holding.js';

interface StateEvent {
  id: string;
  detail: { conversationId: string; eventTime: string | number; state?: string; seq?: unknown };
}

const at = (second: number) => new Date(Date.UTC(2026, 2, 7, 10, 0, second)).toISOString();
const stateEvent = (id: string, conversationId: string, second: number, state = 'connected'): StateEvent => ({
  id,
  detail: { conversationId, eventTime: at(second), state },
});
const byTimeThenId = { entity: 'detail.conversationId', version: ['detail.eventTime', 'id'] } as const;

function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> | undefined }> = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields });
  const logger: IdempotencyLogger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  return { logger, lines };
}

/** A version store whose chosen operations fail on chosen calls (1-based), as a flaky server would. */
function flaky(store: VersionStore, failures: Partial<Record<keyof VersionStore, Map<number, Error | 'after'>>>): VersionStore {
  const calls = new Map<string, number>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const plan = failures[property as keyof VersionStore];
      return async (...args: unknown[]) => {
        const call = (calls.get(String(property)) ?? 0) + 1;
        calls.set(String(property), call);
        const failure = plan?.get(call);
        if (failure === undefined) return value.apply(target, args);
        // 'after': the operation lands on the server, but its reply is lost.
        if (failure === 'after') {
          await value.apply(target, args);
          throw new IdempotencyStoreError(target.name, 'connection reset after the write');
        }
        throw failure;
      };
    },
  });
}

function setup(options: Partial<OrderedOptions<StateEvent, string>> = {}) {
  const clock = manualClock(Date.UTC(2026, 2, 7));
  const store = new MemoryStore({ clock: clock.now });
  const outcomes: IdempotencyOutcome[] = [];
  const runs: Array<{ id: string; claim: OrderingClaim | undefined }> = [];
  const fn = vi.fn(async (event: StateEvent, claim: OrderingClaim | undefined) => {
    runs.push({ id: event.id, claim });
    return `applied ${event.id}`;
  });
  const apply = ordered<StateEvent, string>(fn, {
    store,
    ...byTimeThenId,
    onOutcome: (outcome) => outcomes.push(outcome),
    ...options,
  });
  return { clock, store, outcomes, runs, fn, apply, kinds: () => outcomes.map((outcome) => outcome.kind) };
}

describe('ordered: newer runs, equal is a duplicate, older is stale', () => {
  it('runs newer versions, skips an equal one as a duplicate and an older one as stale, without errors', async () => {
    const onStale = vi.fn();
    const { apply, fn, kinds, store } = setup({ onStale });
    expect(await apply(stateEvent('e-2', 'c-1', 2))).toBe('applied e-2');
    expect(await apply(stateEvent('e-2', 'c-1', 2))).toBeUndefined();
    expect(await apply(stateEvent('e-1', 'c-1', 1))).toBeUndefined();
    expect(await apply(stateEvent('e-3', 'c-1', 3))).toBe('applied e-3');

    expect(fn.mock.calls.map(([event]) => event.id)).toEqual(['e-2', 'e-3']);
    expect(kinds()).toEqual(['processed', 'duplicate', 'stale', 'processed']);
    expect(onStale).toHaveBeenCalledTimes(1);
    const stale = onStale.mock.calls[0]![0] as SkippedEvent<StateEvent>;
    expect(stale).toMatchObject({ kind: 'stale', entity: 'idemkit:@ordering:c-1', version: [Date.parse(at(1)), 'e-1'] });
    expect(stale.applied).toEqual([Date.parse(at(2)), 'e-2']);
    expect(stale.event.id).toBe('e-1');
    expect((await store.getVersion('idemkit:@ordering:c-1'))?.applied).toBe(encodeVersion([Date.parse(at(3)), 'e-3']));
  });

  it('breaks equal times by the next element of the tuple, whichever arrives first', async () => {
    for (const order of [['e-a', 'e-b'], ['e-b', 'e-a']]) {
      const { apply, runs } = setup();
      for (const id of order) await apply(stateEvent(id, 'c-tie', 5));
      expect(runs.at(-1)!.id).toBe('e-b');
    }
  });

  it('keeps entities apart', async () => {
    const { apply, fn } = setup();
    await apply(stateEvent('e-5', 'c-1', 5));
    await apply(stateEvent('e-1', 'c-2', 1));
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('skippedResponse answers skipped events; a stale one is logged with its key hashed', async () => {
    const { logger, lines } = recordingLogger();
    const { apply } = setup({ logger, skippedResponse: ({ kind, applied }) => `${kind}, applied ${String(applied[1])}` });
    await apply(stateEvent('e-2', 'c-secret@example.com', 2));
    expect(await apply(stateEvent('e-1', 'c-secret@example.com', 1))).toBe('stale, applied e-2');
    expect(await apply(stateEvent('e-2', 'c-secret@example.com', 2))).toBe('duplicate, applied e-2');
    const staleLine = lines.find((line) => line.message.includes('stale'));
    expect(staleLine).toMatchObject({ level: 'info', fields: { key: expect.stringMatching(/^#[A-Za-z0-9_-]{16}$/), strategy: 'ordering' } });
    expect(JSON.stringify(lines)).not.toContain('secret');
  });

  it('a hook that throws does not fail the delivery', async () => {
    const { logger, lines } = recordingLogger();
    const { apply } = setup({ logger, onStale: () => { throw new Error('hook bug'); } });
    await apply(stateEvent('e-2', 'c-1', 2));
    await expect(apply(stateEvent('e-1', 'c-1', 1))).resolves.toBeUndefined();
    expect(lines.some((line) => line.level === 'error' && line.message.includes('onStale'))).toBe(true);
  });
});

describe('ordered: claims, failures and fencing', () => {
  it('gives fn the version claim, as its second argument and through currentClaim, with a token rising per entity', async () => {
    const seen: Array<[OrderingClaim | undefined, unknown]> = [];
    const clock = manualClock();
    const store = new MemoryStore({ clock: clock.now });
    const apply = ordered(async (_event: StateEvent, claim) => void seen.push([claim, currentClaim()]), { store, ...byTimeThenId });
    await apply(stateEvent('e-1', 'c-1', 1));
    await apply(stateEvent('x-1', 'c-other', 1));
    await apply(stateEvent('e-2', 'c-1', 2));
    const [first, , second] = seen;
    expect(first![0]).toMatchObject({ entity: 'idemkit:@ordering:c-1', version: [Date.parse(at(1)), 'e-1'] });
    expect(first![0]!.encoded).toBe(encodeVersion([Date.parse(at(1)), 'e-1']));
    expect(first![1]).toMatchObject({ key: 'idemkit:@ordering:c-1', fencingToken: first![0]!.fencingToken, ordering: first![0] });
    expect(second![0]!.fencingToken).toBeGreaterThan(first![0]!.fencingToken);
    expect(currentClaim()).toBeUndefined();
  });

  it('while another version of the entity runs, throws a retryable IdempotencyInProgressError naming the entity', async () => {
    const held = holding((event: StateEvent) => event.id === 'e-1', (event) => event.id);
    const outcomes: string[] = [];
    const store = new MemoryStore();
    const apply = ordered(held.fn, { store, ...byTimeThenId, onOutcome: (outcome) => outcomes.push(outcome.kind) });
    const first = apply(stateEvent('e-1', 'c-1', 1));
    await held.started;
    const error = await apply(stateEvent('e-2', 'c-1', 2)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyInProgressError);
    expect(error).toMatchObject({ retryable: true, key: 'idemkit:@ordering:c-1', record: { status: 'in_progress' } });
    held.release();
    expect(await first).toBe('e-1');
    expect(await apply(stateEvent('e-2', 'c-1', 2))).toBe('e-2');
    expect(outcomes).toEqual(['in_progress', 'processed', 'processed']);
  });

  it('fn throwing releases the version claim and rethrows: the version does not advance, the retry runs', async () => {
    const boom = new Error('downstream 503');
    const { apply, fn, store, kinds } = setup();
    await apply(stateEvent('e-1', 'c-1', 1));
    fn.mockRejectedValueOnce(boom);
    await expect(apply(stateEvent('e-2', 'c-1', 2))).rejects.toBe(boom);
    const record = await store.getVersion('idemkit:@ordering:c-1');
    expect(record?.applied).toBe(encodeVersion([Date.parse(at(1)), 'e-1']));
    expect(record?.pending).toBeUndefined();
    expect(await apply(stateEvent('e-2', 'c-1', 2))).toBe('applied e-2');
    expect(kinds()).toEqual(['processed', 'failed', 'processed']);
  });

  it('a Lambda retry of the same owner takes its own pending version over', async () => {
    const { apply, store } = setup();
    const entity = 'idemkit:@ordering:c-1';
    // The first attempt claimed the version, then its invocation died.
    await store.claimVersion({ entity, version: encodeVersion([Date.parse(at(1)), 'e-1']), leaseMs: 60_000, retentionMs: 60_000, owner: 'req-1' });
    await expect(apply(stateEvent('e-1', 'c-1', 1), { owner: 'req-2' })).rejects.toBeInstanceOf(IdempotencyInProgressError);
    expect(await apply(stateEvent('e-1', 'c-1', 1), { owner: 'req-1' })).toBe('applied e-1');
  });

  it('a lease passed before completion: another version took over, the late completion throws LeaseLostError', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ clock: clock.now });
    const outcomes: string[] = [];
    const held = holding((event: StateEvent) => event.id === 'e-1', (event) => event.id);
    const apply = ordered(held.fn, { store, ...byTimeThenId, leaseMs: 1_000, onOutcome: (outcome) => outcomes.push(outcome.kind) });
    const slow = apply(stateEvent('e-1', 'c-1', 1));
    await held.started;
    clock.advance(1_000);
    expect(await apply(stateEvent('e-2', 'c-1', 2))).toBe('e-2');
    held.release();
    await expect(slow).rejects.toBeInstanceOf(LeaseLostError);
    // The newer version stays applied: versions never move backwards.
    expect((await store.getVersion('idemkit:@ordering:c-1'))?.applied).toBe(encodeVersion([Date.parse(at(2)), 'e-2']));
    expect(outcomes).toEqual(['processed', 'lease_lost']);
  });

  it('a version record past its retention is forgotten: an older event then applies', async () => {
    const { apply, clock, fn } = setup({ retentionMs: 10_000 });
    await apply(stateEvent('e-2', 'c-1', 2));
    clock.advance(9_999);
    expect(await apply(stateEvent('e-1', 'c-1', 1))).toBeUndefined();
    clock.advance(1);
    expect(await apply(stateEvent('e-1', 'c-1', 1))).toBe('applied e-1');
    expect(fn).toHaveBeenCalledTimes(2);
  });
});

describe('ordered: recording the applied version after fn ran', () => {
  const retryable = () => new IdempotencyStoreError('memory', 'connection reset');

  it('retries a retryable fault and never reruns fn', async () => {
    const { logger, lines } = recordingLogger();
    const store = flaky(new MemoryStore(), { completeVersion: new Map([[1, retryable()]]) });
    const fn = vi.fn(async (event: StateEvent) => event.id);
    const apply = ordered(fn, { store, ...byTimeThenId, logger });
    expect(await apply(stateEvent('e-1', 'c-1', 1))).toBe('e-1');
    expect(fn).toHaveBeenCalledTimes(1);
    expect((await store.getVersion('idemkit:@ordering:c-1'))?.applied).toBe(encodeVersion([Date.parse(at(1)), 'e-1']));
    expect(lines.filter((line) => line.message.includes('retrying'))).toHaveLength(1);
  });

  it('a retry whose first attempt landed (reply lost) finds its version applied: processed, no error', async () => {
    const outcomes: string[] = [];
    const store = flaky(new MemoryStore(), { completeVersion: new Map([[1, 'after']]) });
    const fn = vi.fn(async (event: StateEvent) => event.id);
    const apply = ordered(fn, { store, ...byTimeThenId, onOutcome: (outcome) => outcomes.push(outcome.kind) });
    expect(await apply(stateEvent('e-1', 'c-1', 1))).toBe('e-1');
    expect(outcomes).toEqual(['processed']);
    expect(await apply(stateEvent('e-1', 'c-1', 1))).toBeUndefined();
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('a fault that persists, or one not worth retrying, is logged and the result returned: the effect happened', async () => {
    for (const [failure, attempts] of [
      [retryable(), 3],
      [new IdempotencyStoreError('memory', 'access denied', { retryable: false }), 1],
    ] as const) {
      const { logger, lines } = recordingLogger();
      const plan = new Map([1, 2, 3].map((call) => [call, failure] as [number, Error]));
      const inner = new MemoryStore();
      const completeVersion = vi.spyOn(inner, 'completeVersion');
      const store = flaky(inner, { completeVersion: plan });
      const fn = vi.fn(async (event: StateEvent) => event.id);
      const apply = ordered(fn, { store, ...byTimeThenId, logger });
      expect(await apply(stateEvent('e-1', 'c-1', 1))).toBe('e-1');
      expect(fn).toHaveBeenCalledTimes(1);
      expect(completeVersion).not.toHaveBeenCalled(); // every attempt failed before the store
      expect(lines.filter((line) => line.message.includes('retrying'))).toHaveLength(attempts - 1);
      expect(lines.some((line) => line.level === 'error' && line.message.includes('could not record the applied version'))).toBe(true);
    }
  });

  it('in a transactional store a completion fault is thrown, so the caller rolls back', async () => {
    const failure = retryable();
    const store = flaky(new MemoryStore(), { completeVersion: new Map([[1, failure]]) });
    const transactional = new Proxy(store, { get: (target, property) => (property === 'transactional' ? true : Reflect.get(target, property)) });
    const apply = ordered(async (event: StateEvent) => event.id, { store: transactional, ...byTimeThenId });
    await expect(apply(stateEvent('e-1', 'c-1', 1))).rejects.toBe(failure);
  });
});

describe('ordered: store outages', () => {
  const down = () => new IdempotencyStoreError('memory', 'connection refused');

  it('fails closed by default', async () => {
    const fn = vi.fn(async (event: StateEvent) => event.id);
    const outcomes: string[] = [];
    const store = flaky(new MemoryStore(), { claimVersion: new Map([[1, down()]]) });
    const apply = ordered(fn, { store, ...byTimeThenId, onOutcome: (outcome) => outcomes.push(outcome.kind) });
    await expect(apply(stateEvent('e-1', 'c-1', 1))).rejects.toBeInstanceOf(IdempotencyStoreError);
    expect(fn).not.toHaveBeenCalled();
    expect(outcomes).toEqual(['failed']);
  });

  it('with failOpen, runs fn unguarded (claim undefined) and says so', async () => {
    const { logger, lines } = recordingLogger();
    const outcomes: string[] = [];
    const store = flaky(new MemoryStore(), { claimVersion: new Map([[1, down()]]) });
    const claims: unknown[] = [];
    const apply = ordered(async (event: StateEvent, claim) => (claims.push(claim), event.id), {
      store,
      ...byTimeThenId,
      failOpen: true,
      logger,
      onOutcome: (outcome) => outcomes.push(outcome.kind),
    });
    expect(await apply(stateEvent('e-1', 'c-1', 1))).toBe('e-1');
    expect(claims).toEqual([undefined]);
    expect(outcomes).toEqual(['fail_open']);
    expect(lines.some((line) => line.level === 'warn' && line.message.includes('failOpen'))).toBe(true);
  });
});

describe('ordered: entity and version from paths, functions and JSON config', () => {
  const make = (options: Record<string, unknown>) =>
    ordered(async () => undefined, { store: new MemoryStore(), ...byTimeThenId, ...options } as OrderedOptions);

  it('reads ISO-8601 times and epoch milliseconds alike, sequence numbers and bigint digit strings exactly', async () => {
    const time = make({ version: 'detail.eventTime' });
    const iso = time.versionOf(stateEvent('e', 'c', 30));
    const epoch = time.versionOf({ id: 'e', detail: { conversationId: 'c', eventTime: Date.parse(at(30)) } });
    expect(iso.encoded).toBe(epoch.encoded);
    const withOffset = time.versionOf({ id: 'e', detail: { conversationId: 'c', eventTime: '2026-03-07T11:00:30+01:00' } });
    expect(withOffset.encoded).toBe(iso.encoded);

    const seconds = make({ version: { time: 'detail.eventTime' } });
    expect(seconds.versionOf({ id: 'e', detail: { conversationId: 'c', eventTime: Date.parse(at(30)) / 1000 } }).version).toBe(Date.parse(at(30)));

    const sequence = make({ version: { sequence: 'detail.seq' } });
    const read = (seq: unknown) => sequence.versionOf({ id: 'e', detail: { conversationId: 'c', eventTime: 0, seq } }).encoded;
    expect(read(9)).toBe(read('9'));
    expect(read('9007199254740993') > read('9007199254740992')).toBe(true);
    expect(read('100000000000000000000000') > read('99999999999999999999999')).toBe(true);
    expect(read('99999999999999999999999') > read(Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it('a missing or malformed version or entity is a KeyExtractionError naming the path and the event id', () => {
    const apply = make({});
    const cases: Array<[unknown, string]> = [
      [{ id: 'e-9', detail: { conversationId: 'c' } }, 'detail.eventTime'],
      [{ id: 'e-9', detail: { conversationId: 'c', eventTime: '2026-02-30T00:00:00Z' } }, 'detail.eventTime'],
      [{ id: 'e-9', detail: { conversationId: 'c', eventTime: -5 } }, 'detail.eventTime'],
      [{ id: 'e-9', detail: { conversationId: 'c', eventTime: 1.5 } }, 'detail.eventTime'],
      [{ id: 'e-9', detail: { eventTime: at(1) } }, 'detail.conversationId'],
      [{ detail: { conversationId: 'c', eventTime: at(1) } }, 'id'],
    ];
    for (const [event, path] of cases) {
      let caught: unknown;
      try {
        apply.versionOf(event);
      } catch (error) {
        caught = error;
      }
      expect(caught, path).toBeInstanceOf(KeyExtractionError);
      expect((caught as KeyExtractionError).path).toBe(path);
    }
    expect(() => apply.versionOf({ id: 'e-9', detail: { eventTime: at(1) } })).toThrow(/e-9/);
    expect(() => make({ version: { sequence: 'detail.seq' } }).versionOf({ id: 'e', detail: { conversationId: 'c', seq: 'x1' } })).toThrow(
      KeyExtractionError,
    );
  });

  it('a missing version fails before the store is touched, reported as invalid_key', async () => {
    const outcomes: string[] = [];
    const store = new MemoryStore();
    const claimVersion = vi.spyOn(store, 'claimVersion');
    const apply = ordered(async () => 'ran', { store, ...byTimeThenId, onOutcome: (outcome) => outcomes.push(outcome.kind) });
    await expect(apply({ id: 'e', detail: { conversationId: 'c' } })).rejects.toBeInstanceOf(KeyExtractionError);
    expect(claimVersion).not.toHaveBeenCalled();
    expect(outcomes).toEqual(['invalid_key']);
  });

  it('takes functions for entity and version; a function returning no version is a KeyExtractionError', () => {
    const apply = make({ entity: (event: StateEvent) => `tenant-1/${event.detail.conversationId}`, version: (event: StateEvent) => [Number(event.detail.seq), event.id] });
    expect(apply.versionOf({ id: 'e', detail: { conversationId: 'c', eventTime: 0, seq: 4 } })).toMatchObject({
      entity: 'idemkit:@ordering:tenant-1%2Fc',
      version: [4, 'e'],
    });
    expect(() => apply.versionOf({ id: 'e', detail: { conversationId: 'c', eventTime: 0 } })).toThrow(KeyExtractionError);
    expect(() => make({ entity: () => '' }).versionOf(stateEvent('e', 'c', 1))).toThrow(KeyExtractionError);
  });

  it('namespaces entity keys, apart from every dedup key, and bounds their length', () => {
    const apply = make({ namespace: 'crm-sync' });
    expect(apply.versionOf(stateEvent('e', 'c:1', 1)).entity).toBe('crm-sync:@ordering:c%3A1');
    const long = apply.versionOf(stateEvent('e', 'c'.repeat(500), 1)).entity;
    expect(long.length).toBeLessThan(250);
    expect(long).toMatch(/^crm-sync:@ordering:#/);
  });

  it('rejects bad config with a ConfigError naming the field', () => {
    const field = (options: Record<string, unknown>) => {
      try {
        make(options);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return { field: (error as ConfigError).field, message: (error as ConfigError).message };
      }
      throw new Error(`accepted ${JSON.stringify(options)}`);
    };
    expect(field({ entity: undefined }).field).toBe('entity');
    expect(field({ entity: 'detail..id' }).field).toBe('entity');
    expect(field({ version: undefined }).field).toBe('version');
    expect(field({ version: [] }).field).toBe('version');
    expect(field({ version: ['detail.eventTime', 42] }).field).toBe('version[1]');
    expect(field({ version: ['detail.eventTime', { tiem: 'x' }] })).toMatchObject({ field: 'version[1].tiem', message: expect.stringContaining('"time"') });
    expect(field({ version: [{ time: 'a', text: 'b' }] }).field).toBe('version[0]');
    expect(field({ version: [{ sequence: '' }] }).field).toBe('version[0].sequence');
    expect(field({ retentionMS: 5 })).toMatchObject({ field: 'retentionMS', message: expect.stringContaining('retentionMs') });
    expect(field({ retentionMs: 0 }).field).toBe('retentionMs');
    expect(field({ leaseMs: -1 }).field).toBe('leaseMs');
    expect(field({ namespace: 'has space' }).field).toBe('namespace');
    expect(field({ onStale: 'log' }).field).toBe('onStale');
    expect(field({ store: { name: 'plain', claim() {} } })).toMatchObject({ field: 'store', message: expect.stringContaining('"plain"') });
  });
});

describe('encodeVersion / decodeVersion', () => {
  it('decodes what it encodes, always as a tuple', () => {
    expect(decodeVersion(encodeVersion([1709806530000, 'evt-é', 2n ** 80n, 0]))).toEqual([1709806530000, 'evt-é', 2n ** 80n, 0]);
    expect(decodeVersion(encodeVersion(7))).toEqual([7]);
    expect(() => decodeVersion('x12')).toThrow(SyntaxError);
    expect(() => decodeVersion('n12')).toThrow(SyntaxError);
    expect(() => encodeVersion(-1n)).toThrow(ConfigError);
  });
});
