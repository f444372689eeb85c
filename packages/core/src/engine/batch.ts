import { IdempotencyError } from '../errors.js';
import type { ClaimOutcome, ClaimRequest, CompleteOutcome, IdempotencyRecord } from '../store/types.js';
import type { ActiveClaim } from './claim-context.js';
import { toStoreError } from './completion.js';
import type { ClaimedHandler, IdempotencyEngine, RunOptions } from './engine.js';
import type { Heartbeat } from './heartbeat.js';
import { claimOf, type PreparedEvent } from './prepared.js';
import { describeError } from './reporter.js';
import type { EncodedResult } from './result-codec.js';

/**
 * One item of a batch: `id` is how the caller names it back (an SQS message id). An item
 * that could not be read (bad JSON) carries `readError` instead of an event and fails alone.
 */
export type BatchItem<TEvent> = { id: string; event: TEvent } | { id: string; readError: unknown };

/**
 * How one batch item ended. `processed`, `duplicate` and `in_progress` (in progress elsewhere,
 * answered with a value by `onInProgress`) are successes.
 */
export type BatchItemOutcome<TResult> =
  | { id: string; status: 'processed'; result: TResult }
  | { id: string; status: 'duplicate'; result: TResult }
  | { id: string; status: 'in_progress'; result: TResult }
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
   * When completions are recorded. `'each'`: sent right after each item's handler, so a crash
   * mid-batch repeats only the items in flight; the next item runs while it travels, and the batch
   * answers once every completion has (a FIFO batch, `stopOnFirstFailure`, and a transactional
   * store wait for each before the next item). `'batch'`: all in one `completeMany` after the last
   * handler, one round trip for the batch, but a crash before it repeats every item that ran.
   * @default 'each'
   */
  completion?: 'each' | 'batch';
  /**
   * The owner of each item's claim, e.g. the Lambda request id plus the item's position: unique per
   * item of one delivery attempt, so neither a redelivery nor a second copy of one message in the
   * same batch ever takes over a claim that is someone else's.
   */
  ownerOf?: (id: string, index: number) => string | undefined;
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
  entry: PreparedEvent;
  claim: ActiveClaim;
  heartbeat: Heartbeat;
  encoded: EncodedResult;
}

interface PreparedItem<TEvent> {
  index: number;
  id: string;
  entry: PreparedEvent;
  event: TEvent;
}

/** A claim the batch holds, with the heartbeat that keeps it alive from acquisition to completion. */
interface HeldClaim {
  claim: ActiveClaim;
  heartbeat: Heartbeat;
}

/** How a completion sent while later items ran ended: undefined when recorded, else its error. */
type Recording = Promise<{ error: unknown } | undefined>;

/** What settling one item needs to know of the whole batch. */
interface BatchState<TResult> {
  acquiredBy: Map<string, number>;
  outcomes: BatchItemOutcome<TResult>[];
  deferred: DeferredCompletion[] | undefined;
  /**
   * `completion: 'each'` without FIFO order or a transaction: completions still travelling, by
   * item. A later item runs meanwhile; an item's outcome is final once its recording has ended.
   */
  recording: Map<number, Recording> | undefined;
  /** Until when in-progress items may wait, shared by the batch (undefined: they do not wait). */
  waitDeadline: number | undefined;
}

/**
 * Runs one batch for an engine: one `claimMany`, then each item in order.
 *
 * The store judges the items in order, each against what the earlier ones claimed, so a refusal
 * whose record is an identity an earlier item of this batch acquired (same key, same fencing
 * token) is a repeat *inside* the batch: it takes that item's fate — a duplicate of it when it
 * ran, failed (to be redelivered) when it failed. Nothing is answered as done without having run.
 *
 * Every acquired claim gets its heartbeat (the `heartbeat` option) as soon as `claimMany` returns,
 * since later items wait for earlier handlers: it stops when the item's claim is completed or released.
 */
export async function runBatch<TEvent, TResult>(
  engine: IdempotencyEngine<TEvent, TResult>,
  items: readonly BatchItem<TEvent>[],
  handler: ClaimedHandler<TEvent, TResult>,
  options: BatchOptions,
): Promise<BatchItemOutcome<TResult>[]> {
  const waitDeadline = engine.inFlight.deadline(options.remainingMs);
  const outcomes: BatchItemOutcome<TResult>[] = new Array(items.length);
  const prepared: PreparedItem<TEvent>[] = [];
  // Items this process already knows as completed (`localCache`): answered without a claim.
  const cached = new Map<number, { item: PreparedItem<TEvent>; record: IdempotencyRecord }>();
  for (const [index, item] of items.entries()) {
    try {
      if ('readError' in item) throw item.readError;
      const entry = engine.prepare(item.event);
      const record = engine.cache?.find(entry.identities);
      if (record !== undefined) cached.set(index, { item: { index, id: item.id, entry, event: item.event }, record });
      else prepared.push({ index, id: item.id, entry, event: item.event });
    } catch (error) {
      engine.report('invalid_key');
      outcomes[index] = { id: item.id, status: 'failed', error };
    }
  }

  const requests = prepared.map(({ id, index, entry }) => engine.claimRequest(entry, { ...options, owner: options.ownerOf?.(id, index) ?? options.owner }));
  let claims: ClaimOutcome[] | undefined;
  let outage: IdempotencyError | undefined;
  try {
    claims = requests.length === 0 ? [] : await engine.store.claimMany(requests);
  } catch (error) {
    outage = toStoreError(engine.store, 'claimMany', error);
  }

  const batch: BatchState<TResult> = {
    // Which item acquired each identity token: `${key}\n${token}` → item index.
    acquiredBy: new Map<string, number>(),
    outcomes,
    deferred: options.completion === 'batch' ? [] : undefined,
    // In order means one after another (a FIFO batch stops at a failed completion), and in a
    // transaction every statement shares one connection whose failure aborts the rest.
    recording: options.completion === 'batch' || options.stopOnFirstFailure || engine.store.transactional ? undefined : new Map(),
    waitDeadline,
  };
  const claimAt = new Map(prepared.map((item, position) => [item.index, claims?.[position]]));
  const requestAt = new Map(prepared.map((item, position) => [item.index, requests[position]!]));
  const preparedAt = new Map(prepared.map((item) => [item.index, item]));
  const held = new Map<number, HeldClaim>();
  for (const item of prepared) {
    const claim = claimAt.get(item.index);
    if (claim?.acquired) held.set(item.index, hold(engine, item, claim, requestAt.get(item.index)!, batch));
  }
  let failedId: string | undefined;
  try {
    for (const [index, item] of items.entries()) {
      const entry = preparedAt.get(index);
      const hit = cached.get(index);
      if (hit !== undefined && failedId === undefined) {
        // Through an async frame: answerExisting may answer, or throw, without a promise.
        outcomes[index] = await (async () => engine.answerExisting(hit.item.entry, hit.record, hit.item.event))().then(
          (result): BatchItemOutcome<TResult> => ({ id: item.id, status: 'duplicate', result }),
          (error: unknown): BatchItemOutcome<TResult> => ({ id: item.id, status: 'failed', error }),
        );
        if (outcomes[index]!.status === 'failed' && options.stopOnFirstFailure) failedId = item.id;
        continue;
      }
      if (hit !== undefined) {
        outcomes[index] = { id: item.id, status: 'failed', error: new BatchItemSkippedError(failedId!) };
        continue;
      }
      if (entry === undefined) {
        failedId ??= options.stopOnFirstFailure ? item.id : undefined;
        continue;
      }
      if (failedId !== undefined) {
        const mine = held.get(index);
        if (mine !== undefined) {
          mine.heartbeat.stop();
          await engine.releaseQuietly(mine.claim);
        }
        outcomes[index] = { id: item.id, status: 'failed', error: new BatchItemSkippedError(failedId) };
        continue;
      }
      outcomes[index] = await settleItem(engine, entry, claimAt.get(index), held.get(index), requestAt.get(index)!, outage, handler, batch);
      if (outcomes[index]!.status === 'failed' && options.stopOnFirstFailure) failedId = item.id;
    }
    if (batch.deferred !== undefined && batch.deferred.length > 0) await completeDeferred(engine, batch.deferred, outcomes);
    for (const [index, recording] of batch.recording ?? []) {
      const failure = await recording;
      if (failure !== undefined) outcomes[index] = { id: items[index]!.id, status: 'failed', error: failure.error };
    }
  } finally {
    // Every path above stops its own; this is the backstop that no heartbeat outlives its batch.
    for (const { heartbeat } of held.values()) heartbeat.stop();
    for (const { heartbeat } of batch.deferred ?? []) heartbeat.stop();
  }
  return outcomes;
}

function tokenId(key: string, fencingToken: number): string {
  return `${key}\n${fencingToken}`;
}

/** Takes an acquired claim into the batch: remembers its tokens as this item's and starts its heartbeat. */
function hold<TEvent, TResult>(
  engine: IdempotencyEngine<TEvent, TResult>,
  item: PreparedItem<TEvent>,
  outcome: ClaimOutcome & { acquired: true },
  request: ClaimRequest,
  batch: BatchState<TResult>,
): HeldClaim {
  for (const identity of [{ key: outcome.record.key, fencingToken: outcome.fencingToken }, ...(outcome.also ?? [])]) {
    batch.acquiredBy.set(tokenId(identity.key, identity.fencingToken), item.index);
  }
  const claim = claimOf(item.entry, outcome);
  return { claim, heartbeat: engine.keepAlive(claim, request.leaseMs) };
}

/**
 * Items run one after another, but every claim was taken up front by `claimMany`: a late item of a
 * slow batch may reach its turn after its lease ran out, when another delivery may already hold it.
 * Running it then could repeat the side effect, so a claim with less than half its lease left is
 * extended first (one round trip, only for such items); if the store refuses — the claim lapsed or
 * was taken over — the item fails without running, and the queue redelivers it.
 */
async function confirmLease<TEvent, TResult>(
  engine: IdempotencyEngine<TEvent, TResult>,
  claim: ActiveClaim,
  leaseMs: number,
  heartbeat: Heartbeat,
): Promise<void> {
  const now = engine.clock();
  if (claim.leaseExpiresAt - now > leaseMs / 2) return;
  try {
    await engine.store.extendLease({ key: claim.key, fencingToken: claim.fencingToken, leaseMs, ...(claim.also === undefined ? {} : { also: claim.also }) });
    claim.leaseExpiresAt = now + leaseMs;
    claim.leaseExtendedAt = now;
  } catch (error) {
    heartbeat.stop();
    engine.reporter.warn('idempotency: a batch item’s claim lapsed before its turn; not running it', claim.key, {
      error: describeError(error),
    });
    // Nothing ran: give back what is still ours (a lapsed claim nobody took yet) so the redelivery runs.
    await engine.releaseQuietly(claim);
    engine.report('lease_lost', claim.key);
    throw error;
  }
}

/** The index of the earlier item of this batch whose claim refused `outcome`, if one did. */
function earlierItemOf(outcome: ClaimOutcome, index: number, batch: BatchState<unknown>): number | undefined {
  if (outcome.acquired) return undefined;
  const earlier = batch.acquiredBy.get(tokenId(outcome.record.key, outcome.record.fencingToken));
  return earlier !== undefined && earlier !== index ? earlier : undefined;
}

async function settleItem<TEvent, TResult>(
  engine: IdempotencyEngine<TEvent, TResult>,
  item: PreparedItem<TEvent>,
  claim: ClaimOutcome | undefined,
  mine: HeldClaim | undefined,
  request: ClaimRequest,
  outage: IdempotencyError | undefined,
  handler: ClaimedHandler<TEvent, TResult>,
  batch: BatchState<TResult>,
): Promise<BatchItemOutcome<TResult>> {
  const { index, id, entry, event } = item;
  try {
    if (claim === undefined) {
      return { id, status: 'processed', result: await engine.runDespiteOutage(entry.key, event, handler, outage!) };
    }
    let outcome = claim;
    let waitedMs = 0;
    if (engine.inFlight.shouldWait(outcome, batch.waitDeadline) && earlierItemOf(outcome, index, batch) === undefined) {
      const waited = await engine.inFlight.untilSettled(request, outcome, batch.waitDeadline!);
      ({ outcome, waitedMs } = waited);
      if (outcome.acquired) mine = hold(engine, item, outcome, request, batch);
    }
    if (mine !== undefined) {
      const { claim: active, heartbeat } = mine;
      await confirmLease(engine, active, request.leaseMs, heartbeat);
      if (batch.recording !== undefined) {
        const result = await engine.runToEnd(entry, active, event, handler, heartbeat);
        batch.recording.set(index, engine.record(entry, active, result).then(() => undefined, (error: unknown) => ({ error })));
        return { id, status: 'processed', result };
      }
      if (batch.deferred === undefined) return { id, status: 'processed', result: await engine.execute(entry, active, event, handler, heartbeat) };
      const result = await engine.runClaimed(entry, active, event, handler, heartbeat);
      batch.deferred.push({ index, id, entry, claim: active, heartbeat, encoded: engine.encode(entry, result) });
      return { id, status: 'processed', result };
    }
    const refused = outcome as ClaimOutcome & { acquired: false };
    const earlier = earlierItemOf(refused, index, batch);
    if (earlier !== undefined) {
      // The earlier item's fate is final only once its completion is recorded.
      const failure = await batch.recording?.get(earlier);
      const fate: BatchItemOutcome<TResult> = failure === undefined ? batch.outcomes[earlier]! : { id: batch.outcomes[earlier]!.id, status: 'failed', error: failure.error };
      // Awaited inside the try: a failing answer (a throwing duplicateResponse) fails this item alone.
      return await repeatOfEarlierItem(engine, item, refused.record, fate);
    }
    if (refused.record.status === 'in_progress') {
      return { id, status: 'in_progress', result: await engine.answerInProgress(entry, refused.record, event, waitedMs) };
    }
    return { id, status: 'duplicate', result: await engine.answerExisting(entry, refused.record, event) };
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
  // The earlier item's claim carries its payload's fingerprint: a repeat is compared with it, as with a stored record.
  engine.checkFingerprint(item.entry, record);
  const result = await engine.answerDuplicate(item.entry, record, item.event, () => earlier.result);
  return { id: item.id, status: 'duplicate', result };
}

/** One `completeMany` for the batch; an item it did not complete takes the single path, retries included. */
async function completeDeferred<TEvent, TResult>(
  engine: IdempotencyEngine<TEvent, TResult>,
  deferred: DeferredCompletion[],
  outcomes: BatchItemOutcome<TResult>[],
): Promise<void> {
  // Stopped before the completions, so a late beat cannot be taken for a lost lease.
  for (const item of deferred) item.heartbeat.stop();
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
      await engine.completion.finish(item.claim, item.encoded, landed?.[position]?.ok === true, engine.cacheCompletion(item.entry, item.claim));
    } catch (error) {
      outcomes[item.index] = { id: item.id, status: 'failed', error };
    }
  }
}
