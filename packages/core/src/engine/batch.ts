import { IdempotencyError } from '../errors.js';
import type { ClaimOutcome, CompleteOutcome, IdempotencyRecord } from '../store/types.js';
import type { ActiveClaim } from './claim-context.js';
import { toStoreError } from './completion.js';
import type { ClaimedHandler, IdempotencyEngine, RunOptions } from './engine.js';
import { claimOf, type PreparedEvent } from './prepared.js';
import { describeError } from './reporter.js';
import type { EncodedResult } from './result-codec.js';

/**
 * One item of a batch: `id` is how the caller names it back (an SQS message id). An item
 * that could not be read (bad JSON) carries `readError` instead of an event and fails alone.
 */
export type BatchItem<TEvent> = { id: string; event: TEvent } | { id: string; readError: unknown };

/** How one batch item ended. `duplicate` and `processed` are successes. */
export type BatchItemOutcome<TResult> =
  | { id: string; status: 'processed'; result: TResult }
  | { id: string; status: 'duplicate'; result: TResult }
  | { id: string; status: 'failed'; error: unknown };

/** Options for {@link IdempotencyEngine.runBatch}. */
export interface BatchOptions extends RunOptions {
  /**
   * Stop at the first failure and fail every later item without running it (FIFO queues
   * must keep order). Claims already taken for the skipped items are released.
   * @default false
   */
  stopOnFirstFailure?: boolean;
  /**
   * When completions are recorded. `'each'`: right after each item's handler, so a crash
   * mid-batch repeats only the item in flight. `'batch'`: all in one `completeMany` after the
   * last handler, one round trip for the batch, but a crash before it repeats every item that ran.
   * @default 'each'
   */
  completion?: 'each' | 'batch';
  /**
   * The owner of each item's claim, e.g. the Lambda request id plus the message id: unique per
   * delivery attempt, so a redelivery never takes over a claim that is still running elsewhere.
   */
  ownerOf?: (id: string) => string | undefined;
}

/** Thrown for items that were not attempted because an earlier item of a FIFO batch failed. */
export class BatchItemSkippedError extends IdempotencyError {
  constructor(readonly failedItemId: string) {
    super(`[idemkit] not attempted: item ${failedItemId} earlier in this FIFO batch failed`);
    this.name = 'BatchItemSkippedError';
  }
}

/** A handler that ran in a `completion: 'batch'` run, waiting for the batch's `completeMany`. */
interface DeferredCompletion {
  index: number;
  id: string;
  claim: ActiveClaim;
  encoded: EncodedResult;
}

interface PreparedItem<TEvent> {
  index: number;
  id: string;
  entry: PreparedEvent;
  event: TEvent;
}

/**
 * Runs one batch for an engine: one `claimMany`, then each item in order.
 *
 * The store judges the items in order, each against what the earlier ones claimed, so a refusal
 * whose record is an identity an earlier item of this batch acquired (same key, same fencing
 * token) is a repeat *inside* the batch: it takes that item's fate — a duplicate of it when it
 * ran, failed (to be redelivered) when it failed. Nothing is answered as done without having run.
 */
export async function runBatch<TEvent, TResult>(
  engine: IdempotencyEngine<TEvent, TResult>,
  items: readonly BatchItem<TEvent>[],
  handler: ClaimedHandler<TEvent, TResult>,
  options: BatchOptions,
): Promise<BatchItemOutcome<TResult>[]> {
  const outcomes: BatchItemOutcome<TResult>[] = new Array(items.length);
  const prepared: PreparedItem<TEvent>[] = [];
  for (const [index, item] of items.entries()) {
    try {
      if ('readError' in item) throw item.readError;
      prepared.push({ index, id: item.id, entry: engine.prepare(item.event), event: item.event });
    } catch (error) {
      engine.report('invalid_key');
      outcomes[index] = { id: item.id, status: 'failed', error };
    }
  }

  let claims: ClaimOutcome[] | undefined;
  let outage: IdempotencyError | undefined;
  try {
    claims = await engine.store.claimMany(
      prepared.map(({ id, entry }) => engine.claimRequest(entry, { ...options, owner: options.ownerOf?.(id) ?? options.owner })),
    );
  } catch (error) {
    outage = toStoreError(engine.store, 'claimMany', error);
  }

  // Which item acquired each identity token: `${key}\n${token}` → item index.
  const acquiredBy = new Map<string, number>();
  const deferred: DeferredCompletion[] | undefined = options.completion === 'batch' ? [] : undefined;
  const claimAt = new Map(prepared.map((item, position) => [item.index, claims?.[position]]));
  const preparedAt = new Map(prepared.map((item) => [item.index, item]));
  let failedId: string | undefined;
  for (const [index, item] of items.entries()) {
    const entry = preparedAt.get(index);
    if (entry === undefined) {
      failedId ??= options.stopOnFirstFailure ? item.id : undefined;
      continue;
    }
    const claim = claimAt.get(index);
    if (failedId !== undefined) {
      if (claim?.acquired) await engine.releaseQuietly(claimOf(entry.entry, claim));
      outcomes[index] = { id: item.id, status: 'failed', error: new BatchItemSkippedError(failedId) };
      continue;
    }
    if (claim?.acquired) {
      for (const identity of [{ key: claim.record.key, fencingToken: claim.fencingToken }, ...(claim.also ?? [])]) {
        acquiredBy.set(tokenId(identity.key, identity.fencingToken), index);
      }
    }
    outcomes[index] = await settleItem(engine, entry, claim, outage, handler, { acquiredBy, outcomes, deferred });
    if (outcomes[index]!.status === 'failed' && options.stopOnFirstFailure) failedId = item.id;
  }
  if (deferred !== undefined && deferred.length > 0) await completeDeferred(engine, deferred, outcomes);
  return outcomes;
}

function tokenId(key: string, fencingToken: number): string {
  return `${key}\n${fencingToken}`;
}

async function settleItem<TEvent, TResult>(
  engine: IdempotencyEngine<TEvent, TResult>,
  item: PreparedItem<TEvent>,
  claim: ClaimOutcome | undefined,
  outage: IdempotencyError | undefined,
  handler: ClaimedHandler<TEvent, TResult>,
  batch: {
    acquiredBy: Map<string, number>;
    outcomes: BatchItemOutcome<TResult>[];
    deferred: DeferredCompletion[] | undefined;
  },
): Promise<BatchItemOutcome<TResult>> {
  const { index, id, entry, event } = item;
  try {
    if (claim === undefined) {
      return { id, status: 'processed', result: await engine.runDespiteOutage(entry.key, event, handler, outage!) };
    }
    if (claim.acquired) {
      const active = claimOf(entry, claim);
      if (batch.deferred === undefined) return { id, status: 'processed', result: await engine.execute(entry, active, event, handler) };
      const result = await engine.runClaimed(entry, active, event, handler);
      batch.deferred.push({ index, id, claim: active, encoded: engine.encode(entry, result) });
      return { id, status: 'processed', result };
    }
    const earlier = batch.acquiredBy.get(tokenId(claim.record.key, claim.record.fencingToken));
    if (earlier !== undefined && earlier !== index) {
      return repeatOfEarlierItem(engine, item, claim.record, batch.outcomes[earlier]!);
    }
    return { id, status: 'duplicate', result: await engine.answerExisting(entry, claim.record, event) };
  } catch (error) {
    return { id, status: 'failed', error };
  }
}

// A repeat inside one batch: the earlier item's fate is this one's.
async function repeatOfEarlierItem<TEvent, TResult>(
  engine: IdempotencyEngine<TEvent, TResult>,
  item: PreparedItem<TEvent>,
  record: IdempotencyRecord,
  earlier: BatchItemOutcome<TResult>,
): Promise<BatchItemOutcome<TResult>> {
  if (earlier.status === 'failed') return { id: item.id, status: 'failed', error: earlier.error };
  const result = await engine.answerDuplicate(item.entry, record, item.event, () => earlier.result);
  return { id: item.id, status: 'duplicate', result };
}

/** One `completeMany` for the batch; an item it did not complete takes the single path, retries included. */
async function completeDeferred<TEvent, TResult>(
  engine: IdempotencyEngine<TEvent, TResult>,
  deferred: DeferredCompletion[],
  outcomes: BatchItemOutcome<TResult>[],
): Promise<void> {
  let landed: CompleteOutcome[] | undefined;
  try {
    landed = await engine.store.completeMany(
      deferred.map(({ claim, encoded }) => ({
        key: claim.key,
        fencingToken: claim.fencingToken,
        result: encoded.text,
        retentionMs: engine.retention,
        ...(claim.also === undefined ? {} : { also: claim.also }),
      })),
    );
  } catch (error) {
    engine.reporter.warn('idempotency: completeMany failed; completing item by item', undefined, { error: describeError(error) });
  }
  for (const [position, item] of deferred.entries()) {
    try {
      await engine.completion.finish(item.claim, item.encoded, landed?.[position]?.ok === true);
    } catch (error) {
      outcomes[item.index] = { id: item.id, status: 'failed', error };
    }
  }
}
