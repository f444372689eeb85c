import { describe, expect, it } from 'vitest';
import { IdempotencyEngine, IdempotencyKeyConflictError, MemoryStore } from '../src/index.js';

// A repeat inside one batch (the same logical event twice in one SQS batch) is answered from the
// earlier item, and must be judged exactly as a repeat meeting a stored record would be.

const byId = { strategy: 'eventId' } as const;

describe('repeats inside one batch', () => {
  it('a duplicateResponse that throws for a repeat fails that item alone; the rest of the batch runs', async () => {
    const store = new MemoryStore();
    const engine = new IdempotencyEngine<{ id: string }, string>({
      store,
      strategy: byId,
      duplicateResponse: () => {
        throw new Error('no answer');
      },
    });
    const ran: string[] = [];
    const outcomes = await engine.runBatch(
      [
        { id: 'm1', event: { id: 'a' } },
        { id: 'm2', event: { id: 'a' } },
        { id: 'm3', event: { id: 'b' } },
      ],
      async (event) => (ran.push(event.id), `done ${event.id}`),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['processed', 'failed', 'processed']);
    expect(outcomes[1]).toMatchObject({ error: new Error('no answer') });
    expect(ran).toEqual(['a', 'b']);
    // Nothing is left in progress: the later item ran and completed.
    expect((await store.get('idemkit:eventId:b'))?.status).toBe('completed');
  });

  it('compares a repeat’s payload with the earlier item’s, as it would with a stored record', async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (message: string) => void warnings.push(message), error() {} };
    const items = [
      { id: 'm1', event: { id: 'a', amount: 1 } },
      { id: 'm2', event: { id: 'a', amount: 2 } },
      { id: 'm3', event: { id: 'a', amount: 1 } },
    ];
    const strict = new IdempotencyEngine<{ id: string; amount: number }, string>({ store: new MemoryStore(), strategy: byId, payloadMismatch: 'error' });
    const outcomes = await strict.runBatch(items, async (event) => `charged ${event.amount}`);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['processed', 'failed', 'duplicate']);
    expect(outcomes[1]).toMatchObject({ error: expect.any(IdempotencyKeyConflictError) });

    const lenient = new IdempotencyEngine<{ id: string; amount: number }, string>({ store: new MemoryStore(), strategy: byId, payloadMismatch: 'warn', logger });
    const answered = await lenient.runBatch(items, async (event) => `charged ${event.amount}`);
    expect(answered.map((outcome) => outcome.status)).toEqual(['processed', 'duplicate', 'duplicate']);
    expect(warnings).toEqual(['idempotency: payload differs from the first delivery of this key']);
  });
});
