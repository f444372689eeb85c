import type { Contender } from '../contenders/types.js';

/** What one call of a scenario did. */
export interface CallResult {
  /** Events handled (an SQS batch handles ten). */
  events: number;
  /** Latency of each caller, ms (one per call, or one per concurrent caller). */
  latencies: number[];
}

/** A workload measured the same way on every contender. */
export interface Scenario {
  /** Short name, the table's first column. */
  name: string;
  /** One line for docs/benchmarks.md. */
  description: string;
  /** Runs once per contender before anything is measured (seed duplicates, set the work's delay). */
  prepare?(contender: Contender): Promise<void>;
  /** One call; calls run one after another (one Lambda invocation at a time). */
  call(contender: Contender): Promise<CallResult>;
  /** After the last round: a correctness note for the table (e.g. runs per key), or an error when it failed. */
  check?(contender: Contender): string | undefined;
}
