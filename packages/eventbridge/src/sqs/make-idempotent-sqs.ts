import { ConfigError, type BatchItemOutcome } from '@idemkit/core';
import type { PresetSqsIdempotencyConfig, SqsIdempotencyConfig } from '../config.js';
import { runtimeProvider } from '../engine-provider.js';
import { remainingTimeOf } from '../lease.js';
import { handlerNameOf } from '../namespace.js';
import type { PresetEvent, PresetName } from '../presets/index.js';
import { recordOwnerOf } from '../owner.js';
import type {
  EventBridgeEventLike,
  LambdaContextLike,
  SqsBatchResponseLike,
  SqsEventLike,
  SqsRecordLike,
} from '../types.js';
import { isFifoBatch, readRecord } from './read-record.js';

/** What an SQS record handler gets beside the event: the record it came in, and the Lambda context. */
export interface SqsRecordContext<TRecord extends SqsRecordLike = SqsRecordLike, TContext = LambdaContextLike> {
  record: TRecord;
  context: TContext;
}

/** Handles one EventBridge event taken out of an SQS record. */
export type SqsRecordHandler<TEvent, TResult, TRecord extends SqsRecordLike, TContext> = (
  event: TEvent,
  meta: SqsRecordContext<TRecord, TContext>,
) => Promise<TResult> | TResult;

const BODY_MODES = ['envelope', 'detail', 'auto'] as const;

/**
 * {@link makeIdempotentSqs} with a preset written in code (`{ preset: 'niceCxone' }`): the
 * handler's `event` is typed as that source's event, e.g. `event.detail` as `NiceCxoneDetail`.
 */
export function makeIdempotentSqs<
  P extends PresetName,
  TResult = unknown,
  TRecord extends SqsRecordLike = SqsRecordLike,
  TContext extends LambdaContextLike | undefined = LambdaContextLike,
>(
  handler: SqsRecordHandler<PresetEvent<P>, TResult, TRecord, TContext>,
  config: PresetSqsIdempotencyConfig<P, TResult>,
): (event: SqsEventLike<TRecord>, context: TContext) => Promise<SqsBatchResponseLike>;
/**
 * Makes an SQS handler whose messages are EventBridge events (EventBridge → SQS → Lambda)
 * idempotent, record by record, and reports partial batch failures. Enable
 * `ReportBatchItemFailures` on the event source mapping.
 *
 * Claims every record's key in one `claimMany`, runs `handler` for new records in order, and
 * returns `{ batchItemFailures }` with the `messageId` of each record that failed: the handler
 * threw, its key is in progress elsewhere (after waiting, with `inProgress.wait`; unless
 * `onInProgress` answers with a value), or it is malformed (bad JSON, not an object, a key
 * field missing). A malformed record never fails its neighbours. Duplicates (of earlier
 * batches, or repeats inside this one) succeed without running `handler`. For FIFO queues
 * (`fifo`, detected from the queue ARN by default) the batch stops at the first failure and
 * every later record is reported too, unrun, as AWS requires.
 * @example
 * ```ts
 * import { makeIdempotentSqs } from '@idemkit/eventbridge';
 *
 * export const handler = makeIdempotentSqs(
 *   async (event, { record }) => crm.recordStateChange(event.detail),
 *   { store: 'redis://cache:6379', strategy: { preset: 'niceCxone' } },
 * );
 * ```
 */
export function makeIdempotentSqs<
  TEvent = EventBridgeEventLike,
  TResult = unknown,
  TRecord extends SqsRecordLike = SqsRecordLike,
  TContext extends LambdaContextLike | undefined = LambdaContextLike,
>(
  handler: SqsRecordHandler<TEvent, TResult, TRecord, TContext>,
  config?: SqsIdempotencyConfig<TEvent, TResult>,
): (event: SqsEventLike<TRecord>, context: TContext) => Promise<SqsBatchResponseLike>;
export function makeIdempotentSqs<TEvent, TResult, TRecord extends SqsRecordLike, TContext extends LambdaContextLike | undefined>(
  handler: SqsRecordHandler<TEvent, TResult, TRecord, TContext>,
  config: SqsIdempotencyConfig<TEvent, TResult> = {},
): (event: SqsEventLike<TRecord>, context: TContext) => Promise<SqsBatchResponseLike> {
  const bodyMode = config.body ?? 'auto';
  if (!BODY_MODES.includes(bodyMode)) {
    throw new ConfigError('body', `must be one of ${BODY_MODES.join(', ')}, got ${JSON.stringify(bodyMode)}`);
  }
  const fifoOption = config.fifo ?? 'auto';
  if (fifoOption !== 'auto' && typeof fifoOption !== 'boolean') {
    throw new ConfigError('fifo', `must be true, false or 'auto', got ${JSON.stringify(fifoOption)}`);
  }
  const completion = config.completion ?? 'each';
  if (completion !== 'each' && completion !== 'batch') {
    throw new ConfigError('completion', `must be 'each' or 'batch', got ${JSON.stringify(completion)}`);
  }
  const owner = {};
  const runtime = runtimeProvider<TEvent, TResult>(config, handlerNameOf(config.name, handler), owner);

  return async (sqsEvent, context) => {
    const { engine, logger, leaseFor, finish } = await runtime.get(context);
    try {
      const records: readonly (TRecord | null | undefined)[] = Array.isArray(sqsEvent?.Records) ? sqsEvent.Records : [];
      const items = records.map((record) => readRecord<TEvent>(record, bodyMode));
      // By event object, not message id: SQS may hand one message over twice in one batch.
      const recordOf = new Map<unknown, TRecord>(items.flatMap((item, index) => ('event' in item ? [[item.event, records[index] as TRecord]] : [])));
      const leaseMs = leaseFor(context);
      const outcomes = await engine.runBatch(
        items,
        (event) => handler(event, { record: recordOf.get(event)!, context }),
        {
          stopOnFirstFailure: fifoOption === 'auto' ? isFifoBatch(records.filter((record): record is TRecord => typeof record === 'object' && record !== null)) : fifoOption,
          completion,
          ownerOf: (_messageId, position) => recordOwnerOf(context, position),
          ...(leaseMs === undefined ? {} : { leaseMs }),
          ...remainingTimeOf(context),
        },
      );
      const failed = outcomes.filter((outcome): outcome is Extract<BatchItemOutcome<TResult>, { status: 'failed' }> => outcome.status === 'failed');
      for (const outcome of failed) {
        logger.warn('idempotency: SQS record failed; it goes back to the queue', {
          messageId: outcome.id,
          error: describe(outcome.error),
        });
      }
      return { batchItemFailures: batchItemFailures(failed.map((outcome) => outcome.id)) };
    } finally {
      finish(context);
    }
  };
}

/**
 * Each failed message once. A record with no message id cannot be named: its empty identifier
 * makes Lambda retry the whole batch, which is safe — the records that ran are recorded and
 * answer as duplicates — where leaving it out would acknowledge a record that never ran.
 */
function batchItemFailures(ids: readonly string[]): { itemIdentifier: string }[] {
  return [...new Set(ids)].map((itemIdentifier) => ({ itemIdentifier }));
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
