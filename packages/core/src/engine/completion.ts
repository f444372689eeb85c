import { IdempotencyError, IdempotencyResultTooLargeError, IdempotencyStoreError, LeaseLostError } from '../errors.js';
import type { IdempotencyStore, IdentityToken } from '../store/types.js';
import type { OutcomeKind } from './options.js';
import type { ActiveClaim } from './claim-context.js';
import { describeError, type EngineReporter } from './reporter.js';
import type { OversizePolicy, EncodedResult } from './result-codec.js';

/** Attempts to record one completion before the engine gives up and logs it. */
export const COMPLETE_ATTEMPTS = 3;

/** What recording a completion needs from the engine. */
export interface CompletionSettings {
  store: IdempotencyStore;
  retentionMs: number;
  oversize: OversizePolicy;
  reporter: EngineReporter;
  /** How the delivery of a completed claim ended: `processed`, unless the ordering guard skipped its handler. */
  outcomeOf?: (claim: ActiveClaim) => OutcomeKind;
}

/**
 * Records that a handler ran. Everything here happens *after* the side effect, so every path ends
 * with the claim completed, or with an error that says the effect happened — never with a claim
 * left to lapse into a second run unless the store itself is out of reach.
 */
export class CompletionRecorder {
  constructor(private readonly settings: CompletionSettings) {}

  /**
   * Records a handler's completion (unless a batch `completeMany` already did: `landed`) and
   * reports it; throws when the caller must not take the call as done.
   */
  async finish(
    claim: ActiveClaim,
    encoded: EncodedResult,
    landed = false,
    recorded?: (result: string | undefined, completed: ReadonlySet<string>) => void,
  ): Promise<void> {
    const { store, reporter } = this.settings;
    try {
      // Every identity, unless one of an anyOf claim was taken over and the others completed without it.
      let completed = claim.also;
      if (!landed) {
        try {
          completed = await this.complete(claim, encoded.text);
        } catch (error) {
          // Only the store knows its exact per-record overhead; a result it refuses is oversize too.
          if (!(error instanceof IdempotencyResultTooLargeError) || encoded.text === undefined) throw error;
          encoded = { text: undefined, oversize: error };
          completed = await this.complete(claim, undefined);
        }
      }
      // Only a completion the store holds may be answered from this process's cache.
      recorded?.(encoded.text, new Set([claim.key, ...(completed ?? []).map((identity) => identity.key)]));
    } catch (error) {
      if (error instanceof LeaseLostError) {
        reporter.warn('idempotency: lease lost before completion; the result was not recorded', claim.key, {
          fencingToken: claim.fencingToken,
          currentToken: error.current?.fencingToken,
        });
        reporter.outcome('lease_lost', claim.key, claim.fencingToken);
        throw error;
      }
      if (store.transactional) {
        // In the caller's transaction the effect commits or rolls back with the completion:
        // the caller must see the failure and roll back, or the event is lost.
        reporter.outcome('failed', claim.key, claim.fencingToken);
        throw toStoreError(store, 'complete', error);
      }
      // The side effect already happened: failing the call now would only invite a retry that
      // repeats it once the lease lapses, so report the store fault and return the result.
      reporter.error('idempotency: could not record completion; a redelivery after the lease may run again', claim.key, {
        error: describeError(error),
      });
    }
    reporter.outcome(this.settings.outcomeOf?.(claim) ?? 'processed', claim.key, claim.fencingToken);
    if (encoded.oversize !== undefined) {
      const reason = encoded.oversize instanceof IdempotencyResultTooLargeError ? 'larger than the store accepts' : 'not encodable as JSON';
      reporter.warn(`idempotency: result not stored, ${reason}`, claim.key, {
        ...(encoded.oversize instanceof IdempotencyResultTooLargeError
          ? { bytes: encoded.oversize.bytes, maxBytes: encoded.oversize.maxBytes }
          : { error: describeError(encoded.oversize.cause) }),
      });
      if (this.settings.oversize === 'error') throw encoded.oversize;
    }
  }

  /**
   * Records the completion of every identity (answering those it completed), retrying a retryable store fault: a completion
   * lost to a cut connection would leave the key in progress, and once its lease lapsed a
   * duplicate would run the effect again. Retrying is safe because the fencing token fences it:
   * only the current holder can complete, and a retry whose first attempt landed finds its own
   * completed record. An `anyOf` identity taken over meanwhile is dropped and the rest completed:
   * what is still ours must not lapse.
   */
  private async complete(claim: ActiveClaim, result: string | undefined): Promise<IdentityToken[] | undefined> {
    const { store, retentionMs, reporter } = this.settings;
    let also = claim.also;
    for (let attempt = 1; ; ) {
      try {
        await store.complete({ key: claim.key, fencingToken: claim.fencingToken, result, retentionMs, ...(also?.length ? { also } : {}) });
        return also;
      } catch (error) {
        // A retry (ours, or the client's own, like the AWS SDK's) whose earlier attempt landed.
        if (error instanceof LeaseLostError && isOwnCompletion(error)) return also;
        if (error instanceof LeaseLostError && error.key !== claim.key && also?.some((identity) => identity.key === error.key)) {
          reporter.warn('idempotency: one identity of the claim was taken over; completing the others', claim.key);
          also = also.filter((identity) => identity.key !== error.key);
          continue;
        }
        // In the caller's transaction a failed statement has aborted it: a retry cannot succeed.
        if (attempt >= COMPLETE_ATTEMPTS || store.transactional || !isRetryableFault(error)) throw error;
        attempt++;
        reporter.warn('idempotency: completion failed, retrying', claim.key, { attempt, error: describeError(error) });
      }
    }
  }
}

/** Wraps a store's own error as an {@link IdempotencyStoreError}; idemkit errors pass unchanged. */
export function toStoreError(store: Pick<IdempotencyStore, 'name'>, operation: string, error: unknown): IdempotencyError {
  if (error instanceof IdempotencyError) return error;
  return new IdempotencyStoreError(store.name, `${operation} failed: ${describeError(error)}`, { cause: error });
}

/** A store fault worth retrying: the store said so, or it threw something it did not classify. */
export function isRetryableFault(error: unknown): boolean {
  if (error instanceof IdempotencyStoreError) return error.retryable;
  return !(error instanceof IdempotencyError);
}

/** The refusal of a retried completion whose earlier attempt landed (its reply was lost). */
function isOwnCompletion(error: LeaseLostError): boolean {
  return error.current?.status === 'completed' && error.current.fencingToken === error.fencingToken;
}
