import type { StoreKind } from '../contenders/types.js';
import type { HarnessOptions } from './types.js';

/**
 * The short form (CI, a few seconds of stream per store) and the long form (`pnpm test:faults`).
 * Leases are short (the visibility timeout plus 100 ms) so lapses and take-overs happen in
 * seconds; the cuts come often enough to land several times in a run.
 */
export function harnessOptions(form: 'short' | 'long', store: StoreKind): HarnessOptions {
  // Slow handlers: a 3 s lease (beaten every second with the heartbeat, so a beat may be late by
  // two seconds — DynamoDB Local under load, a retried request — before the claim lapses) and a
  // redelivery 3.5 s in, when the lease has lapsed unless the heartbeat kept it. Each holds a
  // worker until the redelivery has been judged, so the short form plans only two of each.
  const slowHandler = { leaseMs: 3_000, duplicateAfterMs: 3_500 };
  // Ten workers, eight taking one delivery at a time: lapsed-lease and slow handlers each hold one
  // until another worker has judged a redelivery of their event, and killed workers take seconds
  // to replace; six could all be held. The other two take batches (w3, w7), never a planned event.
  // Postgres workers all migrate as they start (a fresh schema for the first ten, at once); a
  // burst of more starts mid-stream, migrating the current schema while the others claim.
  const common = { store, workers: 10, visibilityMs: 1_200, leaseMarginMs: 100, slowHandler, coldStartBurst: 4 };
  return form === 'short'
    ? {
        ...common,
        // DynamoDB Local answers in milliseconds, not microseconds: fewer events keep it near 15 s.
        logicalEvents: store === 'dynamodb' ? 120 : 160,
        streamMs: 3_000,
        planned: { handlerError: 6, workerKilled: 2, leaseLapsed: 2, slowHandler: 2, slowHandlerNoHeartbeat: 2, lostReply: 8 },
        cutEveryMs: 1_000,
        deadlineMs: 30_000,
      }
    : {
        ...common,
        logicalEvents: 2_000,
        streamMs: 40_000,
        planned: { handlerError: 60, workerKilled: 12, leaseLapsed: 12, slowHandler: 12, slowHandlerNoHeartbeat: 12, lostReply: 60 },
        cutEveryMs: 2_500,
        deadlineMs: 180_000,
      };
}
