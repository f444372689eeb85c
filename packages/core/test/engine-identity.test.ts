import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IdempotencyEngine,
  IdempotencyInProgressError,
  MemoryStore,
  type BatchItem,
  type IdempotencyStore,
} from '../src/index.js';
import { T0, byIdOrState, byState, stateEvent, stateStreams, type StateEvent } from './support/state-streams.js';
import { manualClock } from '../src/testing/index.js';
import { gate } from './support/stores.js';

// Logical-event identity through the engine: occurrence history, several identities per event,
// and batches judged against themselves by the same rules as against the store.

function engineOn(store: IdempotencyStore, strategy = byIdOrState()) {
  return new IdempotencyEngine<StateEvent, string>({ store, strategy });
}

describe('engine: occurrence history', () => {
  it('a late redelivery after a legitimate repeat is a duplicate, not a second run', async () => {
    const engine = engineOn(new MemoryStore(), byState() as never);
    const runs: string[] = [];
    const handler = async (event: StateEvent) => {
      runs.push(event.id);
      return event.id;
    };
    expect(await engine.run(stateEvent('a', 'c-1', T0), handler)).toBe('a');
    expect(await engine.run(stateEvent('b', 'c-1', T0 + 60_000), handler)).toBe('b');
    // EventBridge retries `a` minutes later: the stored result of the first occurrence comes back.
    expect(await engine.run(stateEvent('a', 'c-1', T0), handler)).toBe('a');
    expect(runs).toEqual(['a', 'b']);
  });
});

describe('engine: anyOf identities', () => {
  it('runs once for a redelivery, a re-send with a new id, and runs a legitimate repeat', async () => {
    const store = new MemoryStore();
    const engine = engineOn(store);
    const runs: string[] = [];
    const handler = async (event: StateEvent) => {
      runs.push(event.id);
      return `ran ${event.id}`;
    };
    await engine.run(stateEvent('e-1', 'c-1', T0), handler);
    expect(await engine.run(stateEvent('e-1', 'c-1', T0), handler)).toBe('ran e-1');
    expect(await engine.run(stateEvent('e-2', 'c-1', T0 + 120), handler)).toBe('ran e-1');
    await engine.run(stateEvent('e-3', 'c-1', T0 + 90_000), handler);
    expect(runs).toEqual(['e-1', 'e-3']);
    // Every identity of e-1 was completed with it.
    for (const key of engine.identitiesFor(stateEvent('e-1', 'c-1', T0))) {
      expect((await store.get(key))?.status).toBe('completed');
    }
  });

  it('a handler that throws releases every identity, so the retry runs', async () => {
    const store = new MemoryStore();
    const engine = engineOn(store);
    const event = stateEvent('e-1', 'c-1', T0);
    await expect(engine.run(event, async () => Promise.reject(new Error('downstream down')))).rejects.toThrow('downstream down');
    for (const key of engine.identitiesFor(event)) expect(await store.get(key)).toBeUndefined();
    expect(await engine.run(event, async () => 'second try')).toBe('second try');
  });

  it('gives the handler the fencing tokens of every identity', async () => {
    const engine = engineOn(new MemoryStore());
    const seen = await engine.run(stateEvent('e-1', 'c-1', T0), async (_event, claim) => JSON.stringify(claim));
    const claim = JSON.parse(seen) as { key: string; fencingToken: number; also: Array<{ key: string; fencingToken: number }> };
    expect(claim.key).toBe('idemkit:eventId:e-1');
    expect(claim.also.map((identity) => identity.key)).toEqual(['idemkit:stateWindow:c-1:connected']);
    expect(claim.also[0]!.fencingToken).toBeGreaterThan(0);
  });

  it('an in-flight re-send with a new id is refused as in progress, leaving nothing behind', async () => {
    const store = new MemoryStore();
    const engine = engineOn(store);
    const hold = gate();
    const started = gate();
    const first = engine.run(stateEvent('e-1', 'c-1', T0), async () => {
      started.open();
      await hold.promise;
      return 'first';
    });
    await started.promise;
    const reSend = stateEvent('e-2', 'c-1', T0 + 50);
    await expect(engine.run(reSend, async () => 'second')).rejects.toBeInstanceOf(IdempotencyInProgressError);
    expect(await store.get(engine.keyFor(reSend))).toBeUndefined();
    hold.open();
    expect(await first).toBe('first');
  });

  it('completes the identities still held when one was taken over after the lease lapsed', async () => {
    const clock = manualClock(T0);
    const store = new MemoryStore({ clock: clock.now });
    const engine = new IdempotencyEngine<StateEvent, string>({ store, strategy: byIdOrState(), leaseMs: 1_000 });
    const hold = gate();
    const started = gate();
    const slow = engine.run(stateEvent('e-1', 'c-1', T0), async () => {
      started.open();
      await hold.promise;
      return 'slow';
    });
    await started.promise;
    clock.advance(1_000);
    // A re-send takes the lapsed state-window identity over and runs (the lease was too short).
    await engine.run(stateEvent('e-2', 'c-1', T0 + 10), async () => 're-send');
    hold.open();
    expect(await slow).toBe('slow');
    // The envelope id of e-1 is still recorded as done: its redelivery must not run a third time.
    expect((await store.get('idemkit:eventId:e-1'))?.status).toBe('completed');
  });
});

describe('engine: batches judged against themselves', () => {
  const items = (events: StateEvent[]): BatchItem<StateEvent>[] => events.map((event, i) => ({ id: `m-${i}`, event }));

  it('two distinct occurrences of one entity + state in one batch both run; a real repeat is a duplicate', async () => {
    const engine = engineOn(new MemoryStore(), byState() as never);
    const runs: string[] = [];
    const outcomes = await engine.runBatch(
      items([stateEvent('a', 'c-1', T0), stateEvent('b', 'c-1', T0 + 10_000), stateEvent('a2', 'c-1', T0 + 30)]),
      async (event) => {
        runs.push(event.id);
        return event.id;
      },
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['processed', 'processed', 'duplicate']);
    expect(outcomes[2]).toMatchObject({ status: 'duplicate', result: 'a' });
    expect(runs).toEqual(['a', 'b']);
  });

  it('a repeat of an item that failed fails too, so the queue redelivers both', async () => {
    const engine = engineOn(new MemoryStore());
    const outcomes = await engine.runBatch(items([stateEvent('a', 'c-1', T0), stateEvent('a', 'c-1', T0)]), async () => {
      throw new Error('boom');
    });
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['failed', 'failed']);
  });

  it('with completion: batch, repeats still answer with the earlier item’s result', async () => {
    const engine = engineOn(new MemoryStore());
    const outcomes = await engine.runBatch(
      items([stateEvent('a', 'c-1', T0), stateEvent('b', 'c-1', T0 + 5), stateEvent('c', 'c-2', T0)]),
      async (event) => event.id,
      { completion: 'batch' },
    );
    expect(outcomes.map((outcome) => [outcome.status, 'result' in outcome ? outcome.result : undefined])).toEqual([
      ['processed', 'a'],
      ['duplicate', 'a'],
      ['processed', 'c'],
    ]);
  });
});

describe('engine: generated streams run every logical event exactly once', () => {
  for (const [name, strategy] of [
    ['stateWindow', byState],
    ['anyOf(eventId, stateWindow)', byIdOrState],
  ] as const) {
    it(`${name}, one delivery at a time`, async () => {
      await fc.assert(
        fc.asyncProperty(stateStreams(), async ({ logicalEvents, deliveries }) => {
          const engine = engineOn(new MemoryStore(), strategy() as never);
          const runs = new Array<number>(logicalEvents).fill(0);
          for (const { logical, event } of deliveries) {
            await engine.run(event, async () => {
              runs[logical]!++;
              return 'ok';
            });
          }
          expect(runs).toEqual(new Array(logicalEvents).fill(1));
        }),
        { numRuns: 200 },
      );
    });

    it(`${name}, in SQS batches (redelivering failed records)`, async () => {
      await fc.assert(
        fc.asyncProperty(stateStreams(), async ({ logicalEvents, deliveries, batchSize }) => {
          const engine = engineOn(new MemoryStore(), strategy() as never);
          const runs = new Array<number>(logicalEvents).fill(0);
          let queue = deliveries;
          for (let round = 0; queue.length > 0; round++) {
            if (round > 50) throw new Error('records kept failing');
            const failed: typeof deliveries = [];
            for (let start = 0; start < queue.length; start += batchSize) {
              const batch = queue.slice(start, start + batchSize);
              const outcomes = await engine.runBatch(
                batch.map(({ event }, i) => ({ id: String(i), event })),
                async (event) => {
                  runs[batch.find((delivery) => delivery.event === event)!.logical]!++;
                  return 'ok';
                },
              );
              outcomes.forEach((outcome, i) => {
                if (outcome.status === 'failed') failed.push(batch[i]!);
              });
            }
            queue = failed;
          }
          expect(runs).toEqual(new Array(logicalEvents).fill(1));
        }),
        { numRuns: 200 },
      );
    });
  }
});
