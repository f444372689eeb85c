// The ordering guard over generated streams: shuffled deliveries with redeliveries and equal event
// times, sequential, concurrent, and under random interleavings of every store call, converge on
// each entity's newest event and never move an entity's version backwards.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  currentClaim,
  decodeVersion,
  encodeVersion,
  IdempotencyInProgressError,
  idempotent,
  LeaseLostError,
  MemoryStore,
  ordered,
  type VersionElement,
  type VersionStore,
} from '../src/index.js';
import { createBarrier, manualClock, type ManualClock } from '../src/testing/index.js';

interface StateEvent {
  id: string;
  detail: { conversationId: string; eventTime: string; state: string };
}

const LEASE_MS = 1_000;
const ordering = { entity: 'detail.conversationId', version: ['detail.eventTime', 'id'] } as const;
const versionOf = (event: StateEvent) => encodeVersion([Date.parse(event.detail.eventTime), event.id]);
const entityKey = (conversationId: string) => `idemkit:@ordering:${conversationId}`;

/** A stream: distinct events (few entities, few distinct times: many ties) and their shuffled deliveries, redeliveries included. */
const streams = fc
  .array(
    fc.record({
      entity: fc.integer({ min: 0, max: 2 }),
      second: fc.integer({ min: 0, max: 3 }),
      state: fc.constantFrom('alerting', 'connected', 'disconnected'),
    }),
    { minLength: 1, maxLength: 16 },
  )
  .map((specs) =>
    specs.map(
      (spec, index): StateEvent => ({
        id: `e-${index}`,
        detail: { conversationId: `c-${spec.entity}`, eventTime: new Date(Date.UTC(2026, 2, 7, 10, 0, spec.second)).toISOString(), state: spec.state },
      }),
    ),
  )
  .chain((events) =>
    fc
      .array(fc.nat({ max: events.length - 1 }), { maxLength: 8 })
      .map((repeats) => [...events, ...repeats.map((index) => structuredClone(events[index]!))])
      .chain((deliveries) => fc.shuffledSubarray(deliveries, { minLength: deliveries.length, maxLength: deliveries.length }))
      .map((deliveries) => ({ events, deliveries })),
  );

/** The conversation-state table a handler writes: one row per entity, each write fenced by the entity's token. */
class StateTable {
  readonly rows = new Map<string, { eventId: string; token: number }>();
  /** Every handler run, in start order: entity → encoded versions. */
  readonly runs = new Map<string, string[]>();

  started(event: StateEvent): void {
    const entity = event.detail.conversationId;
    this.runs.set(entity, [...(this.runs.get(entity) ?? []), versionOf(event)]);
  }

  write(event: StateEvent, token: number): void {
    const row = this.rows.get(event.detail.conversationId);
    if (row === undefined || row.token < token) this.rows.set(event.detail.conversationId, { eventId: event.id, token });
  }
}

type Deliver = (event: StateEvent) => Promise<unknown>;

/** The two ways to run the guard: on its own, and after dedup in idempotent(). */
const MODES: Record<string, (store: MemoryStore, table: StateTable, pause: () => Promise<void>) => Deliver> = {
  'ordered()': (store, table, pause) =>
    ordered(
      async (event: StateEvent, claim) => {
        table.started(event);
        await pause();
        table.write(event, claim!.fencingToken);
      },
      { store, ...ordering, leaseMs: LEASE_MS },
    ),
  'idempotent() with ordering': (store, table, pause) =>
    idempotent(
      async (event: StateEvent) => {
        table.started(event);
        await pause();
        table.write(event, currentClaim()!.ordering!.fencingToken);
      },
      { store, strategy: { strategy: 'eventId' }, ordering, leaseMs: LEASE_MS },
    ),
};

/** Delivers until the delivery is answered, retrying what a queue would redeliver (in progress, lease lost). */
async function deliverUntilAnswered(deliver: Deliver, event: StateEvent, yieldTurn: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await deliver(event);
      return;
    } catch (error) {
      if (!(error instanceof IdempotencyInProgressError) && !(error instanceof LeaseLostError)) throw error;
      if (attempt > 10_000) throw new Error(`delivery ${event.id} was never answered`);
      await yieldTurn();
    }
  }
}

/** Checks that no entity's applied version has moved backwards since the last check. */
function versionWatch(store: VersionStore, events: readonly StateEvent[]): () => Promise<void> {
  const entities = [...new Set(events.map((event) => entityKey(event.detail.conversationId)))];
  const highest = new Map<string, string>();
  return async () => {
    for (const entity of entities) {
      const applied = (await store.getVersion(entity))?.applied ?? '';
      expect(applied >= (highest.get(entity) ?? ''), entity).toBe(true);
      highest.set(entity, applied);
    }
  };
}

function expectConverged(table: StateTable, events: readonly StateEvent[], store: VersionStore): Promise<void> {
  const newest = new Map<string, StateEvent>();
  for (const event of events) {
    const best = newest.get(event.detail.conversationId);
    if (best === undefined || versionOf(event) > versionOf(best)) newest.set(event.detail.conversationId, event);
  }
  return (async () => {
    for (const [entity, event] of newest) {
      expect(table.rows.get(entity)?.eventId).toBe(event.id);
      expect((await store.getVersion(entityKey(entity)))?.applied).toBe(versionOf(event));
    }
  })();
}

function expectRunsRising(table: StateTable): void {
  for (const runs of table.runs.values()) {
    for (let i = 1; i < runs.length; i++) expect(runs[i]! > runs[i - 1]!).toBe(true);
  }
}

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

describe.each(Object.keys(MODES))('%s over generated streams', (mode) => {
  const build = MODES[mode]!;

  it('one delivery at a time: every entity ends on its newest event, each handler run newer than the last', async () => {
    await fc.assert(
      fc.asyncProperty(streams, async ({ events, deliveries }) => {
        const store = new MemoryStore();
        const table = new StateTable();
        const deliver = build(store, table, async () => undefined);
        for (const event of deliveries) await deliver(event);
        expectRunsRising(table);
        await expectConverged(table, events, store);
      }),
      { numRuns: 100 },
    );
  });

  it('four concurrent writers: versions never move backwards, and every entity ends on its newest event', async () => {
    await fc.assert(
      fc.asyncProperty(streams, async ({ events, deliveries }) => {
        const store = new MemoryStore();
        const check = versionWatch(store, events);
        const table = new StateTable();
        const deliver = build(store, table, immediate);
        const queue = [...deliveries];
        const barrier = createBarrier(4);
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            await barrier.wait();
            for (let event = queue.shift(); event !== undefined; event = queue.shift()) {
              await deliverUntilAnswered(deliver, event, immediate);
              await check();
            }
          }),
        );
        expectRunsRising(table);
        await expectConverged(table, events, store);
      }),
      { numRuns: 40 },
    );
  });

  it('random interleavings of every store call and handler step: runs rise per entity and the newest event wins', async () => {
    await fc.assert(
      fc.asyncProperty(streams, fc.scheduler(), async ({ events, deliveries }, s) => {
        const inner = new MemoryStore();
        const store = scheduledStore(inner, s);
        const table = new StateTable();
        const deliver = build(store, table, () => s.schedule(Promise.resolve(), 'handler'));
        const answered = deliveries.map((event) => deliverUntilAnswered(deliver, event, () => s.schedule(Promise.resolve(), 'retry')));
        await s.waitFor(Promise.all(answered));
        expectRunsRising(table);
        await expectConverged(table, events, inner);
      }),
      { numRuns: 60 },
    );
  });

  it('with leases lapsing at random moments: the applied version never moves backwards, and the newest event still wins', async () => {
    await fc.assert(
      fc.asyncProperty(streams, fc.scheduler(), fc.integer({ min: 1, max: 6 }), async ({ events, deliveries }, s, lapses) => {
        const clock = manualClock();
        const inner = new MemoryStore({ clock: clock.now });
        const store = scheduledStore(inner, s, versionWatch(inner, events));
        const table = new StateTable();
        const deliver = build(store, table, () => s.schedule(Promise.resolve(), 'handler'));
        const answered = deliveries.map((event) => deliverUntilAnswered(deliver, event, () => s.schedule(Promise.resolve(), 'retry')));
        const ticks = Array.from({ length: lapses }, () => lapse(s, clock));
        await s.waitFor(Promise.all([...answered, ...ticks]));
        await expectConverged(table, events, inner);
      }),
      { numRuns: 60 },
    );
  });
});

/** A store whose every call waits for the scheduler before it runs, and again before its reply arrives. */
function scheduledStore(store: MemoryStore, s: fc.Scheduler, afterEach?: () => Promise<void>): MemoryStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'constructor') return value;
      return async (...args: unknown[]) => {
        await s.schedule(Promise.resolve(), String(property));
        const result = await value.apply(target, args);
        await afterEach?.();
        return s.schedule(Promise.resolve(result), `${String(property)} reply`);
      };
    },
  });
}

/** A lease-length jump of the clock at a moment the scheduler picks: every running claim lapses. */
async function lapse(s: fc.Scheduler, clock: ManualClock): Promise<void> {
  await s.schedule(Promise.resolve(), 'lapse');
  clock.advance(LEASE_MS);
}

describe('encodeVersion order', () => {
  const element: fc.Arbitrary<VersionElement> = fc.oneof(
    fc.nat({ max: 40 }),
    fc.maxSafeNat(),
    fc.bigInt({ min: 0n, max: 2n ** 200n }),
    fc.string({ unit: 'grapheme', maxLength: 4 }),
  );
  const versions = fc.array(element, { minLength: 1, maxLength: 3 });

  it('compares encoded versions bytewise exactly as their tuples compare (numbers before text, text by UTF-8 bytes)', () => {
    fc.assert(
      fc.property(versions, versions, (a, b) => {
        const [x, y] = [encodeVersion(a), encodeVersion(b)];
        expect(/^[\x21-\x7e]+$/.test(x)).toBe(true);
        expect(Math.sign(Buffer.compare(Buffer.from(x), Buffer.from(y)))).toBe(compareTuples(a, b));
      }),
      { numRuns: 500 },
    );
  });

  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(versions, (version) => {
        expect(decodeVersion(encodeVersion(version))).toEqual(version.map((e) => (typeof e === 'bigint' && e <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(e) : e)));
      }),
    );
  });
});

function compareTuples(a: readonly VersionElement[], b: readonly VersionElement[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = compareElements(a[i]!, b[i]!);
    if (order !== 0) return order;
  }
  return Math.sign(a.length - b.length);
}

function compareElements(a: VersionElement, b: VersionElement): number {
  const textA = typeof a === 'string';
  const textB = typeof b === 'string';
  if (textA !== textB) return textA ? 1 : -1;
  if (textA && textB) return Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  const [x, y] = [BigInt(a as number | bigint), BigInt(b as number | bigint)];
  return x === y ? 0 : x < y ? -1 : 1;
}
