import {
  IdempotencyInProgressError,
  IdempotencyStoreError,
  LeaseLostError,
} from '../errors.js';
import { currentClaim, runWithClaim, type ActiveClaim } from '../engine/claim-context.js';
import { COMPLETE_ATTEMPTS, isRetryableFault, toStoreError } from '../engine/completion.js';
import type { OutcomeKind } from '../engine/options.js';
import { describeError, type EngineReporter } from '../engine/reporter.js';
import type { IdempotencyRecord, VersionClaimOutcome, VersionRecord } from '../store/types.js';
import type { ResolvedOrdering, SkippedEvent } from './options.js';
import type { EventVersion } from './sources.js';
import { decodeVersion, type Version } from './version.js';

/**
 * The version claim a handler runs under: its fencing token strictly increases per entity (over
 * every version ever claimed for it), so a write guarded by it (`WHERE token < $token`) can never
 * be overtaken by an older event's.
 */
export interface OrderingClaim {
  /** The full, namespaced entity key. */
  entity: string;
  /** The event's version, as read from it. */
  version: Version;
  /** The version as stores compare it: keep it beside your state for a conditional write of your own. */
  encoded: string;
  /** Strictly increases with every claim of the entity: guard a write with `WHERE token < $token`. */
  fencingToken: number;
}

/** How a guarded run ended, and what the call returns. */
export interface GuardedRun<TResult> {
  /** `processed` (the handler ran), `stale`/`duplicate` (skipped), `fail_open` (ran unguarded). */
  kind: Extract<OutcomeKind, 'processed' | 'stale' | 'duplicate' | 'fail_open'>;
  /** The handler's result, or the skipped response. */
  result: TResult | undefined;
}

/** Per-call settings of a version claim. */
export interface GuardCall {
  /** How long the version claim holds other versions off. */
  leaseMs: number;
  /** Who claims (the Lambda request id): a retry of the same owner takes its own claim over. */
  owner?: string | undefined;
}

/** What the guard needs beside its resolved options: the lease default, failOpen, where to report. */
export interface GuardSettings<TEvent, TResult> {
  /** The checked options: readers, store, retention, hooks. */
  ordering: ResolvedOrdering<TEvent, TResult>;
  /** Run the handler unguarded when the store is unreachable. */
  failOpen: boolean;
  /** Where log lines and hook errors go (the engine's, inside `idempotent`). */
  reporter: EngineReporter;
}

/**
 * The ordering guard: runs a handler only for a version newer than the one applied to its entity.
 * It reports to the log and `onStale`, never to `onOutcome`: its caller ({@link ordered}, or the
 * engine when dedup comes first) reports each delivery's outcome once.
 */
export class OrderingGuard<TEvent, TResult> {
  constructor(private readonly settings: GuardSettings<TEvent, TResult>) {}

  /**
   * The entity and version of an event, without touching the store.
   * @throws {@link KeyExtractionError} when the event lacks the entity or version.
   */
  versionOf(event: TEvent): EventVersion {
    return this.settings.ordering.read(event);
  }

  /**
   * Claims the event's version and runs `run` under it: skips a stale or already applied version,
   * throws {@link IdempotencyInProgressError} while another version of the entity runs, releases
   * the claim and rethrows when `run` throws, and records the version once `run` returns.
   */
  async apply(
    target: EventVersion,
    event: TEvent,
    run: (claim: OrderingClaim | undefined) => Promise<TResult> | TResult,
    call: GuardCall,
  ): Promise<GuardedRun<TResult>> {
    const { store, retentionMs } = this.settings.ordering;
    let outcome: VersionClaimOutcome;
    try {
      outcome = await store.claimVersion({
        entity: target.entity,
        version: target.encoded,
        leaseMs: call.leaseMs,
        retentionMs,
        ...(call.owner === undefined ? {} : { owner: call.owner }),
      });
    } catch (error) {
      return { kind: 'fail_open', result: await this.runDespiteOutage(target, toStoreError(store, 'claimVersion', error), run) };
    }
    switch (outcome.status) {
      case 'in_progress':
        throw new IdempotencyInProgressError(target.entity, pendingAsRecord(outcome.record));
      case 'stale':
      case 'duplicate':
        return { kind: outcome.status, result: await this.skip(outcome.status, target, outcome.record, event) };
      case 'acquired': {
        const claim: OrderingClaim = { entity: target.entity, version: target.version, encoded: target.encoded, fencingToken: outcome.fencingToken };
        const result = await this.runClaimed(claim, outcome.record.pending?.leaseExpiresAt ?? 0, run);
        await this.complete(claim);
        return { kind: 'processed', result };
      }
    }
  }

  private async runClaimed(
    claim: OrderingClaim,
    leaseExpiresAt: number,
    run: (claim: OrderingClaim) => Promise<TResult> | TResult,
  ): Promise<TResult> {
    // Inside an idempotent call the dedup claim stays visible, with the version claim beside it;
    // alone, the version claim is the claim.
    const own = { key: claim.entity, fencingToken: claim.fencingToken, leaseExpiresAt };
    const active: ActiveClaim = { ...(currentClaim() ?? own), ordering: claim };
    try {
      return await runWithClaim(active, () => run(claim));
    } catch (error) {
      try {
        await this.settings.ordering.store.releaseVersion(claim.entity, claim.fencingToken);
      } catch (releaseError) {
        // The lease frees it later; the handler's error matters more.
        this.settings.reporter.warn('ordering: could not release the version claim; it frees when its lease lapses', claim.entity, {
          error: describeError(releaseError),
        });
      }
      throw error;
    }
  }

  /**
   * Records the applied version. This runs *after* the side effect: a retryable store fault is
   * retried (the fencing token makes a repeat harmless), and one that persists is logged, not
   * thrown — failing the call would only invite a redelivery that repeats the effect. In the
   * caller's transaction (a transactional store) the failure is thrown, so the caller rolls back.
   */
  private async complete(claim: OrderingClaim): Promise<void> {
    const { ordering, reporter } = this.settings;
    const store = ordering.store;
    const transactional = (store as { transactional?: boolean }).transactional === true;
    for (let attempt = 1; ; attempt++) {
      try {
        await store.completeVersion(claim.entity, claim.fencingToken, ordering.retentionMs);
        return;
      } catch (error) {
        if (error instanceof LeaseLostError) {
          // A retry (ours or the client's own) whose first attempt landed finds its version applied.
          if (!transactional && (await this.appliedVersion(claim.entity)) === claim.encoded) return;
          reporter.warn('ordering: version lease lost before completion; the version was not recorded', claim.entity, {
            fencingToken: claim.fencingToken,
          });
          throw error;
        }
        if (transactional) throw toStoreError(store, 'completeVersion', error);
        if (attempt >= COMPLETE_ATTEMPTS || !isRetryableFault(error)) {
          reporter.error('ordering: could not record the applied version; an older event may still apply', claim.entity, {
            error: describeError(error),
          });
          return;
        }
        reporter.warn('ordering: recording the applied version failed, retrying', claim.entity, { attempt: attempt + 1, error: describeError(error) });
      }
    }
  }

  private async appliedVersion(entity: string): Promise<string | undefined> {
    try {
      return (await this.settings.ordering.store.getVersion(entity))?.applied;
    } catch {
      return undefined;
    }
  }

  private async skip(kind: 'stale' | 'duplicate', target: EventVersion, record: VersionRecord, event: TEvent): Promise<TResult | undefined> {
    const { ordering, reporter } = this.settings;
    const skipped: SkippedEvent<TEvent> = {
      kind,
      entity: target.entity,
      version: target.version,
      applied: decodeVersion(record.applied ?? target.encoded),
      record,
      event,
    };
    if (kind === 'stale') {
      reporter.info('ordering: stale event skipped; a newer version of its entity was applied', target.entity, { fencingToken: record.fencingToken });
      const onStale = ordering.onStale;
      if (onStale !== undefined) reporter.callHook('onStale', () => onStale(skipped));
    } else {
      reporter.info('ordering: version already applied, skipped', target.entity, { fencingToken: record.fencingToken });
    }
    return ordering.skippedResponse === undefined ? undefined : ordering.skippedResponse(skipped);
  }

  private async runDespiteOutage(
    target: EventVersion,
    error: Error,
    run: (claim: OrderingClaim | undefined) => Promise<TResult> | TResult,
  ): Promise<TResult> {
    if (!this.settings.failOpen || !(error instanceof IdempotencyStoreError)) throw error;
    this.settings.reporter.warn('ordering: store unavailable, running without a version claim (failOpen)', target.entity, {
      error: describeError(error),
    });
    return run(undefined);
  }
}

/** The outcome kind of a guarded call that threw. */
export function outcomeOfFailure(error: unknown): OutcomeKind {
  if (error instanceof IdempotencyInProgressError) return 'in_progress';
  if (error instanceof LeaseLostError) return 'lease_lost';
  return 'failed';
}

// IdempotencyInProgressError describes the claim that holds the key off; for an entity, that is
// its pending version.
function pendingAsRecord(record: VersionRecord): IdempotencyRecord {
  const pending = record.pending;
  return {
    key: record.entity,
    status: 'in_progress',
    fencingToken: pending?.fencingToken ?? record.fencingToken,
    leaseExpiresAt: pending?.leaseExpiresAt ?? 0,
    expiresAt: record.expiresAt,
    claimedAt: pending?.claimedAt ?? 0,
    ...(pending?.owner === undefined ? {} : { owner: pending.owner }),
  };
}
