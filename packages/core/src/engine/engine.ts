import {
  ConfigError,
  IdempotencyError,
  IdempotencyInProgressError,
  IdempotencyKeyConflictError,
  IdempotencyResultTooLargeError,
  IdempotencyStoreError,
  LeaseLostError,
} from '../errors.js';
import { assertPositiveMs } from '../store/validate.js';
import type { ClaimOutcome, ClaimRequest, CompleteOutcome, IdempotencyRecord, IdempotencyStore } from '../store/types.js';
import { contentHash, strategyFromConfig } from '../strategies/index.js';
import type { DedupKey, DedupKeyStrategy } from '../strategies/types.js';
import { runWithClaim, type ActiveClaim } from './claim-context.js';
import { silentLogger, type IdempotencyLogger } from './logger.js';
import type { EngineOptions, OutcomeKind, PayloadMismatchPolicy } from './options.js';
import { decodeResult, encodeResult, type EncodedResult, type OversizePolicy } from './result-codec.js';

const NAMESPACE_PATTERN = /^[A-Za-z0-9_.\-/]{1,64}$/;
/** Attempts to record one completion before the engine gives up and logs it. */
const COMPLETE_ATTEMPTS = 3;

/** A handler run under a claim; `claim` is undefined only when `failOpen` let a store outage through. */
export type ClaimedHandler<TEvent, TResult> = (event: TEvent, claim: ActiveClaim | undefined) => Promise<TResult> | TResult;

/** Per-call overrides. */
export interface RunOptions {
  /** Lease for this call, e.g. from the Lambda's remaining time. */
  leaseMs?: number;
}

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
}

/** A handler that ran in a `completion: 'batch'` run, waiting for the batch's `completeMany`. */
interface DeferredCompletion {
  index: number;
  id: string;
  entry: PreparedEvent;
  fencingToken: number;
  encoded: EncodedResult;
}

interface PreparedEvent {
  key: string;
  dedup: DedupKey;
  fingerprint: string | undefined;
}

/** Thrown for items that were not attempted because an earlier item of a FIFO batch failed. */
export class BatchItemSkippedError extends IdempotencyError {
  constructor(readonly failedItemId: string) {
    super(`[idemkit] not attempted: item ${failedItemId} earlier in this FIFO batch failed`);
    this.name = 'BatchItemSkippedError';
  }
}

/**
 * The idempotency engine: claims a key per event, runs the handler once per key, stores
 * its result, and answers duplicates. Adapters and wrappers add nothing to these semantics.
 *
 * @example
 * ```ts
 * const engine = new IdempotencyEngine({ store, strategy: { strategy: 'eventId' } });
 * const result = await engine.run(event, async (event, claim) => charge(event, claim?.fencingToken));
 * ```
 */
export class IdempotencyEngine<TEvent = unknown, TResult = unknown> {
  /** The strategy keys are made with. */
  readonly strategy: DedupKeyStrategy<TEvent>;
  /** Prefix of every key this engine claims. */
  readonly namespace: string;
  private readonly store: IdempotencyStore;
  private readonly leaseMs: number;
  private readonly retentionMs: number;
  private readonly payloadMismatch: PayloadMismatchPolicy;
  private readonly fingerprintOf: ((event: TEvent) => string) | undefined;
  private readonly storeResult: boolean;
  private readonly oversize: OversizePolicy;
  private readonly maxResultBytes: number | undefined;
  private readonly logger: IdempotencyLogger;

  constructor(private readonly options: EngineOptions<TEvent, TResult>) {
    if (options.store === undefined || typeof options.store.claim !== 'function') {
      throw new ConfigError('store', 'must be an IdempotencyStore (MemoryStore, RedisStore, …)');
    }
    this.store = options.store;
    this.strategy = strategyFromConfig(options.strategy) as DedupKeyStrategy<TEvent>;
    this.namespace = options.namespace ?? 'idemkit';
    if (!NAMESPACE_PATTERN.test(this.namespace)) {
      throw new ConfigError('namespace', `must match ${NAMESPACE_PATTERN} (got "${this.namespace}")`);
    }
    this.leaseMs = options.leaseMs ?? 60_000;
    assertPositiveMs('leaseMs', this.leaseMs);
    this.retentionMs = options.retentionMs ?? 3_600_000;
    assertPositiveMs('retentionMs', this.retentionMs);
    this.payloadMismatch = oneOf('payloadMismatch', options.payloadMismatch ?? 'ignore', ['error', 'warn', 'ignore']);
    this.oversize = oneOf('onOversizeResult', options.onOversizeResult ?? 'error', ['error', 'skip']);
    this.storeResult = options.storeResult ?? true;
    this.maxResultBytes = options.maxResultBytes ?? this.store.maxResultBytes;
    this.logger = options.logger ?? silentLogger;
    this.fingerprintOf = this.payloadMismatch === 'ignore' ? undefined : fingerprinter(options.fingerprint);
  }

  /**
   * The full key an event gets, without touching the store: use it to see what a strategy does.
   * @throws {@link KeyExtractionError} when the event lacks a field the strategy needs.
   */
  keyFor(event: TEvent): string {
    return this.prepare(event).key;
  }

  /**
   * Runs `handler` once per key. A completed duplicate returns the stored result without
   * running it; a key in progress elsewhere throws {@link IdempotencyInProgressError};
   * a handler error releases the claim and is rethrown.
   */
  async run(event: TEvent, handler: ClaimedHandler<TEvent, TResult>, runOptions: RunOptions = {}): Promise<TResult> {
    let prepared: PreparedEvent;
    try {
      prepared = this.prepare(event);
    } catch (error) {
      this.report('invalid_key');
      throw error;
    }
    let outcome: ClaimOutcome;
    try {
      outcome = await this.store.claim(this.claimRequest(prepared, runOptions));
    } catch (error) {
      return this.runDespiteOutage(prepared.key, event, handler, toStoreError(this.store, 'claim', error));
    }
    if (outcome.acquired) return this.execute(prepared, outcome.fencingToken, event, handler);
    return this.answerExisting(prepared, outcome.record, event);
  }

  /**
   * Runs a batch (an SQS batch): claims every key in one `claimMany`, runs new items in
   * order, and reports each item's outcome. A bad item fails alone; a key repeated in the
   * batch runs once and its repeats answer as duplicates.
   */
  async runBatch(
    items: readonly BatchItem<TEvent>[],
    handler: ClaimedHandler<TEvent, TResult>,
    batchOptions: BatchOptions = {},
  ): Promise<BatchItemOutcome<TResult>[]> {
    const outcomes: BatchItemOutcome<TResult>[] = new Array(items.length);
    const prepared = items.map((item, index) => {
      try {
        if ('readError' in item) throw item.readError;
        return this.prepare(item.event);
      } catch (error) {
        this.report('invalid_key');
        outcomes[index] = { id: item.id, status: 'failed', error };
        return undefined;
      }
    });
    const claimable = prepared.flatMap((entry, index) => (entry === undefined ? [] : [{ entry, index }]));
    let claims: ClaimOutcome[] | undefined;
    let outage: IdempotencyError | undefined;
    try {
      claims = await this.store.claimMany(claimable.map(({ entry }) => this.claimRequest(entry, batchOptions)));
    } catch (error) {
      outage = toStoreError(this.store, 'claimMany', error);
    }

    const claimByIndex = new Map(claimable.map(({ index }, position) => [index, claims?.[position]]));
    const firstAcquirer = new Map<string, number>();
    const deferred: DeferredCompletion[] | undefined = batchOptions.completion === 'batch' ? [] : undefined;
    let failedId: string | undefined;
    for (const [index, item] of items.entries()) {
      const entry = prepared[index];
      if (entry === undefined) {
        failedId ??= batchOptions.stopOnFirstFailure ? item.id : undefined;
        continue;
      }
      const claim = claimByIndex.get(index);
      if (failedId !== undefined) {
        if (claim?.acquired) await this.releaseQuietly(entry.key, claim.fencingToken);
        outcomes[index] = { id: item.id, status: 'failed', error: new BatchItemSkippedError(failedId) };
        continue;
      }
      const event = (item as { event: TEvent }).event;
      outcomes[index] = await this.settleBatchItem(
        { index, id: item.id, entry, event, claim, outage },
        handler,
        { firstAcquirer, outcomes, deferred },
      );
      if (claim?.acquired) firstAcquirer.set(entry.key, index);
      if (outcomes[index]!.status === 'failed' && batchOptions.stopOnFirstFailure) failedId = item.id;
    }
    if (deferred !== undefined && deferred.length > 0) await this.completeDeferred(deferred, outcomes);
    return outcomes;
  }

  /** One `completeMany` for the batch; an item it did not complete takes the single path, retries included. */
  private async completeDeferred(deferred: DeferredCompletion[], outcomes: BatchItemOutcome<TResult>[]): Promise<void> {
    let landed: CompleteOutcome[] | undefined;
    try {
      landed = await this.store.completeMany(
        deferred.map((item) => ({
          key: item.entry.key,
          fencingToken: item.fencingToken,
          result: item.encoded.text,
          retentionMs: this.retentionMs,
        })),
      );
    } catch (error) {
      this.logger.warn('idempotency: completeMany failed; completing item by item', { error: describe(error) });
    }
    for (const [position, item] of deferred.entries()) {
      try {
        await this.finishClaim(item.entry, item.fencingToken, item.encoded, landed?.[position]?.ok === true);
      } catch (error) {
        outcomes[item.index] = { id: item.id, status: 'failed', error };
      }
    }
  }

  private async settleBatchItem(
    item: {
      index: number;
      id: string;
      entry: PreparedEvent;
      event: TEvent;
      claim: ClaimOutcome | undefined;
      outage: IdempotencyError | undefined;
    },
    handler: ClaimedHandler<TEvent, TResult>,
    batch: {
      firstAcquirer: Map<string, number>;
      outcomes: BatchItemOutcome<TResult>[];
      deferred: DeferredCompletion[] | undefined;
    },
  ): Promise<BatchItemOutcome<TResult>> {
    const { index, id, entry, event, claim, outage } = item;
    try {
      if (claim === undefined) {
        return { id, status: 'processed', result: await this.runDespiteOutage(entry.key, event, handler, outage!) };
      }
      if (claim.acquired && batch.deferred !== undefined) {
        const result = await this.runClaimed(entry, claim.fencingToken, event, handler);
        batch.deferred.push({ index, id, entry, fencingToken: claim.fencingToken, encoded: this.encode(entry, result) });
        return { id, status: 'processed', result };
      }
      if (claim.acquired) {
        return { id, status: 'processed', result: await this.execute(entry, claim.fencingToken, event, handler) };
      }
      const earlier = batch.firstAcquirer.get(entry.key);
      if (earlier !== undefined && claim.record.status === 'in_progress') {
        return this.repeatOfEarlierItem(id, entry, event, claim.record, batch.outcomes[earlier]!);
      }
      return { id, status: 'duplicate', result: await this.answerExisting(entry, claim.record, event) };
    } catch (error) {
      return { id, status: 'failed', error };
    }
  }

  // A key repeated inside one batch: the earlier item's fate is this one's.
  private async repeatOfEarlierItem(
    id: string,
    entry: PreparedEvent,
    event: TEvent,
    record: IdempotencyRecord,
    earlier: BatchItemOutcome<TResult>,
  ): Promise<BatchItemOutcome<TResult>> {
    if (earlier.status === 'failed') return { id, status: 'failed', error: earlier.error };
    this.noteDuplicate(entry.key, record, event);
    const result = this.options.duplicateResponse
      ? await this.options.duplicateResponse({ key: entry.key, strategy: this.strategy.name, record, event })
      : earlier.result;
    return { id, status: 'duplicate', result };
  }

  private prepare(event: TEvent): PreparedEvent {
    const dedup = this.strategy.keyFor(event);
    return { key: `${this.namespace}:${dedup.key}`, dedup, fingerprint: this.fingerprintOf?.(event) };
  }

  private claimRequest(prepared: PreparedEvent, runOptions: RunOptions): ClaimRequest {
    const request: ClaimRequest = {
      key: prepared.key,
      leaseMs: runOptions.leaseMs ?? this.leaseMs,
      retentionMs: this.retentionMs,
    };
    if (prepared.fingerprint !== undefined) request.fingerprint = prepared.fingerprint;
    if (prepared.dedup.window !== undefined) request.window = prepared.dedup.window;
    return request;
  }

  private async execute(
    prepared: PreparedEvent,
    fencingToken: number,
    event: TEvent,
    handler: ClaimedHandler<TEvent, TResult>,
  ): Promise<TResult> {
    const result = await this.runClaimed(prepared, fencingToken, event, handler);
    await this.finishClaim(prepared, fencingToken, this.encode(prepared, result));
    return result;
  }

  /** Runs the handler under its claim; a handler error releases the claim and is rethrown. */
  private async runClaimed(
    prepared: PreparedEvent,
    fencingToken: number,
    event: TEvent,
    handler: ClaimedHandler<TEvent, TResult>,
  ): Promise<TResult> {
    const claim: ActiveClaim = { key: prepared.key, fencingToken };
    try {
      return await runWithClaim(claim, () => handler(event, claim));
    } catch (error) {
      await this.releaseQuietly(prepared.key, fencingToken);
      this.report('failed', prepared.key);
      throw error;
    }
  }

  private encode(prepared: PreparedEvent, result: TResult): EncodedResult {
    return encodeResult(prepared.key, result, { store: this.storeResult, maxBytes: this.maxResultBytes });
  }

  /**
   * Records a handler's completion (unless a batch `completeMany` already did: `landed`) and
   * reports it; throws when the caller must not take the call as done.
   */
  private async finishClaim(
    prepared: PreparedEvent,
    fencingToken: number,
    encoded: EncodedResult,
    landed = false,
  ): Promise<void> {
    try {
      if (!landed) {
        try {
          await this.completeClaim(prepared.key, fencingToken, encoded.text);
        } catch (error) {
          // Only the store knows its exact per-record overhead; a result it refuses is oversize too.
          if (!(error instanceof IdempotencyResultTooLargeError) || encoded.text === undefined) throw error;
          encoded = { text: undefined, oversize: error };
          await this.completeClaim(prepared.key, fencingToken, undefined);
        }
      }
    } catch (error) {
      if (error instanceof LeaseLostError) {
        this.logger.warn('idempotency: lease lost before completion; the result was not recorded', {
          key: prepared.key,
          fencingToken,
          currentToken: error.current?.fencingToken,
        });
        this.report('lease_lost', prepared.key);
        throw error;
      }
      if (this.store.transactional) {
        // In the caller's transaction the effect commits or rolls back with the completion:
        // the caller must see the failure and roll back, or the event is lost.
        this.report('failed', prepared.key);
        throw toStoreError(this.store, 'complete', error);
      }
      // The side effect already happened: failing the call now would only invite a retry that
      // repeats it once the lease lapses, so report the store fault and return the result.
      this.logger.error('idempotency: could not record completion; a redelivery after the lease may run again', {
        key: prepared.key,
        error: describe(error),
      });
    }
    this.report('processed', prepared.key);
    if (encoded.oversize !== undefined) {
      this.logger.warn('idempotency: result not stored, larger than the store accepts', {
        key: prepared.key,
        bytes: encoded.oversize.bytes,
        maxBytes: encoded.oversize.maxBytes,
      });
      if (this.oversize === 'error') throw encoded.oversize;
    }
  }

  /**
   * Records the completion, retrying a retryable store fault: a completion lost to a cut
   * connection would leave the key in progress, and once its lease lapsed a duplicate would run
   * the effect again. Retrying is safe because the fencing token fences it: only the current
   * holder can complete, and a retry whose first attempt landed finds its own completed record.
   */
  private async completeClaim(key: string, fencingToken: number, result: string | undefined): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.complete({ key, fencingToken, result, retentionMs: this.retentionMs });
        return;
      } catch (error) {
        // A retry (ours, or the client's own, like the AWS SDK's) whose earlier attempt landed.
        if (error instanceof LeaseLostError && isOwnCompletion(error)) return;
        // In the caller's transaction a failed statement has aborted it: a retry cannot succeed.
        if (attempt >= COMPLETE_ATTEMPTS || this.store.transactional || !isRetryableFault(error)) throw error;
        this.logger.warn('idempotency: completion failed, retrying', { key, attempt, error: describe(error) });
      }
    }
  }

  private async answerExisting(prepared: PreparedEvent, record: IdempotencyRecord, event: TEvent): Promise<TResult> {
    if (record.status === 'in_progress') {
      this.report('in_progress', prepared.key);
      throw new IdempotencyInProgressError(prepared.key, record);
    }
    this.checkFingerprint(prepared, record);
    this.noteDuplicate(prepared.key, record, event);
    if (this.options.duplicateResponse) {
      return this.options.duplicateResponse({ key: prepared.key, strategy: this.strategy.name, record, event });
    }
    return decodeResult(record.result) as TResult;
  }

  private checkFingerprint(prepared: PreparedEvent, record: IdempotencyRecord): void {
    if (prepared.fingerprint === undefined || record.fingerprint === undefined) return;
    if (prepared.fingerprint === record.fingerprint) return;
    if (this.payloadMismatch === 'error') {
      this.report('conflict', prepared.key);
      throw new IdempotencyKeyConflictError(prepared.key, record.fingerprint, prepared.fingerprint);
    }
    this.logger.warn('idempotency: payload differs from the first delivery of this key', {
      key: prepared.key,
      storedFingerprint: record.fingerprint,
      fingerprint: prepared.fingerprint,
    });
  }

  private noteDuplicate(key: string, record: IdempotencyRecord, event: TEvent): void {
    this.logger.info('idempotency: duplicate skipped', {
      key,
      strategy: this.strategy.name,
      originalTime: new Date(record.claimedAt).toISOString(),
      fencingToken: record.fencingToken,
    });
    this.report('duplicate', key);
    this.options.onDuplicate?.({ key, strategy: this.strategy.name, record, event });
  }

  private async runDespiteOutage(
    key: string,
    event: TEvent,
    handler: ClaimedHandler<TEvent, TResult>,
    error: IdempotencyError,
  ): Promise<TResult> {
    if (!this.options.failOpen || !(error instanceof IdempotencyStoreError)) {
      this.report('failed', key);
      throw error;
    }
    this.logger.warn('idempotency: store unavailable, running without a claim (failOpen)', {
      key,
      error: describe(error),
    });
    this.report('fail_open', key);
    return runWithClaim(undefined, () => handler(event, undefined));
  }

  private async releaseQuietly(key: string, fencingToken: number): Promise<void> {
    try {
      await this.store.release(key, fencingToken);
    } catch (error) {
      // The lease will lapse on its own; the handler's error matters more than this one.
      this.logger.warn('idempotency: could not release the claim; it frees when its lease lapses', {
        key,
        error: describe(error),
      });
    }
  }

  private report(kind: OutcomeKind, key?: string): void {
    this.options.onOutcome?.(key === undefined ? { kind, strategy: this.strategy.name } : { kind, key, strategy: this.strategy.name });
  }
}

function fingerprinter<TEvent>(
  option: EngineOptions<TEvent>['fingerprint'],
): (event: TEvent) => string {
  if (typeof option === 'function') return option;
  const hash = contentHash(option ?? {});
  return (event) => hash.keyFor(event).key;
}

function oneOf<T extends string>(field: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) throw new ConfigError(field, `must be one of ${allowed.join(', ')} (got "${value}")`);
  return value;
}

function toStoreError(store: IdempotencyStore, operation: string, error: unknown): IdempotencyError {
  if (error instanceof IdempotencyError) return error;
  return new IdempotencyStoreError(store.name, `${operation} failed: ${describe(error)}`, { cause: error });
}

/** A store fault worth retrying: the store said so, or it threw something it did not classify. */
function isRetryableFault(error: unknown): boolean {
  if (error instanceof IdempotencyStoreError) return error.retryable;
  return !(error instanceof IdempotencyError);
}

/** The refusal of a retried completion whose earlier attempt landed (its reply was lost). */
function isOwnCompletion(error: LeaseLostError): boolean {
  return error.current?.status === 'completed' && error.current.fencingToken === error.fencingToken;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
