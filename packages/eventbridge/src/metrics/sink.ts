import type { IdempotencyOutcome } from '@idemkit/core';
import type { LambdaContextLike } from '../types.js';

/**
 * Receives every outcome a wrapper reports, and is flushed once at the end of each invocation:
 * the hook {@link createCounters} and {@link emfMetrics} plug into through a wrapper's `metrics` option.
 */
export interface OutcomeSink {
  /** Called once per delivery (per SQS record) with how it ended. */
  onOutcome(outcome: IdempotencyOutcome): void;
  /** Called when an invocation ends, whatever its outcome; emit and reset per-invocation counts here. */
  flush?(context: LambdaContextLike | undefined): void;
}
