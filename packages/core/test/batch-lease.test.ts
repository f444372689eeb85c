import { describe, expect, it } from 'vitest';
import { IdempotencyEngine, LeaseLostError, MemoryStore } from '../src/index.js';
import { manualClock } from '../src/testing/index.js';

// Every claim of a batch is taken up front; items run one after another. An item whose claim lapsed
// before its turn must not run: another delivery may hold it by now.

const T0 = 1_709_806_530_000;

function setup() {
  const clock = manualClock(T0);
  const store = new MemoryStore({ clock: clock.now });
  const engine = new IdempotencyEngine<{ id: string }, string>({ store, strategy: { strategy: 'eventId' }, leaseMs: 1_000, clock: clock.now });
  return { clock, store, engine };
}

describe('a slow batch whose later claims lapse before their turn', () => {
  it('does not run an item another delivery took over meanwhile, and fails it for redelivery', async () => {
    const { clock, store, engine } = setup();
    const ran: string[] = [];
    const outcomes = await engine.runBatch(
      [
        { id: 'm-1', event: { id: 'slow' } },
        { id: 'm-2', event: { id: 'late' } },
      ],
      async (event) => {
        ran.push(event.id);
        if (event.id === 'slow') {
          clock.advance(1_500);
          // Meanwhile another instance receives `late` again and takes its lapsed claim over.
          const other = new IdempotencyEngine<{ id: string }, string>({ store, strategy: { strategy: 'eventId' }, leaseMs: 1_000, clock: clock.now });
          await other.run({ id: 'late' }, async () => {
            ran.push('late@other');
            return 'other';
          });
        }
        return event.id;
      },
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['processed', 'failed']);
    expect(outcomes[1]!.status === 'failed' && outcomes[1]!.error).toBeInstanceOf(LeaseLostError);
    expect(ran).toEqual(['slow', 'late@other']);
  });

  it('a lapsed claim nobody took is released unrun, so its redelivery runs it once', async () => {
    const { clock, engine } = setup();
    const ran: string[] = [];
    const handler = async (event: { id: string }) => {
      ran.push(event.id);
      if (event.id === 'slow') clock.advance(1_500);
      return event.id;
    };
    const items = [
      { id: 'm-1', event: { id: 'slow' } },
      { id: 'm-2', event: { id: 'late' } },
    ];
    const first = await engine.runBatch(items, handler);
    expect(first.map((outcome) => outcome.status)).toEqual(['processed', 'failed']);
    const again = await engine.runBatch([items[1]!], handler);
    expect(again.map((outcome) => outcome.status)).toEqual(['processed']);
    expect(ran).toEqual(['slow', 'late']);
  });

  it('extends a claim with less than half its lease left before running it, so nobody takes it over mid-run', async () => {
    const { clock, store, engine } = setup();
    let takenOver: boolean | undefined;
    const outcomes = await engine.runBatch(
      [
        { id: 'm-1', event: { id: 'a' } },
        { id: 'm-2', event: { id: 'b' } },
      ],
      async (event) => {
        clock.advance(event.id === 'a' ? 700 : 600);
        if (event.id === 'b') {
          // 1.3 s after claimMany: past the first lease, inside the extended one.
          takenOver = (await store.claim({ key: engine.keyFor({ id: 'b' }), leaseMs: 1_000, retentionMs: 60_000 })).acquired;
        }
        return event.id;
      },
    );
    expect(takenOver).toBe(false);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['processed', 'processed']);
    expect((await store.get(engine.keyFor({ id: 'b' })))?.status).toBe('completed');
  });
});
