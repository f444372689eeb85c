import type { Clock } from '../clock.js';
import { ConfigError, LeaseLostError } from '../errors.js';
import { assertPositiveMs } from '../store/validate.js';
import type { IdempotencyStore, IdentityToken } from '../store/types.js';
import type { ActiveClaim } from './claim-context.js';
import type { HeartbeatOption, Sleep } from './options.js';
import { describeError, type EngineReporter } from './reporter.js';
import { realSleep } from './timers.js';

/** A running heartbeat; `stop` is idempotent and never waits. */
export interface Heartbeat {
  stop(): void;
  /** True for the heartbeat of an engine without the option: nothing to stop. */
  readonly idle?: boolean;
}

const NO_HEARTBEAT: Heartbeat = { stop() {}, idle: true };

// A heartbeat runs beside the handler, which keeps the process busy on its own: the heartbeat's
// timer must never be what keeps a process (a test runner, a CLI) from exiting.
const unrefSleep = realSleep(false);

/** What extending leases needs from the engine. */
export interface HeartbeatSettings {
  store: IdempotencyStore;
  reporter: EngineReporter;
  clock: Clock;
  sleep: Sleep | undefined;
}

/**
 * Keeps running claims alive: while a handler runs, extends its claim's lease (every identity,
 * all or nothing) to now + the call's lease, conditional on the fencing token, so a handler that
 * outlives its first lease keeps its claim and a second delivery cannot take it over.
 */
export class LeaseKeeper {
  /** Whether claims get a heartbeat at all. */
  readonly enabled: boolean;
  private readonly everyMs: number | undefined;
  private readonly sleep: Sleep;

  /** `leaseMs` is the engine's own lease, which an explicit interval must be shorter than. */
  constructor(
    option: HeartbeatOption | undefined,
    leaseMs: number,
    private readonly settings: HeartbeatSettings,
  ) {
    this.sleep = settings.sleep ?? unrefSleep;
    this.enabled = option !== undefined && option !== false;
    if (option === undefined || typeof option === 'boolean') return;
    if (typeof option !== 'object' || option === null) throw new ConfigError('heartbeat', 'must be true, false or { everyMs }');
    assertPositiveMs('heartbeat.everyMs', option.everyMs);
    if (option.everyMs >= leaseMs) {
      throw new ConfigError('heartbeat.everyMs', `must be shorter than leaseMs (${leaseMs}), or the lease lapses between two beats; got ${option.everyMs}`);
    }
    this.everyMs = option.everyMs;
  }

  /**
   * Starts the heartbeat of `claim`, acquired with a lease of `leaseMs`; a no-op heartbeat when the
   * option is off. The beats update `claim.leaseExpiresAt` and `claim.leaseExtendedAt`.
   */
  start(claim: ActiveClaim, leaseMs: number): Heartbeat {
    if (!this.enabled) return NO_HEARTBEAT;
    // An interval as long as the lease would beat only after the claim lapsed.
    const everyMs = this.everyMs !== undefined && this.everyMs < leaseMs ? this.everyMs : Math.max(1, Math.floor(leaseMs / 3));
    const stopped = new AbortController();
    void this.beat(claim, leaseMs, everyMs, stopped.signal).catch(() => undefined);
    return { stop: () => stopped.abort() };
  }

  private async beat(claim: ActiveClaim, leaseMs: number, everyMs: number, stopped: AbortSignal): Promise<void> {
    const held = { also: claim.also };
    while (!stopped.aborted) {
      try {
        await this.sleep(everyMs, stopped);
      } catch {
        return; // stopped while asleep
      }
      if (stopped.aborted || !(await this.extend(claim, held, leaseMs, stopped))) return;
    }
  }

  /** One beat; false when the claim is lost (or the heartbeat stopped) and beating must end. */
  private async extend(claim: ActiveClaim, held: { also: IdentityToken[] | undefined }, leaseMs: number, stopped: AbortSignal): Promise<boolean> {
    const { store, reporter, clock } = this.settings;
    for (;;) {
      const sentAt = clock();
      try {
        const also = held.also;
        await store.extendLease({ key: claim.key, fencingToken: claim.fencingToken, leaseMs, ...(also?.length ? { also } : {}) });
        claim.leaseExtendedAt = sentAt;
        // Counted from when the request left: the store's lease runs at least that long.
        claim.leaseExpiresAt = sentAt + leaseMs;
        return true;
      } catch (error) {
        // A completion or release that overtook the beat refuses it: that is no loss.
        if (stopped.aborted) return false;
        if (error instanceof LeaseLostError && error.key !== claim.key && held.also?.some((identity) => identity.key === error.key)) {
          // As when completing: an `anyOf` identity taken over is dropped; the rest must not lapse.
          reporter.warn('idempotency: one identity of the claim was taken over; extending the others', claim.key);
          held.also = held.also.filter((identity) => identity.key !== error.key);
          continue;
        }
        if (error instanceof LeaseLostError) {
          reporter.warn('idempotency: lease lost while the handler runs; heartbeat stopped, its result will not be recorded', claim.key, {
            fencingToken: claim.fencingToken,
            currentToken: error.current?.fencingToken,
          });
          return false;
        }
        // The lease still runs for a while: the next beat may land.
        reporter.warn('idempotency: could not extend the lease; trying again at the next heartbeat', claim.key, {
          error: describeError(error),
        });
        return true;
      }
    }
  }
}
