import type { IdempotencyOutcome, OutcomeKind } from '@idemkit/core';
import type { OutcomeSink } from './sink.js';

/** Every outcome kind core reports, in a fixed order. */
export const OUTCOME_KINDS: readonly OutcomeKind[] = [
  'processed',
  'duplicate',
  'in_progress',
  'failed',
  'conflict',
  'lease_lost',
  'fail_open',
  'invalid_key',
  'stale',
];

/** A count per outcome kind. */
export type OutcomeCounts = Record<OutcomeKind, number>;

/** Counters fed by a wrapper's outcomes; see {@link createCounters}. */
export interface OutcomeCounters extends OutcomeSink {
  /** The counts so far, per outcome kind (every kind present, zero when unseen). */
  snapshot(): OutcomeCounts;
  /** The counts so far, per strategy name and outcome kind. */
  byStrategy(): Record<string, OutcomeCounts>;
  /** Sets every count back to zero. */
  reset(): void;
}

/** Zero for every outcome kind. */
export function zeroCounts(): OutcomeCounts {
  return Object.fromEntries(OUTCOME_KINDS.map((kind) => [kind, 0])) as OutcomeCounts;
}

/**
 * Counts outcomes (processed, duplicate, in_progress, failed, …) for your own metrics: pass it
 * as a wrapper's `metrics` option, or its `onOutcome` to core's `idempotent`. Counts accumulate
 * until {@link OutcomeCounters.reset}.
 * @example
 * ```ts
 * const counters = createCounters();
 * export const handler = makeIdempotent(fn, { strategy, metrics: counters });
 * // later: counters.snapshot() → { processed: 12, duplicate: 3, in_progress: 0, … }
 * ```
 */
export function createCounters(): OutcomeCounters {
  let counts = new Map<string, OutcomeCounts>();
  return {
    onOutcome(outcome: IdempotencyOutcome) {
      let forStrategy = counts.get(outcome.strategy);
      if (forStrategy === undefined) {
        forStrategy = zeroCounts();
        counts.set(outcome.strategy, forStrategy);
      }
      forStrategy[outcome.kind] = (forStrategy[outcome.kind] ?? 0) + 1;
    },
    snapshot() {
      const total = zeroCounts();
      for (const forStrategy of counts.values()) {
        for (const kind of Object.keys(forStrategy) as OutcomeKind[]) total[kind] = (total[kind] ?? 0) + forStrategy[kind];
      }
      return total;
    },
    byStrategy() {
      return Object.fromEntries([...counts].map(([strategy, forStrategy]) => [strategy, { ...forStrategy }]));
    },
    reset() {
      counts = new Map();
    },
  };
}
