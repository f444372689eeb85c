import type { OutcomeKind } from '@idemkit/core';
import { writeStdoutLine } from '../logging.js';
import type { LambdaContextLike } from '../types.js';
import { createCounters, OUTCOME_KINDS } from './counters.js';
import type { OutcomeSink } from './sink.js';

/** CloudWatch metric name of each outcome kind. */
export const EMF_METRIC_NAMES: Record<OutcomeKind, string> = {
  processed: 'Processed',
  duplicate: 'Duplicate',
  in_progress: 'InProgress',
  failed: 'Failed',
  conflict: 'Conflict',
  lease_lost: 'LeaseLost',
  fail_open: 'FailOpen',
  invalid_key: 'InvalidKey',
  stale: 'Stale',
};

/** Options of {@link emfMetrics}. */
export interface EmfMetricsOptions {
  /**
   * CloudWatch metric namespace.
   * @default 'idemkit'
   */
  namespace?: string;
  /**
   * Dimensions added to `FunctionName` and `Strategy` on every line, e.g. `{ Service: 'crm-sync' }`.
   * @default {}
   */
  dimensions?: Record<string, string>;
  /**
   * Where each JSON line goes; in Lambda, stdout reaches CloudWatch Logs, which extracts the metrics.
   * @default a bare line on stdout (not `console.log`, which Lambda prefixes or wraps)
   */
  write?: (line: string) => void;
  /**
   * Source of the `_aws.Timestamp`.
   * @default Date.now
   */
  clock?: () => number;
}

/** One CloudWatch Embedded Metric Format document, as {@link emfMetrics} writes it. */
export interface EmfDocument {
  /** The EMF metadata CloudWatch Logs reads to extract metrics. */
  _aws: {
    /** When the counts were taken, epoch ms. */
    Timestamp: number;
    /** One directive: the namespace, the dimension set, and the metrics with their unit. */
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: 'Count' }>;
    }>;
  };
  /** Dimension values (strings) and metric values (numbers), as root members. */
  [member: string]: unknown;
}

/**
 * Emits the wrapper's outcome counts as CloudWatch metrics, with no agent and no API call: at the
 * end of each invocation it writes one Embedded Metric Format (EMF) JSON line per strategy that
 * saw outcomes — `Processed`, `Duplicate`, `InProgress`, `Failed`, `Conflict`, `LeaseLost`,
 * `FailOpen`, `InvalidKey`, `Stale` (unit `Count`), with dimensions `FunctionName` and `Strategy` — and
 * starts counting afresh. An invocation that saw no outcome writes nothing.
 * @example
 * ```ts
 * export const handler = makeIdempotent(fn, {
 *   strategy: { preset: 'genesysCloud' },
 *   metrics: emfMetrics({ namespace: 'ContactCenter/Idempotency' }),
 * });
 * // stdout: {"_aws":{"Timestamp":…,"CloudWatchMetrics":[{"Namespace":"ContactCenter/Idempotency",
 * //   "Dimensions":[["FunctionName","Strategy"]],"Metrics":[{"Name":"Processed","Unit":"Count"},…]}]},
 * //   "FunctionName":"crm-sync","Strategy":"genesysCloud","Processed":1,"Duplicate":0,…}
 * ```
 */
export function emfMetrics(options: EmfMetricsOptions = {}): OutcomeSink & { flush(context?: LambdaContextLike): void } {
  const namespace = options.namespace ?? 'idemkit';
  const extra = options.dimensions ?? {};
  const write = options.write ?? writeStdoutLine;
  const clock = options.clock ?? Date.now;
  const counters = createCounters();
  return {
    onOutcome: counters.onOutcome,
    flush(context) {
      const functionName = context?.functionName || process.env['AWS_LAMBDA_FUNCTION_NAME'] || 'unknown';
      const byStrategy = counters.byStrategy();
      counters.reset();
      for (const [strategy, counts] of Object.entries(byStrategy)) {
        const dimensions = { FunctionName: functionName, Strategy: strategy, ...extra };
        const document: EmfDocument = {
          _aws: {
            Timestamp: clock(),
            CloudWatchMetrics: [
              {
                Namespace: namespace,
                Dimensions: [Object.keys(dimensions)],
                Metrics: OUTCOME_KINDS.map((kind) => ({ Name: EMF_METRIC_NAMES[kind], Unit: 'Count' as const })),
              },
            ],
          },
          ...dimensions,
          ...Object.fromEntries(OUTCOME_KINDS.map((kind) => [EMF_METRIC_NAMES[kind], counts[kind]])),
        };
        write(JSON.stringify(document));
      }
    },
  };
}
