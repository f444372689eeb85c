import type { StoreKind } from '../contenders/types.js';
import type { HarnessOptions } from './types.js';

/**
 * The short form (CI, a few seconds of stream per store) and the long form (`pnpm test:faults`).
 * Leases are short (the visibility timeout plus 100 ms) so lapses and take-overs happen in
 * seconds; the cuts come often enough to land several times in a run.
 */
export function harnessOptions(form: 'short' | 'long', store: StoreKind): HarnessOptions {
  const common = { store, workers: 6, visibilityMs: 1_200, leaseMarginMs: 100 };
  return form === 'short'
    ? {
        ...common,
        // DynamoDB Local answers in milliseconds, not microseconds: fewer events keep it near 15 s.
        logicalEvents: store === 'dynamodb' ? 120 : 160,
        streamMs: 3_000,
        planned: { handlerError: 6, workerKilled: 2, leaseLapsed: 2 },
        cutEveryMs: 1_000,
        deadlineMs: 30_000,
      }
    : {
        ...common,
        logicalEvents: 2_000,
        streamMs: 40_000,
        planned: { handlerError: 60, workerKilled: 12, leaseLapsed: 12 },
        cutEveryMs: 2_500,
        deadlineMs: 180_000,
      };
}
