// The `ordering` option of idempotent() and the engine: dedup first, then the ordering guard.
import { describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  currentClaim,
  encodeVersion,
  IdempotencyEngine,
  IdempotencyInProgressError,
  KeyExtractionError,
  MemoryStore,
  idempotent,
  type ActiveClaim,
  type IdempotencyOutcome,
  type IdempotencyStore,
} from '../src/index.js';
import { holding } from './support/holding.js';

interface StateEvent {
  id: string;
  detail: { conversationId: string; eventTime: string; state: string };
}

const at = (second: number) => new Date(Date.UTC(2026, 2, 7, 10, 0, second)).toISOString();
const stateEvent = (id: string, conversationId: string, second: number, state = 'connected'): StateEvent => ({
  id,
  detail: { conversationId, eventTime: at(second), state },
});
const ordering = { entity: 'detail.conversationId', version: ['detail.eventTime', 'id'] } as const;
const byId = { strategy: 'eventId' } as const;

function setup(extra: { store?: MemoryStore; ordering?: unknown } = {}) {
  const store = extra.store ?? new MemoryStore();
  const outcomes: IdempotencyOutcome[] = [];
  const state = new Map<string, string>();
  const fn = vi.fn(async (event: StateEvent) => {
    state.set(event.detail.conversationId, event.id);
    return { applied: event.id };
  });
  const handle = idempotent(fn, {
    store,
    strategy: byId,
    ordering: (extra.ordering ?? ordering) as typeof ordering,
    onOutcome: (outcome) => outcomes.push(outcome),
  });
  return { store, outcomes, state, fn, handle, kinds: () => outcomes.map((outcome) => outcome.kind) };
}

describe('idempotent with ordering: both dedup and order must pass', () => {
  it('a redelivery is a dedup duplicate; a distinct older event is stale; both are acknowledged without running fn', async () => {
    const { handle, fn, kinds, state, store } = setup();
    expect(await handle(stateEvent('e-2', 'c-1', 2))).toEqual({ applied: 'e-2' });
    expect(await handle(stateEvent('e-2', 'c-1', 2))).toEqual({ applied: 'e-2' });
    expect(await handle(stateEvent('e-1', 'c-1', 1))).toBeUndefined();
    // The stale event's dedup claim completed: its redelivery is a plain duplicate.
    expect(await handle(stateEvent('e-1', 'c-1', 1))).toBeUndefined();
    expect((await store.get('idemkit:eventId:e-1'))?.status).toBe('completed');

    expect(fn.mock.calls.map(([event]) => event.id)).toEqual(['e-2']);
    expect(kinds()).toEqual(['processed', 'duplicate', 'stale', 'duplicate']);
    expect(state.get('c-1')).toBe('e-2');
  });

  it('tells onFirstRun only of events the guard lets run', async () => {
    const kinds: string[] = [];
    const firstRuns: string[] = [];
    const handle = idempotent(async (event: StateEvent) => event.id, {
      store: new MemoryStore(),
      strategy: byId,
      ordering,
      onOutcome: (outcome) => kinds.push(outcome.kind),
      onFirstRun: ({ key }) => firstRuns.push(key),
    });
    await handle(stateEvent('e-2', 'c-1', 2));
    await handle(stateEvent('e-1', 'c-1', 1));
    expect(kinds).toEqual(['processed', 'stale']);
    expect(firstRuns).toEqual(['idemkit:eventId:e-2']);
  });

  it('dedup answers first: a redelivery never reaches the version store', async () => {
    const { handle, store } = setup();
    await handle(stateEvent('e-1', 'c-1', 1));
    const claimVersion = vi.spyOn(store, 'claimVersion');
    await handle(stateEvent('e-1', 'c-1', 1));
    expect(claimVersion).not.toHaveBeenCalled();
  });

  it('a new event id with the version already applied is a duplicate of that version (a re-send)', async () => {
    const { handle, fn, kinds } = setup({ ordering: { entity: 'detail.conversationId', version: 'detail.eventTime' } });
    await handle(stateEvent('e-1', 'c-1', 1));
    expect(await handle(stateEvent('e-1-resent', 'c-1', 1))).toBeUndefined();
    expect(fn).toHaveBeenCalledTimes(1);
    expect(kinds()).toEqual(['processed', 'duplicate']);
  });

  it('another version running: in_progress (retryable), and the dedup claim is released so the retry runs', async () => {
    const held = holding((event: StateEvent) => event.id === 'e-1', (event) => event.id);
    const store = new MemoryStore();
    const outcomes: string[] = [];
    const handle = idempotent(held.fn, {
      store,
      strategy: byId,
      ordering,
      onOutcome: (outcome) => outcomes.push(outcome.kind),
    });
    const first = handle(stateEvent('e-1', 'c-1', 1));
    await held.started;
    await expect(handle(stateEvent('e-2', 'c-1', 2))).rejects.toBeInstanceOf(IdempotencyInProgressError);
    expect(await store.get('idemkit:eventId:e-2')).toBeUndefined();
    held.release();
    await first;
    expect(await handle(stateEvent('e-2', 'c-1', 2))).toBe('e-2');
    expect(outcomes).toEqual(['in_progress', 'processed', 'processed']);
  });

  it('fn throwing releases both claims; the retry runs', async () => {
    const { handle, fn, store, kinds } = setup();
    fn.mockRejectedValueOnce(new Error('crm down'));
    await expect(handle(stateEvent('e-1', 'c-1', 1))).rejects.toThrow('crm down');
    expect(await store.get('idemkit:eventId:e-1')).toBeUndefined();
    expect((await store.getVersion('idemkit:@ordering:c-1'))?.pending).toBeUndefined();
    expect(await handle(stateEvent('e-1', 'c-1', 1))).toEqual({ applied: 'e-1' });
    expect(kinds()).toEqual(['failed', 'processed']);
  });

  it('fn sees the dedup claim and, beside it, the version claim of its entity', async () => {
    const store = new MemoryStore();
    let seen: ActiveClaim | undefined;
    const handle = idempotent(async (_event: StateEvent) => void (seen = currentClaim()), { store, strategy: byId, ordering });
    await handle(stateEvent('e-1', 'c-1', 1));
    expect(seen).toMatchObject({ key: 'idemkit:eventId:e-1', ordering: { entity: 'idemkit:@ordering:c-1', version: [Date.parse(at(1)), 'e-1'] } });
    expect((await store.get('idemkit:eventId:e-1'))?.fencingToken).toBe(seen!.fencingToken);
    expect((await store.getVersion('idemkit:@ordering:c-1'))?.fencingToken).toBe(seen!.ordering!.fencingToken);
  });

  it('an event without a version fails before anything is claimed, as invalid_key', async () => {
    const { handle, store, kinds } = setup();
    const broken = { id: 'e-x', detail: { conversationId: 'c-1', state: 'connected' } } as unknown as StateEvent;
    await expect(handle(broken)).rejects.toBeInstanceOf(KeyExtractionError);
    expect(await store.get('idemkit:eventId:e-x')).toBeUndefined();
    expect(kinds()).toEqual(['invalid_key']);
  });

  it('takes the guard as JSON text, and its versions from a store of its own', async () => {
    const versions = new MemoryStore();
    const store = new MemoryStore();
    const engine = new IdempotencyEngine<StateEvent, string>({
      store,
      strategy: byId,
      namespace: 'crm',
      ordering: JSON.stringify(ordering),
    });
    await engine.run(stateEvent('e-1', 'c-1', 1), async (event) => event.id);
    expect((await store.getVersion('crm:@ordering:c-1'))?.applied).toBe(encodeVersion([Date.parse(at(1)), 'e-1']));

    const separate = new IdempotencyEngine<StateEvent, string>({ store: new MemoryStore(), strategy: byId, ordering: { ...ordering, store: versions } });
    await separate.run(stateEvent('e-1', 'c-1', 1), async (event) => event.id);
    expect(await versions.getVersion('idemkit:@ordering:c-1')).toBeDefined();
  });

  it('rejects bad ordering config with a ConfigError naming the field under `ordering`', () => {
    const fieldOf = (value: unknown, store: IdempotencyStore = new MemoryStore()) => {
      try {
        new IdempotencyEngine({ store, strategy: byId, ordering: value as string });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).field;
      }
      throw new Error('accepted');
    };
    expect(fieldOf('{"entity":')).toBe('ordering');
    expect(fieldOf('[]')).toBe('ordering');
    expect(fieldOf({ entity: 'detail.conversationId', version: ['detail.eventTime', ''] })).toBe('ordering.version[1]');
    expect(fieldOf({ entity: 'detail.conversationId', versions: 'x' })).toBe('ordering.versions');
    const withoutVersions = { name: 'legacy', claim: async () => undefined } as unknown as IdempotencyStore;
    expect(fieldOf(ordering, withoutVersions)).toBe('ordering.store');
  });
});

describe('engine batches with ordering', () => {
  it('a stale or already applied record succeeds without running; records of one entity apply in batch order', async () => {
    const store = new MemoryStore();
    const outcomes: string[] = [];
    const ran: string[] = [];
    const engine = new IdempotencyEngine<StateEvent, string>({
      store,
      strategy: byId,
      ordering,
      onOutcome: (outcome) => outcomes.push(outcome.kind),
    });
    await engine.run(stateEvent('e-5', 'c-1', 5), async (event) => event.id);
    outcomes.length = 0;
    const items = [
      stateEvent('e-3', 'c-1', 3), // older than e-5: stale
      stateEvent('e-6', 'c-1', 6),
      stateEvent('e-7', 'c-1', 7),
      stateEvent('e-6', 'c-1', 6), // a repeat inside the batch: dedup
      stateEvent('x-1', 'c-2', 1),
    ].map((event, index) => ({ id: `m-${index}`, event }));
    const results = await engine.runBatch(items, async (event) => (ran.push(event.id), event.id));
    expect(ran).toEqual(['e-6', 'e-7', 'x-1']);
    expect(results.map((result) => result.status)).not.toContain('failed');
    expect(outcomes).toEqual(['stale', 'processed', 'processed', 'duplicate', 'processed']);
    expect((await store.getVersion('idemkit:@ordering:c-1'))?.applied).toBe(encodeVersion([Date.parse(at(7)), 'e-7']));
  });
});
