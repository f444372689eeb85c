import {
  ConfigError,
  IdempotencyError,
  IdempotencyInProgressError,
  IdempotencyKeyConflictError,
  IdempotencyStoreError,
} from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import { OrderingGuard, outcomeOfFailure } from '../ordering/guard.js';
import { resolveOrdering } from '../ordering/options.js';
import { assertPositiveInteger, assertPositiveMs } from '../store/validate.js';
import { CompletedCache } from './local-cache.js';
import type { ClaimOutcome, ClaimRequest, IdempotencyRecord, IdempotencyStore } from '../store/types.js';
import { contentHash, strategyFromConfig } from '../strategies/index.js';
import type { DedupKeyStrategy } from '../strategies/types.js';
import { runBatch, type BatchItem, type BatchItemOutcome, type BatchOptions } from './batch.js';
import { runWithClaim, type ActiveClaim } from './claim-context.js';
import { CompletionRecorder, toStoreError } from './completion.js';
import { LeaseKeeper, type Heartbeat } from './heartbeat.js';
import { InFlightWaiter } from './in-flight.js';
import { silentLogger } from './logger.js';
import type { EngineOptions, OutcomeKind, PayloadMismatchPolicy } from './options.js';
import { claimOf, claimRequestFor, prepareEvent, type PreparedEvent } from './prepared.js';
import { describeError, EngineReporter } from './reporter.js';
import { decodeResult, encodeResult, type EncodedResult, type OversizePolicy } from './result-codec.js';

export { BatchItemSkippedError, type BatchItem, type BatchItemOutcome, type BatchOptions } from './batch.js';

/** What a namespace may hold: it starts every key in every store. */
export const NAMESPACE_PATTERN = /^[A-Za-z0-9_.\-/]{1,64}$/;

/** A handler run under a claim; `claim` is undefined only when `failOpen` let a store outage through. */
export type ClaimedHandler<TEvent, TResult> = (event: TEvent, claim: ActiveClaim | undefined) => Promise<TResult> | TResult;

/** Per-call overrides. */
export interface RunOptions {
  /** Lease for this call, e.g. from the Lambda's remaining time. */
  leaseMs?: number;
  /**
   * Who makes the claim, e.g. the Lambda request id (kept by Lambda across its own retries of one
   * invocation). A retried claim of the same owner — its first attempt landed, its reply was lost —
   * takes its own in-progress claim over instead of being refused as someone else's.
   */
  owner?: string;
  /**
   * How long this call has left in all, e.g. the Lambda's remaining time: a duplicate waiting for
   * a claim in progress (`inProgress.wait`) stops waiting in time to answer within it.
   * @default unbounded (only `inProgress.wait.maxMs` bounds the wait)
   */
  remainingMs?: number;
}

/**
 * The idempotency engine: claims a key per event, runs the handler once per logical event, stores
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
  /** @internal */ readonly store: IdempotencyStore;
  /** @internal */ readonly reporter: EngineReporter;
  /** @internal */ readonly completion: CompletionRecorder;
  /** @internal The ordering guard, run after dedup when configured. */
  readonly guard: OrderingGuard<TEvent, TResult> | undefined;
  // How a claim's delivery ended when the guard skipped its handler (stale, or the version applied).
  private readonly skipped = new WeakMap<ActiveClaim, OutcomeKind>();
  /** @internal */ readonly inFlight: InFlightWaiter;
  /** @internal */ readonly clock: Clock;
  /** @internal The in-process cache of completed keys, when `localCache` is on. */ readonly cache: CompletedCache | undefined;
  private readonly leases: LeaseKeeper;
  private readonly leaseMs: number;
  private readonly retentionMs: number;
  private readonly payloadMismatch: PayloadMismatchPolicy;
  private readonly fingerprintOf: ((event: TEvent) => string) | undefined;
  private readonly storeResult: boolean;
  private readonly maxResultBytes: number | undefined;

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
    const oversize: OversizePolicy = oneOf('onOversizeResult', options.onOversizeResult ?? 'error', ['error', 'skip']);
    const logKeys = oneOf('logKeys', options.logKeys ?? 'hash', ['hash', 'raw']);
    this.storeResult = options.storeResult ?? true;
    this.maxResultBytes = options.maxResultBytes ?? this.store.maxResultBytes;
    this.fingerprintOf = this.payloadMismatch === 'ignore' ? undefined : fingerprinter(options.fingerprint);
    this.reporter = new EngineReporter(options.logger ?? silentLogger, this.strategy.name, logKeys, {
      onOutcome: options.onOutcome,
      onDuplicate: options.onDuplicate as never,
      onFirstRun: options.onFirstRun as never,
    });
    this.completion = new CompletionRecorder({
      store: this.store,
      retentionMs: this.retentionMs,
      oversize,
      reporter: this.reporter,
      outcomeOf: (claim) => this.skipped.get(claim) ?? 'processed',
    });
    this.guard =
      options.ordering === undefined
        ? undefined
        : new OrderingGuard<TEvent, TResult>({
            ordering: resolveOrdering<TEvent, TResult>(options.ordering, this.namespace, this.store, { prefix: 'ordering' }),
            failOpen: options.failOpen ?? false,
            reporter: this.reporter,
          });
    this.clock = options.clock ?? systemClock;
    const timers = { store: this.store, reporter: this.reporter, clock: this.clock, sleep: options.sleep };
    this.inFlight = new InFlightWaiter(options.inProgress?.wait, timers);
    this.cache = localCacheOf(options.localCache, this.clock);
    this.leases = new LeaseKeeper(options.heartbeat, this.leaseMs, timers);
  }

  /**
   * The full key an event gets, without touching the store: use it to see what a strategy does.
   * For an `anyOf` strategy, the first identity's key; {@link identitiesFor} lists them all.
   * @throws {@link KeyExtractionError} when the event lacks a field the strategy needs.
   */
  keyFor(event: TEvent): string {
    return this.prepare(event).key;
  }

  /** Every identity an event gets (one, except for `anyOf` strategies), namespaced. */
  identitiesFor(event: TEvent): string[] {
    return this.prepare(event).identities.map((identity) => identity.key);
  }

  /**
   * Runs `handler` once per logical event. A completed duplicate returns the stored result without
   * running it; a key in progress elsewhere waits for it (`inProgress.wait`), then is answered by
   * `onInProgress` or throws {@link IdempotencyInProgressError}; a handler error releases the
   * claim and is rethrown.
   */
  async run(event: TEvent, handler: ClaimedHandler<TEvent, TResult>, runOptions: RunOptions = {}): Promise<TResult> {
    handler = this.guarded(handler, runOptions);
    const deadline = this.inFlight.deadline(runOptions.remainingMs);
    let prepared: PreparedEvent;
    try {
      prepared = this.prepare(event);
    } catch (error) {
      this.reporter.outcome('invalid_key');
      throw error;
    }
    const cached = this.cache?.find(prepared.identities);
    if (cached !== undefined) return this.answerExisting(prepared, cached, event);
    const request = this.claimRequest(prepared, runOptions);
    let outcome: ClaimOutcome;
    try {
      outcome = await this.store.claim(request);
    } catch (error) {
      return this.runDespiteOutage(prepared.key, event, handler, toStoreError(this.store, 'claim', error));
    }
    let waitedMs = 0;
    if (this.inFlight.shouldWait(outcome, deadline)) ({ outcome, waitedMs } = await this.inFlight.untilSettled(request, outcome, deadline!));
    if (outcome.acquired) {
      const claim = claimOf(prepared, outcome);
      return this.execute(prepared, claim, event, handler, this.keepAlive(claim, request.leaseMs));
    }
    return this.answerExisting(prepared, outcome.record, event, waitedMs);
  }

  /**
   * Runs a batch (an SQS batch): claims every item in one `claimMany`, runs new items in order,
   * and reports each item's outcome. Items of one batch are judged against each other by the
   * same rules as against the store: a distinct occurrence runs, a real repeat is a duplicate
   * (answered with its earlier item's fate), and a bad item fails alone.
   */
  runBatch(
    items: readonly BatchItem<TEvent>[],
    handler: ClaimedHandler<TEvent, TResult>,
    batchOptions: BatchOptions = {},
  ): Promise<BatchItemOutcome<TResult>[]> {
    return runBatch(this, items, this.guarded(handler, batchOptions), batchOptions);
  }

  /** @internal How long completed keys are remembered. */
  get retention(): number {
    return this.retentionMs;
  }

  /** @internal */
  prepare(event: TEvent): PreparedEvent {
    const prepared = prepareEvent(this.namespace, this.strategy, this.fingerprintOf, event);
    // A malformed version fails here, before anything is claimed, as a malformed key does.
    this.guard?.versionOf(event);
    return prepared;
  }

  /**
   * @internal The handler behind the ordering guard (dedup has passed; now the version must be
   * newer), or `handler` itself without a guard. A skipped handler's dedup claim still completes,
   * so a redelivery is a plain duplicate; the delivery is reported `stale` or `duplicate`.
   */
  guarded(handler: ClaimedHandler<TEvent, TResult>, runOptions: RunOptions): ClaimedHandler<TEvent, TResult> {
    const { guard } = this;
    if (guard === undefined) return handler;
    return async (event, claim) => {
      const admitted = () => {
        if (claim !== undefined) this.announceRun(claim, event);
        return handler(event, claim);
      };
      const run = await guard.apply(guard.versionOf(event), event, admitted, {
        leaseMs: runOptions.leaseMs ?? this.leaseMs,
        owner: runOptions.owner,
      });
      if (claim !== undefined && run.kind !== 'processed') this.skipped.set(claim, run.kind);
      return run.result as TResult;
    };
  }

  /** @internal */
  claimRequest(prepared: PreparedEvent, runOptions: RunOptions): ClaimRequest {
    return claimRequestFor(prepared, {
      leaseMs: runOptions.leaseMs ?? this.leaseMs,
      retentionMs: this.retentionMs,
      owner: runOptions.owner,
    });
  }

  /**
   * @internal Keeps an acquired claim's lease running (the `heartbeat` option) until the
   * returned heartbeat is stopped; a no-op without the option.
   */
  keepAlive(claim: ActiveClaim, leaseMs: number): Heartbeat {
    return this.leases.start(claim, leaseMs);
  }

  /**
   * @internal Runs the handler under an acquired claim and records its completion. The heartbeat
   * stops once the handler has ended, before the claim is completed or released.
   */
  async execute(
    prepared: PreparedEvent,
    claim: ActiveClaim,
    event: TEvent,
    handler: ClaimedHandler<TEvent, TResult>,
    heartbeat: Heartbeat,
  ): Promise<TResult> {
    const result = await this.runToEnd(prepared, claim, event, handler, heartbeat);
    await this.record(prepared, claim, result);
    return result;
  }

  /** @internal Runs the handler under an acquired claim ({@link runClaimed}); the heartbeat stops once it has ended. */
  runToEnd(
    prepared: PreparedEvent,
    claim: ActiveClaim,
    event: TEvent,
    handler: ClaimedHandler<TEvent, TResult>,
    heartbeat: Heartbeat,
  ): Promise<TResult> {
    const running = this.runClaimed(prepared, claim, event, handler, heartbeat);
    // Without the heartbeat option there is nothing to stop, and no promise of our own to add.
    return heartbeat.idle === true ? running : running.finally(() => heartbeat.stop());
  }

  /** @internal Records the completion of a handler that returned `result` (see {@link CompletionRecorder.finish}). */
  record(prepared: PreparedEvent, claim: ActiveClaim, result: TResult): Promise<void> {
    return this.completion.finish(claim, this.encode(prepared, result), false, this.cacheCompletion(prepared, claim));
  }

  /**
   * @internal What to remember once a completion is recorded: every identity's occurrence, with a
   * retention counted from before the completion was sent, so the cache never outlives the store.
   */
  cacheCompletion(prepared: PreparedEvent, claim: ActiveClaim): ((result: string | undefined, completed: ReadonlySet<string>) => void) | undefined {
    const cache = this.cache;
    if (cache === undefined) return undefined;
    const sentAt = this.clock();
    const tokens = new Map([[claim.key, claim.fencingToken], ...(claim.also ?? []).map((identity) => [identity.key, identity.fencingToken] as const)]);
    return (result, completed) => {
      for (const identity of prepared.identities) {
        const fencingToken = tokens.get(identity.key);
        // An identity taken over before the completion was not recorded for this claim: never cache it.
        if (fencingToken === undefined || !completed.has(identity.key)) continue;
        const record: IdempotencyRecord = {
          key: identity.key,
          status: 'completed',
          fencingToken,
          leaseExpiresAt: sentAt,
          expiresAt: sentAt + this.retentionMs,
          claimedAt: sentAt,
        };
        if (identity.window !== undefined) record.windowAnchor = identity.window.at;
        if (prepared.fingerprint !== undefined) record.fingerprint = prepared.fingerprint;
        if (result !== undefined) record.result = result;
        cache.remember(record);
      }
    };
  }

  /**
   * @internal Runs the handler under its claim; a handler error stops `heartbeat`, releases the
   * claim and is rethrown. On success the heartbeat runs on until the caller has the claim
   * completed (a batch's `completeMany` comes after its last handler).
   */
  async runClaimed(
    prepared: PreparedEvent,
    claim: ActiveClaim,
    event: TEvent,
    handler: ClaimedHandler<TEvent, TResult>,
    heartbeat: Heartbeat,
  ): Promise<TResult> {
    // Behind the ordering guard the handler may not run at all (stale): the guard announces it if it does.
    if (this.guard === undefined) this.announceRun(claim, event);
    try {
      return await runWithClaim(claim, () => handler(event, claim));
    } catch (error) {
      // Stopped before the release, so a late beat cannot be taken for a lost lease.
      heartbeat.stop();
      await this.releaseQuietly(claim);
      // The ordering guard throws in_progress (another version runs) and lease_lost errors too.
      this.reporter.outcome(outcomeOfFailure(error), prepared.key, claim.fencingToken);
      throw error;
    }
  }

  /** @internal Reports a handler about to run under a new claim (`executed`, `onFirstRun`). */
  announceRun(claim: ActiveClaim, event: TEvent): void {
    this.reporter.firstRun(
      () => ({
        kind: 'executed',
        key: claim.key,
        fencingToken: claim.fencingToken,
        ...(claim.also === undefined ? {} : { also: claim.also }),
        strategy: this.strategy.name,
        event,
      }),
      claim.key,
      claim.fencingToken,
    );
  }

  /** @internal */
  encode(prepared: PreparedEvent, result: TResult): EncodedResult {
    return encodeResult(prepared.key, result, { store: this.storeResult, maxBytes: this.maxResultBytes });
  }

  /**
   * @internal Answers a delivery the store refused: in progress elsewhere (after `waitedMs` of
   * waiting), or a completed duplicate.
   */
  // Not async, as answerDuplicate: a completed duplicate is answered without a promise of its own.
  answerExisting(prepared: PreparedEvent, record: IdempotencyRecord, event: TEvent, waitedMs = 0): TResult | Promise<TResult> {
    this.cache?.remember(record);
    if (record.status === 'in_progress') return this.answerInProgress(prepared, record, event, waitedMs);
    this.checkFingerprint(prepared, record);
    return this.answerDuplicate(prepared, record, event, () => decodeResult(record.result) as TResult);
  }

  /**
   * @internal Answers a delivery whose key is in progress elsewhere: `onInProgress`'s value (or
   * its error), else a retryable {@link IdempotencyInProgressError}.
   */
  async answerInProgress(prepared: PreparedEvent, record: IdempotencyRecord, event: TEvent, waitedMs: number): Promise<TResult> {
    this.reporter.outcome('in_progress', prepared.key);
    const decide = this.options.onInProgress;
    if (decide === undefined) throw new IdempotencyInProgressError(record.key, record);
    return decide({ key: record.key, strategy: this.strategy.name, record, event, waitedMs });
  }

  /** @internal Reports a duplicate and returns the configured duplicate response, or `fallback()`. */
  answerDuplicate(prepared: PreparedEvent, record: IdempotencyRecord, event: TEvent, fallback: () => TResult): TResult | Promise<TResult> {
    if (this.reporter.enabled('info')) {
      this.reporter.info('idempotency: duplicate skipped', record.key, {
        originalTime: new Date(record.claimedAt).toISOString(),
        fencingToken: record.fencingToken,
      });
    }
    this.reporter.outcome('duplicate', prepared.key);
    this.reporter.duplicate({ key: record.key, strategy: this.strategy.name, record, event });
    if (this.options.duplicateResponse) {
      return this.options.duplicateResponse({ key: record.key, strategy: this.strategy.name, record, event });
    }
    return fallback();
  }

  /** @internal */
  async runDespiteOutage(key: string, event: TEvent, handler: ClaimedHandler<TEvent, TResult>, error: IdempotencyError): Promise<TResult> {
    if (!this.options.failOpen || !(error instanceof IdempotencyStoreError)) {
      this.reporter.outcome('failed', key);
      throw error;
    }
    this.reporter.warn('idempotency: store unavailable, running without a claim (failOpen)', key, { error: describeError(error) });
    this.reporter.outcome('fail_open', key);
    return runWithClaim(undefined, () => handler(event, undefined));
  }

  /** @internal Releases every identity of a claim; a failure is logged, the lease frees it later. */
  async releaseQuietly(claim: ActiveClaim): Promise<void> {
    try {
      await this.store.release(claim.key, claim.fencingToken, claim.also);
    } catch (error) {
      // The lease will lapse on its own; the handler's error matters more than this one.
      this.reporter.warn('idempotency: could not release the claim; it frees when its lease lapses', claim.key, {
        error: describeError(error),
      });
    }
  }

  /** @internal */
  report(kind: OutcomeKind, key?: string): void {
    this.reporter.outcome(kind, key);
  }

  /**
   * @internal Compares a delivery's payload fingerprint with the record it repeats
   * (`payloadMismatch`): throws {@link IdempotencyKeyConflictError} under `error`, warns under `warn`.
   */
  checkFingerprint(prepared: PreparedEvent, record: IdempotencyRecord): void {
    if (prepared.fingerprint === undefined || record.fingerprint === undefined) return;
    if (prepared.fingerprint === record.fingerprint) return;
    if (this.payloadMismatch === 'error') {
      this.reporter.outcome('conflict', prepared.key);
      throw new IdempotencyKeyConflictError(record.key, record.fingerprint, prepared.fingerprint);
    }
    this.reporter.warn('idempotency: payload differs from the first delivery of this key', record.key, {
      storedFingerprint: record.fingerprint,
      fingerprint: prepared.fingerprint,
    });
  }
}

function fingerprinter<TEvent>(option: EngineOptions<TEvent>['fingerprint']): (event: TEvent) => string {
  if (typeof option === 'function') return option;
  const hash = contentHash(option ?? {});
  return (event) => hash.keyFor(event).key;
}

function localCacheOf(option: EngineOptions['localCache'], clock: Clock): CompletedCache | undefined {
  if (option === undefined || option === false) return undefined;
  const maxEntries = option === true ? 1_000 : (option.maxEntries ?? 1_000);
  assertPositiveInteger('localCache.maxEntries', maxEntries, 'entries');
  return new CompletedCache(maxEntries, clock);
}

function oneOf<T extends string>(field: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) throw new ConfigError(field, `must be one of ${allowed.join(', ')} (got "${value}")`);
  return value;
}
