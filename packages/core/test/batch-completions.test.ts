import { describe, expect, it } from 'vitest';
import { IdempotencyEngine, LeaseLostError, MemoryStore, type CompleteRequest, type IdempotencyStore } from '../src/index.js';
import { gate } from './support/stores.js';

// completion: 'each' sends each item's completion right after its handler and runs the next item
// while it travels; the batch answers once every completion has. These tests hold completions at a
// gate to see what runs meanwhile, and fail them to see that the outcome follows the completion.

const byId = { strategy: 'eventId' } as const;
const items = (...ids: string[]) => ids.map((id, i) => ({ id: `m${i + 1}`, event: { id } }));

/** A MemoryStore whose completions wait at a gate (per key) and may fail instead of landing. */
function heldCompletions(options: { transactional?: boolean } = {}) {
  const store = new MemoryStore() as MemoryStore & { transactional?: boolean };
  if (options.transactional) store.transactional = true;
  const sent: string[] = [];
  const gates = new Map<string, ReturnType<typeof gate<Error | undefined>>>();
  const gateOf = (key: string) => {
    let held = gates.get(key);
    if (held === undefined) gates.set(key, (held = gate<Error | undefined>()));
    return held;
  };
  const waiting: Array<{ count: number; open(): void }> = [];
  /** Resolves once `count` completions have been sent. */
  const whenSent = (count: number) => new Promise<void>((open) => (sent.length >= count ? open() : waiting.push({ count, open })));
  const complete = store.complete.bind(store);
  store.complete = async (request: CompleteRequest) => {
    sent.push(request.key);
    for (const waiter of waiting) if (sent.length >= waiter.count) waiter.open();
    const failure = await gateOf(request.key).promise;
    if (failure !== undefined) throw failure;
    return complete(request);
  };
  const release = (id: string, failure?: Error) => gateOf(`idemkit:eventId:${id}`).open(failure);
  return { store: store as IdempotencyStore, sent, release, whenSent };
}

describe("runBatch, completion: 'each': completions travel while later items run", () => {
  it('runs the next item while the previous completion is in flight, and answers only once every completion landed', async () => {
    const { store, sent, release, whenSent } = heldCompletions();
    const engine = new IdempotencyEngine<{ id: string }, unknown>({ store, strategy: byId });
    const ran: string[] = [];
    let answered = false;
    const batch = engine
      .runBatch(items('a', 'b', 'c'), async (event) => {
        ran.push(event.id);
        return `done ${event.id}`;
      })
      .then((outcomes) => ((answered = true), outcomes));
    await whenSent(3);
    // Every handler ran, each completion was sent right after its own, none has landed yet.
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(sent).toEqual(['idemkit:eventId:a', 'idemkit:eventId:b', 'idemkit:eventId:c']);
    release('a');
    release('c');
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    release('b');
    expect((await batch).map((outcome) => outcome.status)).toEqual(['processed', 'processed', 'processed']);
    expect((await store.get('idemkit:eventId:b'))?.status).toBe('completed');
  });

  it('an item whose completion fails after later items ran is reported failed, and so is its repeat in the batch', async () => {
    const { store, release } = heldCompletions();
    const engine = new IdempotencyEngine<{ id: string }, unknown>({ store, strategy: byId });
    const batch = engine.runBatch(items('a', 'b', 'a'), async (event) => `done ${event.id}`);
    release('a', new LeaseLostError('idemkit:eventId:a', 1));
    release('b');
    const outcomes = await batch;
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['failed', 'processed', 'failed']);
    expect(outcomes[0]).toMatchObject({ status: 'failed', error: expect.any(LeaseLostError) });
    expect(outcomes[2]).toMatchObject({ status: 'failed', error: expect.any(LeaseLostError) });
  });

  it('a repeat of an item whose completion landed is its duplicate, with its result', async () => {
    const { store, release } = heldCompletions();
    const engine = new IdempotencyEngine<{ id: string }, unknown>({ store, strategy: byId });
    let runs = 0;
    const batch = engine.runBatch(items('a', 'a'), async (event) => `done ${event.id} ${++runs}`);
    release('a');
    expect(await batch).toEqual([
      { id: 'm1', status: 'processed', result: 'done a 1' },
      { id: 'm2', status: 'duplicate', result: 'done a 1' },
    ]);
    expect(runs).toBe(1);
  });

  for (const [name, setUp] of [
    ['a FIFO batch (stopOnFirstFailure)', () => ({ ...heldCompletions(), options: { stopOnFirstFailure: true } })],
    ['a transactional store', () => ({ ...heldCompletions({ transactional: true }), options: {} })],
  ] as const) {
    it(`${name} waits for each completion before the next item runs`, async () => {
      const { store, sent, release, whenSent, options } = setUp();
      const engine = new IdempotencyEngine<{ id: string }, unknown>({ store, strategy: byId });
      const ran: string[] = [];
      const batch = engine.runBatch(items('a', 'b'), async (event) => void ran.push(event.id), options);
      await whenSent(1);
      // Let everything that is not waiting for the completion run: b must still not have started.
      await new Promise((resolve) => setImmediate(resolve));
      expect(ran).toEqual(['a']);
      expect(sent).toEqual(['idemkit:eventId:a']);
      release('a');
      release('b');
      expect((await batch).map((outcome) => outcome.status)).toEqual(['processed', 'processed']);
      expect(ran).toEqual(['a', 'b']);
    });
  }
});
