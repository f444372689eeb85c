import type { Clock } from '../clock.js';
import { ConfigError } from '../errors.js';
import { assertPositiveMs } from '../store/validate.js';
import type { ClaimOutcome, ClaimRequest, IdempotencyStore } from '../store/types.js';
import type { InProgressWait, Sleep } from './options.js';
import { describeError, type EngineReporter } from './reporter.js';
import { realSleep } from './timers.js';

/** The first interval between polls when `pollMs` is not given. */
const DEFAULT_POLL_MS = 100;
/** Each interval is twice the last, up to this many times `pollMs`. */
const MAX_BACKOFF = 8;
/**
 * Kept back from a call's remaining time once waiting ends: the answer (the last poll's reply,
 * a stored result to decode, the error) must reach the caller before Lambda stops the invocation.
 */
export const ANSWER_RESERVE_MS = 1_000;

// The caller awaits a waiting duplicate: its timer is real work and keeps the process alive.
const refSleep = realSleep(true);

/** What waiting for an in-flight claim needs from the engine. */
export interface InFlightSettings {
  store: IdempotencyStore;
  reporter: EngineReporter;
  clock: Clock;
  sleep: Sleep | undefined;
}

/** Where a wait ended: the last claim outcome, how many polls it took and how long it waited. */
export interface WaitResult {
  /** Acquired (the first delivery let go: run the handler), or refused by a completed or still running claim. */
  outcome: ClaimOutcome;
  polls: number;
  waitedMs: number;
}

/**
 * Waits for a claim that is in progress elsewhere (`inProgress.wait`), by re-claiming the key with
 * backoff. A claim is atomic and answers in the same round trip, so each poll either sees the
 * completed record (answer as a duplicate), sees the claim still running (poll again), or finds
 * it released or lapsed and acquires the key itself: then this delivery runs the handler, which is
 * what a retry after today's in-progress error would have done.
 */
export class InFlightWaiter {
  private readonly wait: Required<InProgressWait> | undefined;
  private readonly sleep: Sleep;

  constructor(
    option: InProgressWait | undefined,
    private readonly settings: InFlightSettings,
  ) {
    this.sleep = settings.sleep ?? refSleep;
    if (option === undefined) return;
    if (typeof option !== 'object' || option === null) throw new ConfigError('inProgress.wait', 'must be { maxMs, pollMs? }');
    assertPositiveMs('inProgress.wait.maxMs', option.maxMs);
    const pollMs = option.pollMs ?? DEFAULT_POLL_MS;
    assertPositiveMs('inProgress.wait.pollMs', pollMs);
    if (pollMs > option.maxMs) throw new ConfigError('inProgress.wait.pollMs', `must not exceed maxMs (${option.maxMs}), got ${pollMs}`);
    this.wait = { maxMs: option.maxMs, pollMs };
  }

  /**
   * Until when a call starting now may wait: `maxMs` from now, and no later than its
   * `remainingMs` less {@link ANSWER_RESERVE_MS}. Undefined when duplicates do not wait.
   */
  deadline(remainingMs: number | undefined): number | undefined {
    if (this.wait === undefined) return undefined;
    const budget = remainingMs === undefined ? this.wait.maxMs : Math.min(this.wait.maxMs, remainingMs - ANSWER_RESERVE_MS);
    return this.settings.clock() + Math.max(0, budget);
  }

  /** Whether a claim outcome is one to wait on: refused by a claim running elsewhere, with time to wait. */
  shouldWait(outcome: ClaimOutcome, deadline: number | undefined): boolean {
    return deadline !== undefined && isRunningElsewhere(outcome);
  }

  /**
   * Re-claims with `request` until the claim is acquired or refused by a completed record, or
   * `deadline` passes; returns the last outcome. A poll the store fails ends the wait with the
   * last answer: running the handler despite a known running claim could repeat its effect.
   */
  async untilSettled(request: ClaimRequest, refused: ClaimOutcome, deadline: number): Promise<WaitResult> {
    const { store, reporter, clock } = this.settings;
    const startedAt = clock();
    let outcome = refused;
    let polls = 0;
    let intervalMs = this.wait!.pollMs;
    while (isRunningElsewhere(outcome)) {
      const leftMs = deadline - clock();
      if (leftMs <= 0) break;
      await this.sleep(Math.min(intervalMs, leftMs));
      intervalMs = Math.min(intervalMs * 2, this.wait!.pollMs * MAX_BACKOFF);
      polls += 1;
      try {
        outcome = await store.claim(request);
      } catch (error) {
        reporter.warn('idempotency: could not poll the claim in progress; answering as in progress', request.key, {
          error: describeError(error),
        });
        break;
      }
    }
    const waitedMs = clock() - startedAt;
    if (polls > 0) reporter.debug('idempotency: waited for the claim in progress', request.key, { waitedMs, polls });
    return { outcome, polls, waitedMs };
  }
}

function isRunningElsewhere(outcome: ClaimOutcome): boolean {
  return !outcome.acquired && outcome.record.status === 'in_progress';
}
