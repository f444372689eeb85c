import fc from 'fast-check';
import { anyOf, eventId, stateWindow } from '../../src/index.js';

// Genesys-like conversation state events and generated streams of them: shared by core's engine
// tests (on MemoryStore) and the bench's check of the same streams on the real stores.

export const T0 = 1_709_806_530_000;
export const WINDOW = 500;

export interface StateEvent {
  id: string;
  detail: { conversationId: string; status: string; eventTime: number };
}

export const stateEvent = (id: string, conversationId: string, eventTime: number, status = 'connected'): StateEvent => ({
  id,
  detail: { conversationId, status, eventTime },
});

export const byState = () => stateWindow({ entity: 'detail.conversationId', state: 'detail.status', time: 'detail.eventTime', windowMs: WINDOW });
export const byIdOrState = () => anyOf<StateEvent>([eventId(), byState()]);

/**
 * Generated streams: conversations with several logical events each (clusters of occurrences a
 * window or more apart), each delivered as exact redeliveries and re-sends with new ids inside
 * its cluster, then shuffled; delivered one by one or in SQS-sized batches. `idPrefix` starts
 * every id of one stream, so streams on a shared store never meet.
 */
export function stateStreams(idPrefix: () => string = () => '') {
  const cluster = fc.record({
    gap: fc.integer({ min: WINDOW, max: 5 * WINDOW }),
    deliveries: fc.array(fc.record({ offset: fc.integer({ min: 0, max: WINDOW / 2 - 1 }), reSend: fc.boolean() }), {
      minLength: 1,
      maxLength: 4,
    }),
  });
  return fc
    .record({
      conversations: fc.array(fc.array(cluster, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
      order: fc.array(fc.nat(), { minLength: 64, maxLength: 64 }),
      batchSize: fc.integer({ min: 1, max: 10 }),
    })
    .map(({ conversations, order, batchSize }) => {
      const prefix = idPrefix();
      const deliveries: Array<{ logical: number; event: StateEvent }> = [];
      let logical = 0;
      conversations.forEach((clusters, c) => {
        let at = T0;
        for (const { gap, deliveries: copies } of clusters) {
          const first = `${prefix}c${c}-e${logical}`;
          copies.forEach(({ offset, reSend }, copy) => {
            // A re-send has a new id and a nearby time; a redelivery repeats the first delivery exactly.
            const event = reSend || copy === 0 ? stateEvent(copy === 0 ? first : `${first}-r${copy}`, `${prefix}conv-${c}`, at + offset) : stateEvent(first, `${prefix}conv-${c}`, at + copies[0]!.offset);
            deliveries.push({ logical, event });
          });
          at += Math.max(...copies.map((copy) => copy.offset)) + gap;
          logical++;
        }
      });
      const shuffled = deliveries
        .map((delivery, i) => ({ delivery, rank: order[i % order.length]! * 1_000 + i }))
        .sort((a, b) => a.rank - b.rank)
        .map(({ delivery }) => delivery);
      return { logicalEvents: logical, deliveries: shuffled, batchSize };
    });
}
